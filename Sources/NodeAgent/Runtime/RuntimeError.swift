public import SystemPackage

/// An operating-system failure while creating, running or removing a container: the step, the errno, the container.
public struct RuntimeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The step that failed. The first group mirrors the C shim's `flotilla_stage`; the rest happen in Swift.
    public enum Stage: String, Hashable, Sendable, Codable {
        case clone, cgroup, setns, mountPrivate, mount, pivotRoot, hostname, rlimits, capabilityBounding
        case initFork, user, capabilities, noNewPrivileges, seccomp, chdir, exec, stdio
        case state, rootfs, seccompCompile, devices, signal, wait, network, remove
    }

    public var stage: Stage
    public var errno: Errno
    /// The container's id.
    public var container: String

    public init(stage: Stage, errno: Errno, container: String) {
        self.stage = stage
        self.errno = errno
        self.container = container
    }

    public var description: String {
        "container \(container): \(stage.rawValue) failed: \(errno.description) (errno \(errno.rawValue))"
    }
}

/// A request the runtime refuses before touching the system: names the field and the problem.
public struct ContainerConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// A lifecycle call that does not fit the container's state (unknown id, start twice, delete while running).
public enum ContainerLifecycleError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(String)
    case nameInUse(String)
    case invalidState(container: String, status: ContainerStatus, operation: String)

    public var description: String {
        switch self {
        case .notFound(let reference): "no such container: \(reference)"
        case .nameInUse(let name): "the container name \(name) is already in use"
        case .invalidState(let container, let status, let operation):
            "container \(container) is \(status.rawValue): cannot \(operation)"
        }
    }
}
