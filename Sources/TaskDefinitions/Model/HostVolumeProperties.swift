/// The host side of a bind-mount volume.
public struct HostVolumeProperties: Hashable, Sendable {
    /// Absolute path on the host.
    public var sourcePath: String?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates host volume properties.
    public init(sourcePath: String? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.sourcePath = sourcePath
        self.unknownFields = unknownFields
    }
}

extension HostVolumeProperties: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case sourcePath }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sourcePath = try container.decodeIfPresent(String.self, forKey: .sourcePath)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sourcePath, forKey: .sourcePath)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
