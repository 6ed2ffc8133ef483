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

/// The host side of a bind-mount volume.
public struct HostVolumeProperties: Codable, Hashable, Sendable {
    /// Absolute path on the host.
    public var sourcePath: String?

    /// Creates host volume properties.
    public init(sourcePath: String? = nil) { self.sourcePath = sourcePath }
}

/// A volume mounted into a container.
public struct MountPoint: Codable, Hashable, Sendable {
    /// The ``Volume/name`` of a task volume.
    public var sourceVolume: String?
    /// Absolute path inside the container.
    public var containerPath: String?
    /// Mount read-only.
    public var readOnly: Bool?

    /// Creates a mount point.
    public init(sourceVolume: String? = nil, containerPath: String? = nil, readOnly: Bool? = nil) {
        self.sourceVolume = sourceVolume
        self.containerPath = containerPath
        self.readOnly = readOnly
    }
}

/// Mounts every volume of another container of the task.
public struct VolumeFrom: Codable, Hashable, Sendable {
    /// The container whose volumes are mounted.
    public var sourceContainer: String?
    /// Mount read-only.
    public var readOnly: Bool?

    /// Creates a volumes-from entry.
    public init(sourceContainer: String? = nil, readOnly: Bool? = nil) {
        self.sourceContainer = sourceContainer
        self.readOnly = readOnly
    }
}
