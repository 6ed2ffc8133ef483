import ECSVocabulary
/// Why one instance cannot take a task, in ECS's words.
public enum PlacementRejection: Hashable, Sendable {
    case draining
    case agentDisconnected
    case distinctInstance
    case memberOf(ConstraintExpression)
    case insufficientCPU
    case insufficientMemory
    case portInUse(HostPort)

    /// The phrase ECS puts after "The closest matching (container-instance <id>)".
    public var eventText: String {
        switch self {
        case .draining: "is in DRAINING status"
        case .agentDisconnected: "encountered error \"AGENT\""
        case .distinctInstance, .memberOf: "did not match the placement constraint"
        case .insufficientCPU: "has insufficient CPU units available"
        case .insufficientMemory: "has insufficient memory available"
        case .portInUse: "is already using a port required by your task"
        }
    }

    /// The `failures[].reason` ECS's RunTask returns for the instance.
    public var runTaskReason: String {
        switch self {
        case .draining: ContainerInstanceStatus.draining.rawValue
        case .agentDisconnected: "AGENT"
        case .distinctInstance: "DistinctInstance placement constraint unsatisfied."
        case .memberOf: "MemberOf placement constraint unsatisfied."
        case .insufficientCPU: "RESOURCE:CPU"
        case .insufficientMemory: "RESOURCE:MEMORY"
        case .portInUse: "RESOURCE:PORTS"
        }
    }

    /// How far from fitting a rejection is: an instance that only lacks memory is closer than one that is draining.
    var distance: Int {
        switch self {
        case .draining, .agentDisconnected: 100
        case .distinctInstance, .memberOf: 10
        case .insufficientCPU, .insufficientMemory, .portInUse: 1
        }
    }
}

/// Every reason one instance was rejected.
public struct InstanceRejection: Hashable, Sendable {
    public var containerInstanceArn: String
    public var reasons: [PlacementRejection]
}

/// Tasks of one request that fit nowhere, and why.
public struct PlacementFailure: Hashable, Sendable {
    public var group: String
    public var serviceName: String?
    public var taskDefinitionArn: String
    /// How many tasks of the request were left unplaced.
    public var count: Int
    /// The reasons per instance, in snapshot order.
    public var rejections: [InstanceRejection]

    /// The instance that came closest (fewest and mildest reasons), the one the service event quotes.
    public var closestMatch: InstanceRejection? {
        rejections.min { lhs, rhs in
            lhs.reasons.reduce(0) { $0 + $1.distance } < rhs.reasons.reduce(0) { $0 + $1.distance }
        }
    }

    /// ECS's service event for the failure.
    public func eventMessage(serviceName: String) -> String {
        let prefix =
            "(service \(serviceName)) was unable to place a task because no container instance met all of its requirements."
        let suffix = "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
        guard let closest = closestMatch, let reason = closest.reasons.min(by: { $0.distance > $1.distance }) else {
            return "\(prefix) Reason: No Container Instances were found in your cluster. \(suffix)"
        }
        let instanceID =
            closest.containerInstanceArn.split(separator: "/").last.map(String.init) ?? closest.containerInstanceArn
        return "\(prefix) The closest matching (container-instance \(instanceID)) \(reason.eventText). \(suffix)"
    }
}
