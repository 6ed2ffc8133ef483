/// A tmpfs mount inside the container.
public struct Tmpfs: Hashable, Sendable {
    /// Absolute path inside the container.
    public var containerPath: String
    /// Size in MiB.
    public var size: Int
    /// Mount options such as `noexec`.
    public var mountOptions: [String]?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a tmpfs mount.
    public init(
        containerPath: String, size: Int, mountOptions: [String]? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.containerPath = containerPath
        self.size = size
        self.mountOptions = mountOptions
        self.unknownFields = unknownFields
    }
}

extension Tmpfs: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case containerPath, size, mountOptions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containerPath = try container.decode(String.self, forKey: .containerPath)
        size = try container.decodeInteger(forKey: .size)
        mountOptions = try container.decodeIfPresent([String].self, forKey: .mountOptions)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(containerPath, forKey: .containerPath)
        try container.encode(size, forKey: .size)
        try container.encodeIfPresent(mountOptions, forKey: .mountOptions)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
