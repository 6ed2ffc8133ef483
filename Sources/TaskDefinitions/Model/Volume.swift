/// A task volume that containers mount through ``MountPoint``s.
public struct Volume: Hashable, Sendable {
    /// Unique within the task; mount points refer to it as `sourceVolume`.
    public var name: String?
    /// A bind mount of a host path; absent means a task-scoped scratch volume.
    public var host: HostVolumeProperties?
    /// Fields this type does not model (`dockerVolumeConfiguration`, `efsVolumeConfiguration`, ...), kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a volume.
    public init(name: String?, host: HostVolumeProperties? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.name = name
        self.host = host
        self.unknownFields = unknownFields
    }
}

extension Volume: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, host }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        host = try container.decodeIfPresent(HostVolumeProperties.self, forKey: .host)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(host, forKey: .host)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
