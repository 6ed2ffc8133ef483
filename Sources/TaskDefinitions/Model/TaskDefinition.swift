public import Foundation

/// An ECS task definition: the JSON users register, with ECS's field names.
///
/// Decoding keeps every field this type does not model in ``unknownFields`` and writes it back on encoding, so a
/// definition round-trips unchanged. Defaults (`essential`, health-check timings, the network mode) are computed
/// properties in `Defaults.swift`; the stored values are exactly what the user sent.
public struct TaskDefinition: Hashable, Sendable {
    /// The family name; registering a family again makes a new revision. Required.
    public var family: String
    /// The IAM role the containers assume (kept for ECS compatibility).
    public var taskRoleArn: String?
    /// The IAM role the agent uses to pull images and read secrets (kept for ECS compatibility).
    public var executionRoleArn: String?
    /// bridge, host, awsvpc or none; absent means bridge (see ``resolvedNetworkMode``).
    public var networkMode: NetworkMode?
    /// Task-level CPU as ECS accepts it: "256", "1 vCPU", "0.5 vcpu". See ``cpuUnits``.
    public var cpu: String?
    /// Task-level memory as ECS accepts it: "512", "1 GB", "0.5GB". See ``memoryMiB``.
    public var memory: String?
    /// Launch types the definition is meant for: "EC2", "EXTERNAL", "FARGATE".
    public var requiresCompatibilities: [String]?
    /// Volumes the containers can mount.
    public var volumes: [Volume]?
    /// Constraints on where the task may be placed, on top of the service's.
    public var placementConstraints: [TaskDefinitionPlacementConstraint]?
    /// Tags on the task definition.
    public var tags: [Tag]?
    /// The containers of the task: 1 to 10. Required.
    public var containerDefinitions: [ContainerDefinition]

    // Registration metadata, set by the control plane, never by the user. Input values are tolerated, not trusted.
    public var taskDefinitionArn: String?
    /// The revision within the family: 1 for the first registration, N+1 for the next.
    public var revision: Int?
    /// ACTIVE, or INACTIVE once deregistered.
    public var status: String?
    /// When the revision was registered.
    public var registeredAt: Date?
    /// When the revision was deregistered.
    public var deregisteredAt: Date?

    /// Fields this type does not model, kept verbatim through decode and encode.
    public var unknownFields: [String: JSONValue]

    /// Creates a task definition; every field but the family and the containers is optional.
    public init(
        family: String, taskRoleArn: String? = nil, executionRoleArn: String? = nil,
        networkMode: NetworkMode? = nil, cpu: String? = nil, memory: String? = nil,
        requiresCompatibilities: [String]? = nil, volumes: [Volume]? = nil,
        placementConstraints: [TaskDefinitionPlacementConstraint]? = nil, tags: [Tag]? = nil,
        containerDefinitions: [ContainerDefinition], unknownFields: [String: JSONValue] = [:]
    ) {
        self.family = family
        self.taskRoleArn = taskRoleArn
        self.executionRoleArn = executionRoleArn
        self.networkMode = networkMode
        self.cpu = cpu
        self.memory = memory
        self.requiresCompatibilities = requiresCompatibilities
        self.volumes = volumes
        self.placementConstraints = placementConstraints
        self.tags = tags
        self.containerDefinitions = containerDefinitions
        self.unknownFields = unknownFields
    }
}

extension TaskDefinition: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case family, taskRoleArn, executionRoleArn, networkMode, cpu, memory, requiresCompatibilities, volumes
        case placementConstraints, tags, containerDefinitions
        case taskDefinitionArn, revision, status, registeredAt, deregisteredAt
    }

    /// Creates a task definition; every field but the family and the containers is optional.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // A missing family or container list is a rule broken, reported with every other issue by validation.
        family = try container.decodeIfPresent(String.self, forKey: .family) ?? ""
        taskRoleArn = try container.decodeIfPresent(String.self, forKey: .taskRoleArn)
        executionRoleArn = try container.decodeIfPresent(String.self, forKey: .executionRoleArn)
        networkMode = try container.decodeIfPresent(NetworkMode.self, forKey: .networkMode)
        cpu = try container.decodeStringOrNumberIfPresent(forKey: .cpu)
        memory = try container.decodeStringOrNumberIfPresent(forKey: .memory)
        requiresCompatibilities = try container.decodeIfPresent([String].self, forKey: .requiresCompatibilities)
        volumes = try container.decodeIfPresent([Volume].self, forKey: .volumes)
        placementConstraints = try container.decodeIfPresent(
            [TaskDefinitionPlacementConstraint].self,
            forKey: .placementConstraints)
        tags = try container.decodeIfPresent([Tag].self, forKey: .tags)
        containerDefinitions =
            try container.decodeIfPresent(
                [ContainerDefinition].self,
                forKey: .containerDefinitions) ?? []
        // Metadata copied from a DescribeTaskDefinition answer must not make registration fail: the control plane
        // overwrites it, so a value of the wrong shape is dropped instead of refused.
        taskDefinitionArn = try? container.decodeIfPresent(String.self, forKey: .taskDefinitionArn)
        revision = try? container.decodeIfPresent(Int.self, forKey: .revision)
        status = try? container.decodeIfPresent(String.self, forKey: .status)
        registeredAt = container.decodeEpochDateIfPresent(forKey: .registeredAt)
        deregisteredAt = container.decodeEpochDateIfPresent(forKey: .deregisteredAt)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(family, forKey: .family)
        try container.encodeIfPresent(taskRoleArn, forKey: .taskRoleArn)
        try container.encodeIfPresent(executionRoleArn, forKey: .executionRoleArn)
        try container.encodeIfPresent(networkMode, forKey: .networkMode)
        try container.encodeIfPresent(cpu, forKey: .cpu)
        try container.encodeIfPresent(memory, forKey: .memory)
        try container.encodeIfPresent(requiresCompatibilities, forKey: .requiresCompatibilities)
        try container.encodeIfPresent(volumes, forKey: .volumes)
        try container.encodeIfPresent(placementConstraints, forKey: .placementConstraints)
        try container.encodeIfPresent(tags, forKey: .tags)
        try container.encode(containerDefinitions, forKey: .containerDefinitions)
        try container.encodeIfPresent(taskDefinitionArn, forKey: .taskDefinitionArn)
        try container.encodeIfPresent(revision, forKey: .revision)
        try container.encodeIfPresent(status, forKey: .status)
        // ECS sends timestamps as epoch seconds whatever the encoder's date strategy is.
        try container.encodeIfPresent(registeredAt?.timeIntervalSince1970, forKey: .registeredAt)
        try container.encodeIfPresent(deregisteredAt?.timeIntervalSince1970, forKey: .deregisteredAt)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}

extension KeyedDecodingContainer {
    /// A string field that users also write as a bare number (`"cpu": 256`), kept as the string ECS stores.
    func decodeStringOrNumberIfPresent(forKey key: Key) throws -> String? {
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return String(number) }
        return try decodeIfPresent(String.self, forKey: key)
    }

    /// An ECS timestamp: epoch seconds, or an ISO 8601 string as the AWS CLI prints it; nil when neither.
    func decodeEpochDateIfPresent(forKey key: Key) -> Date? {
        if let seconds = try? decodeIfPresent(Double.self, forKey: key) {
            return Date(timeIntervalSince1970: seconds)
        }
        guard let text = try? decodeIfPresent(String.self, forKey: key) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
