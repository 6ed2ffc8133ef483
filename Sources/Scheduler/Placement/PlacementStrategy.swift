/// An ECS placement strategy; a list of them applies in order, each breaking the ties of the one before.
public enum PlacementStrategy: Hashable, Sendable {
    /// Leave the least of this resource unused: pick the instance with the least remaining.
    case binpack(BinpackField)
    /// Balance the group's tasks over the values of this field.
    case spread(SpreadField)
    /// Any feasible instance, uniformly at random (from the generator given to the scheduler).
    case random

    public enum BinpackField: String, Hashable, Sendable {
        case cpu, memory
    }

    public enum SpreadField: Hashable, Sendable {
        /// One bucket per instance (`instanceId`, or ECS's `host`).
        case instanceId
        /// One bucket per value of the attribute (`attribute:ecs.availability-zone`).
        case attribute(String)
    }

    /// ECS's default for services: spread over availability zones, then over instances.
    public static let serviceDefault: [PlacementStrategy] = [
        .spread(.attribute("ecs.availability-zone")), .spread(.instanceId),
    ]

    /// Parses an ECS `placementStrategy[]` entry (`type` and `field` as the API receives them).
    public init(type: String, field: String?) throws(PlacementConfigurationError) {
        switch type {
        case "binpack":
            guard let field, let resource = BinpackField(rawValue: field.lowercased()) else {
                throw .invalidStrategy("binpack field must be cpu or memory, got '\(field ?? "")'")
            }
            self = .binpack(resource)
        case "spread":
            guard let field, !field.isEmpty else { throw .invalidStrategy("spread requires a field") }
            switch field {
            case "instanceId", "host": self = .spread(.instanceId)
            default:
                guard field.hasPrefix("attribute:"), field.count > "attribute:".count else {
                    throw .invalidStrategy("spread field must be instanceId, host or attribute:<name>, got '\(field)'")
                }
                self = .spread(.attribute(String(field.dropFirst("attribute:".count))))
            }
        case "random":
            if let field, !field.isEmpty { throw .invalidStrategy("random takes no field, got '\(field)'") }
            self = .random
        default:
            throw .invalidStrategy("type must be binpack, spread or random, got '\(type)'")
        }
    }
}
