/// An ECS task's `lastStatus` or `desiredStatus`, in ECS's lifecycle order (`allCases` is that order, and `<` follows
/// it): PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED → DELETED.
public enum TaskStatus: String, ECSWord, Comparable {
    case provisioning = "PROVISIONING"
    case pending = "PENDING"
    case activating = "ACTIVATING"
    case running = "RUNNING"
    case deactivating = "DEACTIVATING"
    case stopping = "STOPPING"
    case deprovisioning = "DEPROVISIONING"
    case stopped = "STOPPED"
    /// ECS's status after STOPPED, once the task is gone from the API. Flotilla never sets it.
    case deleted = "DELETED"

    /// The statuses a task passes through on an agent, in order: every status but DELETED. Agents report only these.
    public static let throughStopped: [TaskStatus] = allCases.filter { $0 != .deleted }

    /// Placed but not yet RUNNING: what ECS counts as a pending task.
    public static let pendingStatuses: [TaskStatus] = [.provisioning, .pending, .activating]

    /// The statuses `ListTasks` filters on (`desiredStatus`; PENDING means "desired RUNNING, not yet running").
    public static let listFilters: [TaskStatus] = [.running, .pending, .stopped]

    public var isPending: Bool { Self.pendingStatuses.contains(self) }

    public static func < (lhs: TaskStatus, rhs: TaskStatus) -> Bool { lhs.order < rhs.order }

    /// The position in the lifecycle (a switch, not `allCases.firstIndex`: the scheduler compares statuses in its hot
    /// path, and `allCases` builds an array on every call).
    private var order: Int {
        switch self {
        case .provisioning: 0
        case .pending: 1
        case .activating: 2
        case .running: 3
        case .deactivating: 4
        case .stopping: 5
        case .deprovisioning: 6
        case .stopped: 7
        case .deleted: 8
        }
    }
}

/// The `lastStatus` of an ECS task's container, in order (`TaskContainerStatus`: the runtime has a `ContainerStatus`).
public enum TaskContainerStatus: String, ECSWord, Comparable {
    case pending = "PENDING"
    case running = "RUNNING"
    case stopped = "STOPPED"

    public static func < (lhs: TaskContainerStatus, rhs: TaskContainerStatus) -> Bool { lhs.order < rhs.order }

    private var order: Int {
        switch self {
        case .pending: 0
        case .running: 1
        case .stopped: 2
        }
    }
}

/// A task's or container's `healthStatus`, as ECS reports it.
public enum HealthStatus: String, ECSWord {
    case healthy = "HEALTHY"
    case unhealthy = "UNHEALTHY"
    case unknown = "UNKNOWN"
}

/// Why a task stopped: ECS's `stopCode` words.
public enum StopCode: String, ECSWord {
    case taskFailedToStart = "TaskFailedToStart"
    case essentialContainerExited = "EssentialContainerExited"
    case userInitiated = "UserInitiated"
    case serviceSchedulerInitiated = "ServiceSchedulerInitiated"
    case spotInterruption = "SpotInterruption"
    case terminationNotice = "TerminationNotice"
}
