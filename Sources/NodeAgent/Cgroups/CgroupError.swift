public import SystemPackage

/// Why a cgroup could not be created, changed, read or removed. Each case names the file or field.
public enum CgroupError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call on a cgroup file or directory failed.
    case system(operation: String, path: String, errno: Errno)
    /// /proc/self/mountinfo shows no cgroup hierarchy this code can use.
    case noHierarchy(reason: String)
    /// A limit needs a controller the hierarchy does not offer.
    case controllerUnavailable(controller: String, path: String)
    /// A name, parent or limit is out of range.
    case invalidArgument(field: String, reason: String)
    /// Processes were still in the cgroup after the bounded wait.
    case busy(path: String)

    static func system(operation: String, path: String, errno: Int32) -> CgroupError {
        .system(operation: operation, path: path, errno: Errno(rawValue: errno))
    }

    public var description: String {
        switch self {
        case .system(let operation, let path, let errno): "\(path): \(operation) failed: \(errno)"
        case .noHierarchy(let reason): "no usable cgroup hierarchy: \(reason)"
        case .controllerUnavailable(let controller, let path): "\(path): the \(controller) controller is not available"
        case .invalidArgument(let field, let reason): "\(field): \(reason)"
        case .busy(let path): "\(path): processes remain in the cgroup"
        }
    }
}

/// Resource limits of one container. nil leaves the kernel default (unlimited).
public struct CgroupLimits: Hashable, Sendable {
    /// Hard memory limit (ECS `memory`); swap is not allowed beyond it.
    public var memoryLimitMiB: Int?
    /// Soft limit (ECS `memoryReservation`): v1 memory.soft_limit_in_bytes, v2 memory.low.
    public var memoryReservationMiB: Int?
    /// CPU shares = the container's CPU units (at least 2); v2 converts them to cpu.weight.
    public var cpuShares: Int?
    /// CPU quota in CPU units (1024 = one CPU): quota = units / 1024 × the 100 ms period.
    public var cpuQuotaUnits: Int?
    /// Maximum number of processes and threads.
    public var pidsLimit: Int?

    public init(
        memoryLimitMiB: Int? = nil, memoryReservationMiB: Int? = nil, cpuShares: Int? = nil,
        cpuQuotaUnits: Int? = nil, pidsLimit: Int? = nil
    ) {
        self.memoryLimitMiB = memoryLimitMiB
        self.memoryReservationMiB = memoryReservationMiB
        self.cpuShares = cpuShares
        self.cpuQuotaUnits = cpuQuotaUnits
        self.pidsLimit = pidsLimit
    }
}

/// Resource usage of one cgroup, for metrics.
public struct CgroupStats: Hashable, Sendable {
    /// CPU time used by all processes, in nanoseconds.
    public var cpuUsageNanoseconds: UInt64
    /// Memory in use now, in bytes (nil without the memory controller).
    public var memoryUsageBytes: UInt64?
    /// Highest memory use seen, in bytes (nil where the kernel does not track it).
    public var memoryMaxUsageBytes: UInt64?
    /// Processes and threads now (nil without the pids controller).
    public var pidsCurrent: Int?

    public init(cpuUsageNanoseconds: UInt64, memoryUsageBytes: UInt64?, memoryMaxUsageBytes: UInt64?, pidsCurrent: Int?)
    {
        self.cpuUsageNanoseconds = cpuUsageNanoseconds
        self.memoryUsageBytes = memoryUsageBytes
        self.memoryMaxUsageBytes = memoryMaxUsageBytes
        self.pidsCurrent = pidsCurrent
    }
}
