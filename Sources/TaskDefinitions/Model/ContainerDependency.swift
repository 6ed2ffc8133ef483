/// A start-order dependency: this container starts only once `containerName` reaches `condition`.
public struct ContainerDependency: Hashable, Sendable {
    /// The container waited for.
    public var containerName: String
    /// What it must reach first.
    public var condition: ContainerCondition
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a dependency.
    public init(containerName: String, condition: ContainerCondition, unknownFields: [String: JSONValue] = [:]) {
        self.containerName = containerName
        self.condition = condition
        self.unknownFields = unknownFields
    }
}

extension ContainerDependency: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case containerName, condition }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containerName = try container.decode(String.self, forKey: .containerName)
        condition = try container.decode(ContainerCondition.self, forKey: .condition)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(containerName, forKey: .containerName)
        try container.encode(condition, forKey: .condition)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}

/// What a dependency waits for.
public enum ContainerCondition: String, Codable, Hashable, Sendable, CaseIterable {
    /// The dependency has started.
    case start = "START"
    /// The dependency has exited, whatever its exit code. Only for non-essential containers.
    case complete = "COMPLETE"
    /// The dependency has exited with code 0. Only for non-essential containers.
    case success = "SUCCESS"
    /// The dependency's health check passes.
    case healthy = "HEALTHY"  // not an ECS status: a dependsOn condition, TaskDefinitions' own vocabulary

    /// Creates a dependency.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let condition = ContainerCondition(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        self = condition
    }
}
