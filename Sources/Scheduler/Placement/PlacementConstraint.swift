/// An ECS placement constraint, with its expression already parsed.
///
/// Build it with ``init(type:expression:)``, which the API calls at CreateService/RunTask time: a malformed
/// expression is refused there, never discovered while planning.
public struct PlacementConstraint: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case distinctInstance
        case memberOf
    }

    public var kind: Kind
    /// The memberOf expression (nil for distinctInstance).
    public var expression: ConstraintExpression?

    /// Each task of the group on a different instance.
    public static let distinctInstance = PlacementConstraint(kind: .distinctInstance, expression: nil)

    /// Instances matching `expression`.
    public static func memberOf(_ expression: String) throws(PlacementConfigurationError) -> PlacementConstraint {
        try PlacementConstraint(type: "memberOf", expression: expression)
    }

    private init(kind: Kind, expression: ConstraintExpression?) {
        self.kind = kind
        self.expression = expression
    }

    /// Parses an ECS `placementConstraints[]` entry (`type` and `expression` as the API receives them).
    public init(type: String, expression: String?) throws(PlacementConfigurationError) {
        switch type {
        case "distinctInstance":
            if let expression, !expression.isEmpty {
                throw .invalidConstraint("distinctInstance takes no expression, got '\(expression)'")
            }
            self.init(kind: .distinctInstance, expression: nil)
        case "memberOf":
            guard let expression, !expression.trimmingWhitespace.isEmpty else {
                throw .invalidConstraint("memberOf requires an expression")
            }
            do {
                self.init(kind: .memberOf, expression: try ConstraintExpression(parsing: expression))
            } catch {
                throw .invalidExpression(error)
            }
        default:
            throw .invalidConstraint("type must be distinctInstance or memberOf, got '\(type)'")
        }
    }
}

/// Why placement constraints or strategies were refused; `message` is the text the API returns.
public enum PlacementConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidConstraint(String)
    case invalidExpression(ConstraintExpressionError)
    case invalidStrategy(String)
    case tooMany(String)

    public var description: String {
        switch self {
        case .invalidConstraint(let message): "Invalid placement constraint: \(message)"
        case .invalidExpression(let error): error.description
        case .invalidStrategy(let message): "Invalid placement strategy: \(message)"
        case .tooMany(let message): message
        }
    }
}

extension Scheduler {
    /// Validates a service's or RunTask's placement settings as ECS does (the API calls this before storing anything).
    ///
    /// ECS allows at most 10 constraints and 5 strategies.
    public static func validatePlacement(
        constraints: [(type: String, expression: String?)],
        strategy: [(type: String, field: String?)]
    )
        throws(PlacementConfigurationError) -> ([PlacementConstraint], [PlacementStrategy])
    {
        guard constraints.count <= 10 else {
            throw .tooMany("At most 10 placement constraints are allowed, got \(constraints.count)")
        }
        guard strategy.count <= 5 else {
            throw .tooMany("At most 5 placement strategies are allowed, got \(strategy.count)")
        }
        var parsedConstraints: [PlacementConstraint] = []
        for entry in constraints {
            parsedConstraints.append(try PlacementConstraint(type: entry.type, expression: entry.expression))
        }
        var parsedStrategy: [PlacementStrategy] = []
        for entry in strategy { parsedStrategy.append(try PlacementStrategy(type: entry.type, field: entry.field)) }
        return (parsedConstraints, parsedStrategy)
    }
}

extension String {
    var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
