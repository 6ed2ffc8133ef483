public import ECSVocabulary
public import Foundation

/// Everything the scheduler may look at: one consistent read of a cluster, taken by the control plane.
///
/// The scheduler never reads anything else. `baseIndex` is the store index the snapshot was read at; it comes back
/// in ``Plan/baseIndex`` so the control plane can refuse to apply a plan computed on stale state and re-plan.
public struct ClusterSnapshot: Hashable, Sendable {
    /// The store index this snapshot was read at.
    public var baseIndex: UInt64
    /// The cluster the snapshot covers.
    public var clusterName: String
    public var instances: [InstanceSnapshot]
    /// Tasks the cluster knows: running ones, pending ones, and recently stopped ones (the circuit breaker counts those).
    public var tasks: [TaskSnapshot]
    /// Services of the cluster, each reconciled by `Scheduler.plan`.
    public var services: [ServiceSnapshot]

    public init(
        baseIndex: UInt64, clusterName: String, instances: [InstanceSnapshot], tasks: [TaskSnapshot] = [],
        services: [ServiceSnapshot] = []
    ) {
        self.baseIndex = baseIndex
        self.clusterName = clusterName
        self.instances = instances
        self.tasks = tasks
        self.services = services
    }
}

/// Transport protocol of a host port.
public enum TransportProtocol: String, Hashable, Sendable, Codable {
    case tcp, udp
}

/// A host port on one instance, per protocol: tcp/80 and udp/80 do not conflict.
public struct HostPort: Hashable, Sendable, Codable, CustomStringConvertible {
    public var port: Int
    public var `protocol`: TransportProtocol
    public init(_ port: Int, _ protocol: TransportProtocol = .tcp) {
        self.port = port
        self.protocol = `protocol`
    }
    public var description: String { "\(port)/\(`protocol`.rawValue)" }
}

/// One container instance (one agent) as the scheduler sees it.
public struct InstanceSnapshot: Hashable, Sendable {
    /// The container-instance ARN: how plans name the instance.
    public var containerInstanceArn: String
    /// The host's instance id (`ec2InstanceId` in ECS); what `spread(instanceId)` and `ec2InstanceId` expressions use.
    public var ec2InstanceId: String
    /// ACTIVE instances take tasks; DRAINING ones have their service tasks replaced.
    public var status: ContainerInstanceStatus
    /// Whether the agent answered within its grace period; tasks on a silent agent are replaced.
    public var agentConnected: Bool
    /// Agent version, for `agentVersion` expressions.
    public var agentVersion: String?
    /// Registration time, for `registeredAt` expressions.
    public var registeredAt: Date?
    /// Registered CPU units (1024 per core) and memory MiB.
    public var registeredCPU: Int
    public var registeredMemoryMiB: Int
    /// What is left after the tasks already on the instance: the control plane computes it as ECS does.
    public var remainingCPU: Int
    public var remainingMemoryMiB: Int
    /// Host ports already bound on the instance (reserved ports included).
    public var portsInUse: Set<HostPort>
    /// Built-in (`ecs.instance-type`, `ecs.availability-zone`, `ecs.os-type`, ...) and custom attributes.
    /// A nil value is an attribute that is present without a value (capabilities).
    public var attributes: [String: String?]
    /// Tasks on the instance in RUNNING or PENDING (ECS's `runningTasksCount` plus pending ones).
    public var runningTasksCount: Int

    public init(
        containerInstanceArn: String, ec2InstanceId: String? = nil, status: ContainerInstanceStatus = .active,
        agentConnected: Bool = true, agentVersion: String? = nil, registeredAt: Date? = nil,
        registeredCPU: Int, registeredMemoryMiB: Int, remainingCPU: Int? = nil, remainingMemoryMiB: Int? = nil,
        portsInUse: Set<HostPort> = [], attributes: [String: String?] = [:], runningTasksCount: Int = 0
    ) {
        self.containerInstanceArn = containerInstanceArn
        self.ec2InstanceId = ec2InstanceId ?? containerInstanceArn
        self.status = status
        self.agentConnected = agentConnected
        self.agentVersion = agentVersion
        self.registeredAt = registeredAt
        self.registeredCPU = registeredCPU
        self.registeredMemoryMiB = registeredMemoryMiB
        self.remainingCPU = remainingCPU ?? registeredCPU
        self.remainingMemoryMiB = remainingMemoryMiB ?? registeredMemoryMiB
        self.portsInUse = portsInUse
        self.attributes = attributes
        self.runningTasksCount = runningTasksCount
    }

    /// Whether new tasks may go here at all: ACTIVE and the agent answering.
    public var acceptsTasks: Bool { status == .active && agentConnected }
}

/// A task's health as seen by the load balancers its service is attached to (ELB's target health, one verdict for
/// all of them).
public enum LoadBalancerHealth: Hashable, Sendable {
    /// Not yet checked often enough by every balancer: the task takes no traffic yet.
    case initial
    /// Every balancer of the service finds it healthy: it takes traffic.
    case healthy
    /// A balancer (named) found it failing.
    case unhealthy(loadBalancerName: String)
}

/// Which health check a task fails.
public enum HealthCheckFailure: Hashable, Sendable {
    /// An essential container's health check.
    case container
    /// The named load balancer's checks of the task's target.
    case loadBalancer(String)
}

/// One task as the store knows it.
public struct TaskSnapshot: Hashable, Sendable {
    /// The task ARN; plans name tasks by it.
    public var taskArn: String
    /// The instance the task was placed on.
    public var containerInstanceArn: String
    /// ECS task group: `service:web` for service tasks, `family:name` or a user group for RunTask.
    public var group: String
    /// The task definition (family:revision ARN) the task runs.
    public var taskDefinitionArn: String
    /// The deployment that started the task (ECS `startedBy` of service tasks), nil for standalone tasks.
    public var deploymentId: String?
    /// Observed status, as the agent last reported it.
    public var lastStatus: TaskStatus
    /// Desired status, RUNNING or STOPPED, as the control plane last wrote it.
    public var desiredStatus: TaskStatus
    /// Container health as the agent reports it.
    public var healthStatus: HealthStatus
    /// Whether an essential container of the task has a health check: then only HEALTHY counts as healthy.
    public var isHealthChecked: Bool
    /// The verdict of the load balancers the task's service is attached to; nil when none checks it.
    public var loadBalancerHealth: LoadBalancerHealth?
    /// When the task reached RUNNING; the health-check grace period counts from here.
    public var startedAt: Date?
    /// When the task was placed.
    public var createdAt: Date?
    /// Why a stopped task stopped; failures count against the circuit breaker.
    public var stopCode: StopCode?

    public init(
        taskArn: String, containerInstanceArn: String, group: String, taskDefinitionArn: String,
        deploymentId: String? = nil, lastStatus: TaskStatus = .running, desiredStatus: TaskStatus = .running,
        healthStatus: HealthStatus = .unknown, isHealthChecked: Bool = false,
        loadBalancerHealth: LoadBalancerHealth? = nil, startedAt: Date? = nil, createdAt: Date? = nil,
        stopCode: StopCode? = nil
    ) {
        self.taskArn = taskArn
        self.containerInstanceArn = containerInstanceArn
        self.group = group
        self.taskDefinitionArn = taskDefinitionArn
        self.deploymentId = deploymentId
        self.lastStatus = lastStatus
        self.desiredStatus = desiredStatus
        self.healthStatus = healthStatus
        self.isHealthChecked = isHealthChecked
        self.loadBalancerHealth = loadBalancerHealth
        self.startedAt = startedAt
        self.createdAt = createdAt
        self.stopCode = stopCode
    }

    /// Desired RUNNING and not yet seen STOPPED: the task occupies its instance.
    public var isLive: Bool { desiredStatus == .running && lastStatus != .stopped }

    /// Healthy as ECS counts tasks for `minimumHealthyPercent`, deployment progress and steady state: RUNNING, HEALTHY
    /// when an essential container has a health check, and a healthy target of every load balancer that checks it.
    /// A task that is merely RUNNING is not healthy yet: counting it would stop the tasks it replaces before it
    /// takes traffic.
    public var isHealthy: Bool {
        guard lastStatus == .running, healthStatus != .unhealthy else { return false }
        if isHealthChecked, healthStatus != .healthy { return false }
        if let loadBalancerHealth, loadBalancerHealth != .healthy { return false }
        return true
    }

    /// The health check the task fails, its containers' or a load balancer's; nil when it fails none.
    public var healthCheckFailure: HealthCheckFailure? {
        if healthStatus == .unhealthy { return .container }
        if case .unhealthy(let name) = loadBalancerHealth { return .loadBalancer(name) }
        return nil
    }

    /// A stopped task that counts against a deployment's circuit breaker.
    public var isFailure: Bool {
        guard lastStatus == .stopped else { return false }
        switch stopCode {
        case .taskFailedToStart, .essentialContainerExited: return true
        default: return healthStatus == .unhealthy
        }
    }
}

/// What one task needs from an instance. The control plane converts task definitions into this.
public struct TaskRequirements: Hashable, Sendable {
    /// CPU units (1024 per vCPU).
    public var cpu: Int
    public var memoryMiB: Int
    /// Static host ports (hostPort > 0 in bridge mode, every containerPort in host mode). Dynamic ports never conflict.
    public var hostPorts: [HostPort]

    public init(cpu: Int, memoryMiB: Int, hostPorts: [HostPort] = []) {
        self.cpu = cpu
        self.memoryMiB = memoryMiB
        self.hostPorts = hostPorts
    }
}

/// One deployment of a service: a task definition being rolled out (PRIMARY) or rolled away from (ACTIVE).
public struct DeploymentSnapshot: Hashable, Sendable {
    /// Deployment id (`ecs-svc/...`), recorded on the tasks it starts.
    public var id: String
    public var status: DeploymentStatus
    /// The task definition (family:revision ARN) the task runs.
    public var taskDefinitionArn: String
    /// What each task of this deployment needs from an instance.
    public var requirements: TaskRequirements
    /// IN_PROGRESS until the scheduler reports COMPLETED or FAILED.
    public var rolloutState: RolloutState
    /// When the deployment was created; the newest COMPLETED one is the rollback target.
    public var createdAt: Date

    public init(
        id: String, status: DeploymentStatus, taskDefinitionArn: String, requirements: TaskRequirements,
        rolloutState: RolloutState = .inProgress, createdAt: Date
    ) {
        self.id = id
        self.status = status
        self.taskDefinitionArn = taskDefinitionArn
        self.requirements = requirements
        self.rolloutState = rolloutState
        self.createdAt = createdAt
    }
}

/// ECS deployment circuit breaker settings.
public struct DeploymentCircuitBreaker: Hashable, Sendable {
    /// Whether failed tasks can fail the deployment.
    public var enable: Bool
    /// Whether a failed deployment rolls back to the last COMPLETED one.
    public var rollback: Bool
    public init(enable: Bool, rollback: Bool) {
        self.enable = enable
        self.rollback = rollback
    }
}

/// ECS `deploymentConfiguration`.
public struct DeploymentConfiguration: Hashable, Sendable {
    /// Healthy tasks never drop below this percent of desiredCount (rounded up) during a deployment.
    public var minimumHealthyPercent: Int
    /// Live tasks never exceed this percent of desiredCount (rounded down).
    public var maximumPercent: Int
    /// The circuit breaker, off when nil.
    public var deploymentCircuitBreaker: DeploymentCircuitBreaker?

    /// ECS defaults: 100 % / 200 %, no circuit breaker.
    public init(
        minimumHealthyPercent: Int = 100, maximumPercent: Int = 200,
        deploymentCircuitBreaker: DeploymentCircuitBreaker? = nil
    ) {
        self.minimumHealthyPercent = minimumHealthyPercent
        self.maximumPercent = maximumPercent
        self.deploymentCircuitBreaker = deploymentCircuitBreaker
    }
}

/// One service as the reconciler needs it.
public struct ServiceSnapshot: Hashable, Sendable {
    /// The service name; its tasks form the group `service:<name>`.
    public var serviceName: String
    /// How many tasks should run.
    public var desiredCount: Int
    /// Every deployment the service still has, including COMPLETED ones kept for rollback.
    public var deployments: [DeploymentSnapshot]
    /// Rolling-update bounds and circuit breaker.
    public var deploymentConfiguration: DeploymentConfiguration
    /// Constraints, parsed and validated when the service was created.
    public var placementConstraints: [PlacementConstraint]
    /// Strategies in order; also read backwards for scale-in.
    public var placementStrategy: [PlacementStrategy]
    /// Unhealthy tasks younger than this are left alone.
    public var healthCheckGracePeriodSeconds: Int

    public init(
        serviceName: String, desiredCount: Int, deployments: [DeploymentSnapshot],
        deploymentConfiguration: DeploymentConfiguration = DeploymentConfiguration(),
        placementConstraints: [PlacementConstraint] = [], placementStrategy: [PlacementStrategy] = [],
        healthCheckGracePeriodSeconds: Int = 0
    ) {
        self.serviceName = serviceName
        self.desiredCount = desiredCount
        self.deployments = deployments
        self.deploymentConfiguration = deploymentConfiguration
        self.placementConstraints = placementConstraints
        self.placementStrategy = placementStrategy
        self.healthCheckGracePeriodSeconds = healthCheckGracePeriodSeconds
    }

    /// The ECS task group of the service's tasks.
    public var group: String { "service:\(serviceName)" }
    /// The deployment being rolled out.
    public var primaryDeployment: DeploymentSnapshot? { deployments.first { $0.status == .primary } }
}
