/// A volume mounted into a container.
public struct MountPoint: Hashable, Sendable {
    /// The ``Volume/name`` of a task volume.
    public var sourceVolume: String?
    /// Absolute path inside the container.
    public var containerPath: String?
    /// Mount read-only.
    public var readOnly: Bool?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a mount point.
    public init(
        sourceVolume: String? = nil, containerPath: String? = nil, readOnly: Bool? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.sourceVolume = sourceVolume
        self.containerPath = containerPath
        self.readOnly = readOnly
        self.unknownFields = unknownFields
    }
}

extension MountPoint: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case sourceVolume, containerPath, readOnly }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sourceVolume = try container.decodeIfPresent(String.self, forKey: .sourceVolume)
        containerPath = try container.decodeIfPresent(String.self, forKey: .containerPath)
        readOnly = try container.decodeIfPresent(Bool.self, forKey: .readOnly)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sourceVolume, forKey: .sourceVolume)
        try container.encodeIfPresent(containerPath, forKey: .containerPath)
        try container.encodeIfPresent(readOnly, forKey: .readOnly)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
