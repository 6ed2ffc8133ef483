/// A line added to the container's `/etc/hosts`.
public struct HostEntry: Hashable, Sendable {
    /// The name to resolve.
    public var hostname: String
    /// The address it resolves to.
    public var ipAddress: String
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates an `/etc/hosts` entry.
    public init(hostname: String, ipAddress: String, unknownFields: [String: JSONValue] = [:]) {
        self.hostname = hostname
        self.ipAddress = ipAddress
        self.unknownFields = unknownFields
    }
}

extension HostEntry: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case hostname, ipAddress }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hostname = try container.decode(String.self, forKey: .hostname)
        ipAddress = try container.decode(String.self, forKey: .ipAddress)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hostname, forKey: .hostname)
        try container.encode(ipAddress, forKey: .ipAddress)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
