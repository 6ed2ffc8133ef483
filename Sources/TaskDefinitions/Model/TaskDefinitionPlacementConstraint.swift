/// A placement constraint carried by the task definition: only `memberOf` with a cluster query expression.
public struct TaskDefinitionPlacementConstraint: Codable, Hashable, Sendable {
    /// `memberOf`.
    public var type: String?
    /// A cluster query, e.g. `attribute:ecs.instance-type =~ t3.*`.
    public var expression: String?

    /// Creates a placement constraint.
    public init(type: String?, expression: String? = nil) { self.type = type; self.expression = expression }
}
