public import ECSVocabulary

/// What the scheduler decided: the control plane applies all of it in one write transaction, or none of it.
///
/// - Important: apply a plan only if the store is still at ``baseIndex``; otherwise discard it and plan again on a
///   fresh snapshot. The scheduler assumed nothing changed since the snapshot was read.
public struct Plan: Hashable, Sendable {
    /// The snapshot index the plan was computed from.
    public var baseIndex: UInt64
    /// Tasks to start, each bound to an instance.
    public var placements: [TaskPlacement] = []
    /// Tasks to stop (desiredStatus → STOPPED), each with ECS's stoppedReason.
    public var stops: [TaskStop] = []
    /// Deployment state changes (COMPLETED, FAILED, INACTIVE) and rollbacks to start.
    public var deploymentUpdates: [DeploymentUpdate] = []
    /// Tasks that could not be placed, with the reasons per instance.
    public var unplaced: [PlacementFailure] = []
    /// Service events to record, in ECS's wording.
    public var events: [ServiceEvent] = []

    public init(baseIndex: UInt64) { self.baseIndex = baseIndex }

    /// Whether the plan changes nothing.
    public var isEmpty: Bool { placements.isEmpty && stops.isEmpty && deploymentUpdates.isEmpty }
}

/// One task to start on one instance.
public struct TaskPlacement: Hashable, Sendable {
    public var containerInstanceArn: String
    public var group: String
    public var taskDefinitionArn: String
    /// The service's name, nil for RunTask placements.
    public var serviceName: String?
    public var deploymentId: String?
    /// The static host ports the task reserved on the instance.
    public var hostPorts: [HostPort]

    public init(
        containerInstanceArn: String, group: String, taskDefinitionArn: String, serviceName: String?,
        deploymentId: String?, hostPorts: [HostPort]
    ) {
        self.containerInstanceArn = containerInstanceArn
        self.group = group
        self.taskDefinitionArn = taskDefinitionArn
        self.serviceName = serviceName
        self.deploymentId = deploymentId
        self.hostPorts = hostPorts
    }
}

/// Why the scheduler stops a task; `stoppedReason` is ECS's text.
public enum StopReason: Hashable, Sendable {
    /// Scale-in, or a replaced task of an older deployment.
    case scaledIn
    /// Replaced because its instance is DRAINING.
    case instanceDraining
    /// Its agent stopped answering.
    case agentDisconnected
    /// Failed its container health checks past the grace period.
    case unhealthy
    /// Failed the named load balancer's health checks past the grace period.
    case failedLoadBalancerHealthChecks(String)
    /// Its deployment failed and was rolled back or abandoned.
    case deploymentFailed

    public var stoppedReason: String {
        switch self {
        case .scaledIn: "Scaling activity initiated by (deployment)"
        case .instanceDraining:
            "Service tasks on the container instance are being replaced because the instance is DRAINING"
        case .agentDisconnected: "Task stopped because the container instance agent is disconnected"
        case .unhealthy: "Task failed container health checks"
        case .failedLoadBalancerHealthChecks(let name): "Task failed ELB health checks in (load-balancer \(name))"
        case .deploymentFailed: "Task stopped because its deployment failed"
        }
    }
}

/// One task to stop.
public struct TaskStop: Hashable, Sendable {
    public var taskArn: String
    public var serviceName: String?
    public var reason: StopReason
    /// The PRIMARY deployment whose scaling activity stops the task; ECS names it in the scale-in reason.
    public var deploymentId: String?

    public init(taskArn: String, serviceName: String?, reason: StopReason, deploymentId: String? = nil) {
        self.taskArn = taskArn
        self.serviceName = serviceName
        self.reason = reason
        self.deploymentId = deploymentId
    }

    /// ECS's `stoppedReason`: "Scaling activity initiated by (deployment ecs-svc/…)" for a scale-in.
    public var stoppedReason: String {
        guard reason == .scaledIn, let deploymentId else { return reason.stoppedReason }
        return "Scaling activity initiated by (deployment \(deploymentId))"
    }
    /// ECS `stopCode` to record.
    public var stopCode: StopCode { .serviceSchedulerInitiated }
}

/// A change to one deployment.
public struct DeploymentUpdate: Hashable, Sendable {
    public var serviceName: String
    public var deploymentId: String
    /// New status, when it changes (ACTIVE/PRIMARY → INACTIVE).
    public var status: DeploymentStatus?
    /// New rollout state, when it changes.
    public var rolloutState: RolloutState?
    public var rolloutStateReason: String?
    /// Set when the circuit breaker rolls back: the control plane creates a new PRIMARY deployment with this
    /// task definition (from the last COMPLETED deployment) and demotes the failed one.
    public var rollbackToTaskDefinitionArn: String?
    /// With a rollback, the COMPLETED deployment rolled back to. Its live tasks run that task definition already:
    /// the new PRIMARY deployment takes them over (their `startedBy` becomes its id) instead of replacing them, as
    /// Kubernetes scales an earlier ReplicaSet back up; only the tasks it lacks are started.
    public var rollbackToDeploymentId: String?

    public init(
        serviceName: String, deploymentId: String, status: DeploymentStatus? = nil, rolloutState: RolloutState? = nil,
        rolloutStateReason: String? = nil, rollbackToTaskDefinitionArn: String? = nil,
        rollbackToDeploymentId: String? = nil
    ) {
        self.serviceName = serviceName
        self.deploymentId = deploymentId
        self.status = status
        self.rolloutState = rolloutState
        self.rolloutStateReason = rolloutStateReason
        self.rollbackToTaskDefinitionArn = rollbackToTaskDefinitionArn
        self.rollbackToDeploymentId = rollbackToDeploymentId
    }
}

/// A service event, worded as ECS words it.
public struct ServiceEvent: Hashable, Sendable {
    public var serviceName: String
    public var message: String

    public init(serviceName: String, message: String) {
        self.serviceName = serviceName
        self.message = message
    }
}
