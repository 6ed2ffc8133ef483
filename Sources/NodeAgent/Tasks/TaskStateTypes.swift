public import ECSVocabulary
public import TaskDefinitions

/// What the control plane wants of the task.
public enum TaskDesiredStatus: Hashable, Sendable {
    case running
    /// Stop, with the stopCode and stoppedReason the task will report (e.g. `.userInitiated`, "Task stopped by user").
    case stopped(StopCode, reason: String)
}

/// How a container's main process ended.
public struct TaskContainerExit: Hashable, Sendable {
    /// The exit code; for a signal, 128 + signal as Docker and ECS report it.
    public var exitCode: Int32
    /// The signal that killed it, if any.
    public var signal: Int32?
    /// The kernel's OOM killer ended it.
    public var oomKilled: Bool

    public init(exitCode: Int32, signal: Int32? = nil, oomKilled: Bool = false) {
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
    }

    /// A death by signal, reported as 128 + signal.
    public static func signaled(_ signal: Int32, oomKilled: Bool = false) -> Self {
        Self(exitCode: 128 + signal, signal: signal, oomKilled: oomKilled)
    }
}

/// What a restarted agent found of one task container in the runtime.
public enum AdoptedContainer: Hashable, Sendable {
    /// Still running: watch it. `health` is what the previous agent last knew of its health check, so a restart
    /// changes nothing a balancer or the control plane sees; checks resume on their schedule.
    case running(bindings: [NetworkBinding], health: HealthStatus = .unknown)
    /// It ended while the agent was away.
    case exited(TaskContainerExit, bindings: [NetworkBinding])
    /// The runtime has no such container.
    case missing
}

/// One container as ECS reports it.
public struct TaskContainerState: Codable, Hashable, Sendable {
    public var name: String
    /// The runtime's container id: `<taskID>-<name>`.
    public var containerID: String
    public var lastStatus: TaskContainerStatus
    public var exitCode: Int32?
    public var reason: String?
    public var healthStatus: HealthStatus
    public var networkBindings: [NetworkBinding]
}

/// A snapshot of the task's observed state, sent to the control plane when it changes.
public struct TaskStateReport: Codable, Hashable, Sendable {
    public var taskID: String
    public var lastStatus: TaskStatus
    public var desiredStatus: TaskStatus
    public var healthStatus: HealthStatus
    public var stopCode: StopCode?
    public var stoppedReason: String?
    public var containers: [TaskContainerState]
}

/// What the owner of a `TaskContainerSpec` needs to create one container of a task.
public struct TaskContainerSpec: Hashable, Sendable {
    public static let defaultStopTimeout = 30

    public var taskID: String
    public var containerID: String
    public var definition: ContainerDefinition
    public var networkMode: NetworkMode
    /// SIGTERM to SIGKILL: the container's stopTimeout, default 30 s.
    public var stopTimeout: Duration
    /// The values of the definition's `secrets` by variable name, as the control plane resolved them for this
    /// instance. They join the environment (`secretEnvironment`), never the runtime's persisted spec.
    public var secrets: [String: String] = [:]

    public init(taskID: String, definition: ContainerDefinition, networkMode: NetworkMode) {
        self.taskID = taskID
        self.containerID = "\(taskID)-\(definition.name)"
        self.definition = definition
        self.networkMode = networkMode
        self.stopTimeout = .seconds(definition.stopTimeout ?? Self.defaultStopTimeout)
    }

    /// The secrets as `KEY=value` entries, sorted by name: what the runtime adds to the environment at start.
    /// A secret overrides an `environment` entry of the same name.
    public var secretEnvironment: [String] {
        secrets.keys.sorted().map { "\($0)=\(secrets[$0]!)" }
    }

    /// The environment as a dictionary (later entries win, as Docker does).
    public var environment: [String: String] {
        var result: [String: String] = [:]
        for pair in definition.environment ?? [] {
            if let name = pair.name { result[name] = pair.value ?? "" }
        }
        return result
    }
}
