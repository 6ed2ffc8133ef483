import Scheduler
public import TaskDefinitions

/// Checks `placementConstraints` and `placementStrategy` of CreateService, UpdateService and RunTask with the
/// scheduler's own parser, so a malformed expression is refused when it is given, not when a task is placed.
public enum PlacementRules {
    /// Each constraint and strategy entry in its ECS shape, each expression parsed; the error names the entry.
    public static func check(constraints: [JSONValue]?, strategy: [JSONValue]?) throws(ECSError) {
        let parsedConstraints = try entries(constraints, field: "placementConstraints", detail: "expression")
        let parsedStrategy = try entries(strategy, field: "placementStrategy", detail: "field")
        // Each expression on its own first, so the message names the entry (and a long or deep one is refused
        // before anything else looks at it).
        for (index, entry) in parsedConstraints.enumerated() {
            do throws(PlacementConfigurationError) {
                _ = try PlacementConstraint(type: entry.type, expression: entry.detail)
            } catch {
                let field =
                    if case .invalidExpression = error { "placementConstraints[\(index)].expression" } else {
                        "placementConstraints[\(index)]"
                    }
                throw .invalidParameter("\(field): \(error.description)")
            }
        }
        do {
            _ = try Scheduler.validatePlacement(
                constraints: parsedConstraints.map { (type: $0.type, expression: $0.detail) },
                strategy: parsedStrategy.map { (type: $0.type, field: $0.detail) })
        } catch {
            throw .invalidParameter(error.description)
        }
    }

    /// The `(type, expression|field)` pairs of a list of ECS placement objects; a wrong shape names its index.
    private static func entries(
        _ list: [JSONValue]?, field: String, detail: String
    )
        throws(ECSError) -> [(type: String, detail: String?)]
    {
        var result: [(type: String, detail: String?)] = []
        for (index, entry) in (list ?? []).enumerated() {
            guard let object = entry.objectValue else {
                throw .invalidParameter("\(field)[\(index)]: expected an object with type and \(detail).")
            }
            guard let type = object["type"]?.stringValue else {
                throw .invalidParameter("\(field)[\(index)].type: is required and must be a string.")
            }
            let value = object[detail]
            if let value, value != .null, value.stringValue == nil {
                throw .invalidParameter("\(field)[\(index)].\(detail): must be a string.")
            }
            result.append((type: type, detail: value?.stringValue))
        }
        return result
    }
}
