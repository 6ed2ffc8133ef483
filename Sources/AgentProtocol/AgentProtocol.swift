public import ECSVocabulary
public import Foundation
public import TaskDefinitions

// The agent protocol's wire shapes, shared by the control plane (which serves them) and the agent (which calls them):
// `POST /`, `X-Amz-Target: FlotillaAgentV1.<Operation>`, JSON 1.1 bodies, dates as epoch seconds (`AgentWire`),
// errors as ECS's `{"__type", "message"}`. A new agent's `Register` shows the cluster's join token; every other call
// (a re-registration included) is SigV4-signed with the instance credential `Register` gave it, which acts for that
// instance only; every signed call counts as contact. Status words are `WireValue`s of
// ECSVocabulary's: either side may be the newer one, so a word one side does not know decodes, and the control plane
// refuses it with its own message naming the field.

// MARK: - Register

/// What an agent offers: CPU units (1024 per core), memory in MiB, host ports already in use.
public struct AgentResources: Codable, Hashable, Sendable {
    public var cpu: Int
    public var memory: Int
    public var ports: [Int]?

    public init(cpu: Int, memory: Int, ports: [Int]? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.ports = ports
    }
}

/// A name/value attribute the agent registers with (`ecs.os-type`, `ecs.availability-zone`, custom ones).
public struct AgentAttribute: Codable, Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// `FlotillaAgentV1.Register`: join a cluster (or come back to a previous registration).
public struct RegisterAgentRequest: Codable, Hashable, Sendable {
    public var cluster: String?
    /// The cluster's join token, for a new instance; a re-registration signs with the instance credential instead
    /// and sends none.
    public var joinToken: String?
    /// The ARN of the previous registration: an agent that restarts keeps its instance (and its tasks).
    public var containerInstanceArn: String?
    public var hostname: String
    /// The address other hosts reach this one at (network bindings' host side).
    public var address: String?
    /// Where the agent serves container logs and exec (`http://ADDRESS:PORT`); `ExecuteCommand` and log streams
    /// hand it to clients with a `ContainerAccessToken` for that one container and action.
    public var agentEndpoint: String?
    /// The endpoint secret: the key of the MAC of the container access tokens the control plane mints for
    /// `agentEndpoint`. The agent generates and keeps it; the control plane keeps it sealed and hands it to no one.
    /// (The field's name is the wire's since the secret was itself the bearer token.)
    public var agentToken: String?
    public var resources: AgentResources
    /// `ecs.os-type`, `ecs.cpu-architecture`, `ecs.availability-zone` and custom ones.
    public var attributes: [AgentAttribute]?
    public var versionInfo: JSONValue?

    public init(
        cluster: String?, joinToken: String?, containerInstanceArn: String? = nil, hostname: String,
        address: String? = nil, agentEndpoint: String? = nil, agentToken: String? = nil,
        resources: AgentResources, attributes: [AgentAttribute]? = nil, versionInfo: JSONValue? = nil
    ) {
        self.cluster = cluster
        self.joinToken = joinToken
        self.containerInstanceArn = containerInstanceArn
        self.hostname = hostname
        self.address = address
        self.agentEndpoint = agentEndpoint
        self.agentToken = agentToken
        self.resources = resources
        self.attributes = attributes
        self.versionInfo = versionInfo
    }
}

/// The answer to `Register`.
public struct RegisterAgentResponse: Codable, Hashable, Sendable {
    public var containerInstanceArn: String
    /// The instance credential: an access key that signs (SigV4) every later call of this agent, including a
    /// re-registration, and acts for this instance only. Shown this once; each Register replaces the previous one.
    public var accessKeyId: String
    /// The secret of `accessKeyId`.
    public var credential: String
    /// When the credential stops working; the agent rotates it before (`RotateCredential`).
    public var expiration: Date
    /// Where to poll (the `DiscoverPollEndpoint` answer).
    public var endpoint: String
    /// The instance's desired-state index now: the first `PollDesiredTasks` may send 0 to get everything at once.
    public var index: Int64
    /// The instance as DescribeContainerInstances shows it (ECS JSON).
    public var containerInstance: JSONValue

    public init(
        containerInstanceArn: String, accessKeyId: String, credential: String, expiration: Date, endpoint: String,
        index: Int64, containerInstance: JSONValue
    ) {
        self.containerInstanceArn = containerInstanceArn
        self.accessKeyId = accessKeyId
        self.credential = credential
        self.expiration = expiration
        self.endpoint = endpoint
        self.index = index
        self.containerInstance = containerInstance
    }
}

// MARK: - RotateCredential

/// `FlotillaAgentV1.RotateCredential`: signed with the instance credential, asks for its successor. The old one keeps
/// working for a short grace period (calls already signed with it still land), then is refused.
public struct RotateCredentialRequest: Codable, Hashable, Sendable {
    public var cluster: String?
    public var containerInstanceArn: String

    public init(cluster: String?, containerInstanceArn: String) {
        self.cluster = cluster
        self.containerInstanceArn = containerInstanceArn
    }
}

/// The answer to `RotateCredential`: the new instance credential, shown this once.
public struct RotateCredentialResponse: Codable, Hashable, Sendable {
    public var accessKeyId: String
    public var credential: String
    public var expiration: Date

    public init(accessKeyId: String, credential: String, expiration: Date) {
        self.accessKeyId = accessKeyId
        self.credential = credential
        self.expiration = expiration
    }
}

// MARK: - PollDesiredTasks

/// `FlotillaAgentV1.PollDesiredTasks`: a blocking query for the instance's desired tasks.
public struct PollDesiredTasksRequest: Codable, Hashable, Sendable {
    public var cluster: String?
    public var containerInstanceArn: String
    /// The index the agent holds; the call answers at once when the instance's index differs.
    public var index: Int64?
    /// How long to block for a change, 0...60 seconds (default 30; capped at half the agent grace period).
    public var waitSeconds: Int?

    public init(cluster: String?, containerInstanceArn: String, index: Int64?, waitSeconds: Int?) {
        self.cluster = cluster
        self.containerInstanceArn = containerInstanceArn
        self.index = index
        self.waitSeconds = waitSeconds
    }
}

/// A container of a task as ECS reports it: the control plane stores and describes it, the poll answer carries it
/// (the agent reads `name`).
public struct TaskContainer: Codable, Hashable, Sendable {
    public var containerArn: String?
    public var taskArn: String?
    public var name: String
    public var image: String?
    public var lastStatus: WireValue<TaskContainerStatus>?
    public var exitCode: Int?
    public var reason: String?
    public var healthStatus: WireValue<HealthStatus>?
    public var networkBindings: [JSONValue]?
    public var cpu: String?
    public var memory: String?

    public init(
        containerArn: String? = nil, taskArn: String? = nil, name: String, image: String? = nil,
        lastStatus: WireValue<TaskContainerStatus>? = nil, exitCode: Int? = nil, reason: String? = nil,
        healthStatus: WireValue<HealthStatus>? = nil,
        networkBindings: [JSONValue]? = nil, cpu: String? = nil, memory: String? = nil
    ) {
        self.containerArn = containerArn
        self.taskArn = taskArn
        self.name = name
        self.image = image
        self.lastStatus = lastStatus
        self.exitCode = exitCode
        self.reason = reason
        self.healthStatus = healthStatus
        self.networkBindings = networkBindings
        self.cpu = cpu
        self.memory = memory
    }
}

/// A task the instance should run (desiredStatus RUNNING) or stop (desiredStatus STOPPED).
public struct DesiredTask: Codable, Hashable, Sendable {
    public var taskArn: String
    public var desiredStatus: WireValue<TaskStatus>
    public var lastStatus: WireValue<TaskStatus>
    public var version: Int
    public var taskDefinitionArn: String
    /// The full registered task definition, ECS JSON.
    public var taskDefinition: TaskDefinition?
    public var overrides: JSONValue?
    public var containers: [TaskContainer]
    public var startedBy: String?
    public var group: String?
    public var stopCode: WireValue<StopCode>?
    public var stoppedReason: String?
    /// The values of the containers' `secrets` (container name → environment variable → value), resolved by the
    /// control plane for this poll of the instance that runs the task, and only for a task desired RUNNING. The
    /// agent injects them into the containers' environment and keeps them in memory only: never in its task records,
    /// the runtime's state files or a log line. (Not in `description`: see below.)
    public var secretEnvironment: [String: [String: String]]?

    public init(
        taskArn: String, desiredStatus: WireValue<TaskStatus>, lastStatus: WireValue<TaskStatus>, version: Int,
        taskDefinitionArn: String,
        taskDefinition: TaskDefinition?, overrides: JSONValue? = nil, containers: [TaskContainer],
        startedBy: String? = nil, group: String? = nil, stopCode: WireValue<StopCode>? = nil,
        stoppedReason: String? = nil, secretEnvironment: [String: [String: String]]? = nil
    ) {
        self.taskArn = taskArn
        self.desiredStatus = desiredStatus
        self.lastStatus = lastStatus
        self.version = version
        self.taskDefinitionArn = taskDefinitionArn
        self.taskDefinition = taskDefinition
        self.overrides = overrides
        self.containers = containers
        self.startedBy = startedBy
        self.group = group
        self.stopCode = stopCode
        self.stoppedReason = stoppedReason
        self.secretEnvironment = secretEnvironment
    }
}

extension DesiredTask: CustomStringConvertible, CustomDebugStringConvertible {
    /// The task without its secrets' values (their variable names only), so interpolating one into a log line or
    /// an error cannot leak them.
    public var description: String {
        let secrets = (secretEnvironment ?? [:]).mapValues { $0.keys.sorted() }
        return "DesiredTask(taskArn: \(taskArn), desiredStatus: \(desiredStatus), lastStatus: \(lastStatus), "
            + "version: \(version), taskDefinitionArn: \(taskDefinitionArn), secrets: \(secrets))"
    }

    public var debugDescription: String { description }
}

/// The answer to `PollDesiredTasks`.
public struct PollDesiredTasksResponse: Codable, Hashable, Sendable {
    public var index: Int64
    /// ACTIVE or DRAINING (`INACTIVE` after deregistration: the agent should stop everything).
    public var containerInstanceStatus: WireValue<ContainerInstanceStatus>
    /// Every task assigned to this instance except those both desired and reported STOPPED.
    public var tasks: [DesiredTask]

    public init(index: Int64, containerInstanceStatus: WireValue<ContainerInstanceStatus>, tasks: [DesiredTask]) {
        self.index = index
        self.containerInstanceStatus = containerInstanceStatus
        self.tasks = tasks
    }
}

// MARK: - SubmitStateChanges

/// One container's observed state inside a `TaskStateChange`.
public struct ContainerStateChange: Codable, Hashable, Sendable {
    public var name: String
    public var lastStatus: WireValue<TaskContainerStatus>?
    public var exitCode: Int?
    public var reason: String?
    public var healthStatus: WireValue<HealthStatus>?
    public var networkBindings: [JSONValue]?

    public init(
        name: String, lastStatus: WireValue<TaskContainerStatus>? = nil, exitCode: Int? = nil, reason: String? = nil,
        healthStatus: WireValue<HealthStatus>? = nil, networkBindings: [JSONValue]? = nil
    ) {
        self.name = name
        self.lastStatus = lastStatus
        self.exitCode = exitCode
        self.reason = reason
        self.healthStatus = healthStatus
        self.networkBindings = networkBindings
    }
}

/// One task's observed state: the control plane merges it forward only, so sending it twice is harmless.
public struct TaskStateChange: Codable, Hashable, Sendable {
    public var taskArn: String
    public var lastStatus: WireValue<TaskStatus>
    public var healthStatus: WireValue<HealthStatus>?
    public var stopCode: WireValue<StopCode>?
    public var stoppedReason: String?
    public var pullStartedAt: Date?
    public var pullStoppedAt: Date?
    public var startedAt: Date?
    public var stoppingAt: Date?
    public var executionStoppedAt: Date?
    public var stoppedAt: Date?
    public var containers: [ContainerStateChange]?

    public init(
        taskArn: String, lastStatus: WireValue<TaskStatus>, healthStatus: WireValue<HealthStatus>? = nil,
        stopCode: WireValue<StopCode>? = nil,
        stoppedReason: String? = nil, pullStartedAt: Date? = nil, pullStoppedAt: Date? = nil,
        startedAt: Date? = nil, stoppingAt: Date? = nil, executionStoppedAt: Date? = nil,
        stoppedAt: Date? = nil, containers: [ContainerStateChange]? = nil
    ) {
        self.taskArn = taskArn
        self.lastStatus = lastStatus
        self.healthStatus = healthStatus
        self.stopCode = stopCode
        self.stoppedReason = stoppedReason
        self.pullStartedAt = pullStartedAt
        self.pullStoppedAt = pullStoppedAt
        self.startedAt = startedAt
        self.stoppingAt = stoppingAt
        self.executionStoppedAt = executionStoppedAt
        self.stoppedAt = stoppedAt
        self.containers = containers
    }
}

/// `FlotillaAgentV1.SubmitStateChanges`: a batch of task state changes (at most 100) and usage metrics.
public struct SubmitStateChangesRequest: Codable, Hashable, Sendable {
    public var cluster: String?
    public var containerInstanceArn: String
    public var tasks: [TaskStateChange]?
    /// Instance and task usage (cgroups), stored as sent for the autoscaler: a JSON object.
    public var metrics: JSONValue?

    public init(
        cluster: String?, containerInstanceArn: String, tasks: [TaskStateChange]?, metrics: JSONValue? = nil
    ) {
        self.cluster = cluster
        self.containerInstanceArn = containerInstanceArn
        self.tasks = tasks
        self.metrics = metrics
    }
}

/// A change the control plane refused, and why.
public struct IgnoredStateChange: Codable, Hashable, Sendable {
    public var taskArn: String
    public var reason: String

    public init(taskArn: String, reason: String) {
        self.taskArn = taskArn
        self.reason = reason
    }
}

/// The answer to `SubmitStateChanges`.
public struct SubmitStateChangesResponse: Codable, Hashable, Sendable {
    /// Tasks whose stored state this batch changed.
    public var updated: [String]
    /// Tasks the batch named whose state already said as much (a repeated batch lands here).
    public var unchanged: [String]
    /// Changes refused: unknown task, another instance's task, or a transition backwards.
    public var ignored: [IgnoredStateChange]

    public init(updated: [String], unchanged: [String], ignored: [IgnoredStateChange]) {
        self.updated = updated
        self.unchanged = unchanged
        self.ignored = ignored
    }
}
