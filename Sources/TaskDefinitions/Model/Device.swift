/// A host device exposed to the container (ECS `linuxParameters.devices[]`).
public struct Device: Hashable, Sendable {
    /// The device node on the host, e.g. `/dev/fuse`. Required.
    public var hostPath: String
    /// Where the node appears in the container; ECS defaults it to `hostPath`.
    public var containerPath: String?
    /// What the container may do with it: `read`, `write`, `mknod`. Absent or empty means all three (Docker's `rwm`).
    public var permissions: [String]?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a device entry.
    public init(
        hostPath: String, containerPath: String? = nil, permissions: [String]? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.permissions = permissions
        self.unknownFields = unknownFields
    }

    /// The permission names ECS accepts.
    public static let knownPermissions: [String] = ["read", "write", "mknod"]

    /// `containerPath`, or `hostPath` when absent (ECS's default).
    public var effectiveContainerPath: String { containerPath ?? hostPath }
}

extension Device: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case hostPath, containerPath, permissions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hostPath = try container.decode(String.self, forKey: .hostPath)
        containerPath = try container.decodeIfPresent(String.self, forKey: .containerPath)
        permissions = try container.decodeIfPresent([String].self, forKey: .permissions)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hostPath, forKey: .hostPath)
        try container.encodeIfPresent(containerPath, forKey: .containerPath)
        try container.encodeIfPresent(permissions, forKey: .permissions)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
