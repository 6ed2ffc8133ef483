/// A placement constraint carried by the task definition: only `memberOf` with a cluster query expression.
public struct TaskDefinitionPlacementConstraint: Hashable, Sendable {
    /// `memberOf`.
    public var type: String?
    /// A cluster query, e.g. `attribute:ecs.instance-type =~ t3.*`.
    public var expression: String?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a placement constraint.
    public init(type: String?, expression: String? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.type = type
        self.expression = expression
        self.unknownFields = unknownFields
    }
}

extension TaskDefinitionPlacementConstraint: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case `type`, expression }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        `type` = try container.decodeIfPresent(String.self, forKey: .type)
        expression = try container.decodeIfPresent(String.self, forKey: .expression)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(expression, forKey: .expression)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
