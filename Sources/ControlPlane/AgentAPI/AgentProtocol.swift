import Foundation
import HTTPTypes
import TaskDefinitions

// The agent protocol's wire shapes: `POST /`, `X-Amz-Target: FlotillaAgentV1.<Operation>`, JSON 1.1 bodies, dates as
// epoch seconds, errors as ECS's `{"__type", "message"}`. The agent authenticates `PollDesiredTasks` and
// `SubmitStateChanges` with the credential `Register` gave it; every authenticated call counts as contact.

// MARK: - Register

/// What an agent offers: CPU units (1024 per core), memory in MiB, host ports already in use.
struct AgentResources: Codable, Sendable {
    var cpu: Int
    var memory: Int
    var ports: [Int]?
}

struct RegisterAgentRequest: Decodable, Sendable {
    var cluster: String?
    var joinToken: String
    /// The ARN of the previous registration: an agent that restarts keeps its instance (and its tasks).
    var containerInstanceArn: String?
    var hostname: String
    /// The address other hosts reach this one at (network bindings' host side).
    var address: String?
    /// Where the agent serves container logs and exec (`http://ADDRESS:PORT`); `ExecuteCommand` and log streams
    /// hand it to clients together with `agentToken`.
    var agentEndpoint: String?
    /// The bearer token the agent accepts on `agentEndpoint`; the agent generates and keeps it.
    var agentToken: String?
    var resources: AgentResources
    /// `ecs.os-type`, `ecs.cpu-architecture`, `ecs.availability-zone` and custom ones.
    var attributes: [Attribute]?
    var versionInfo: JSONValue?
}

struct RegisterAgentResponse: Encodable, Sendable {
    var containerInstanceArn: String
    /// The secret for every later call; only its SHA-256 is stored, so it is shown this once.
    var credential: String
    /// Where to poll (the `DiscoverPollEndpoint` answer).
    var endpoint: String
    /// The instance's desired-state index now: the first `PollDesiredTasks` may send 0 to get everything at once.
    var index: Int64
    var containerInstance: ContainerInstance
}

// MARK: - PollDesiredTasks

struct PollDesiredTasksRequest: Decodable, Sendable {
    var cluster: String?
    var containerInstanceArn: String
    var credential: String
    /// The index the agent holds; the call answers at once when the instance's index differs.
    var index: Int64?
    /// How long to block for a change, 0...60 seconds (default 30; capped at half the agent grace period).
    var waitSeconds: Int?
}

/// A task the instance should run (desiredStatus RUNNING) or stop (desiredStatus STOPPED).
struct DesiredTask: Encodable, Sendable {
    var taskArn: String
    var desiredStatus: String
    var lastStatus: String
    var version: Int
    var taskDefinitionArn: String
    /// The full registered task definition, ECS JSON.
    var taskDefinition: TaskDefinition?
    var overrides: JSONValue?
    var containers: [TaskContainer]
    var startedBy: String?
    var group: String?
    var stopCode: String?
    var stoppedReason: String?
}

struct PollDesiredTasksResponse: Encodable, Sendable {
    var index: Int64
    /// ACTIVE or DRAINING (`INACTIVE` after deregistration: the agent should stop everything).
    var containerInstanceStatus: String
    /// Every task assigned to this instance except those both desired and reported STOPPED.
    var tasks: [DesiredTask]
}

// MARK: - SubmitStateChanges

struct ContainerStateChange: Decodable, Sendable {
    var name: String
    var lastStatus: String?
    var exitCode: Int?
    var reason: String?
    var healthStatus: String?
    var networkBindings: [JSONValue]?
}

struct TaskStateChange: Decodable, Sendable {
    var taskArn: String
    var lastStatus: String
    var healthStatus: String?
    var stopCode: String?
    var stoppedReason: String?
    var pullStartedAt: Date?
    var pullStoppedAt: Date?
    var startedAt: Date?
    var stoppingAt: Date?
    var executionStoppedAt: Date?
    var stoppedAt: Date?
    var containers: [ContainerStateChange]?
}

struct SubmitStateChangesRequest: Decodable, Sendable {
    var cluster: String?
    var containerInstanceArn: String
    var credential: String
    var tasks: [TaskStateChange]?
    /// Instance and task usage (cgroups), stored as sent for the autoscaler: a JSON object.
    var metrics: JSONValue?
}

struct IgnoredStateChange: Encodable, Sendable {
    var taskArn: String
    var reason: String
}

struct SubmitStateChangesResponse: Encodable, Sendable {
    /// Tasks whose stored state this batch changed.
    var updated: [String]
    /// Tasks the batch named whose state already said as much (a repeated batch lands here).
    var unchanged: [String]
    /// Changes refused: unknown task, another instance's task, or a transition backwards.
    var ignored: [IgnoredStateChange]
}

// MARK: - Errors

extension ECSError {
    static func credentialRefused(_ instance: String) -> ECSError {
        ECSError("AccessDeniedException", "credential: is not valid for container instance \(instance); register again.",
                 status: .forbidden)
    }

    static func tooManyPolls(_ instance: String) -> ECSError {
        ECSError("ThrottlingException", "Too many concurrent PollDesiredTasks calls for container instance \(instance).")
    }
}
