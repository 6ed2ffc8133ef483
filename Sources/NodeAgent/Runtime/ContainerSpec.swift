/// Everything needed to create one container. The agent builds it from an ECS container definition and the image.
public struct ContainerSpec: Codable, Hashable, Sendable {
    /// A unique name (`--name`, or the ECS task id plus container name).
    public var name: String
    /// The image reference the layers came from (for `ps` and the agent's reports).
    public var image: String?
    /// Image layer directories, lowest (base) first; mounted read-only under a per-container upper.
    public var layerDirectories: [String]
    public var arguments: [String]
    /// `KEY=value` entries.
    public var environment: [String]
    public var workingDirectory: String
    /// `user`, `uid`, `user:group` or `uid:gid`; resolved in the image's /etc/passwd and /etc/group. nil = root.
    public var user: String?
    public var hostname: String
    public var readonlyRootFilesystem: Bool
    public var privileged: Bool
    public var capabilityAdd: [String]
    public var capabilityDrop: [String]
    public var ulimits: [Ulimit]
    public var limits: CgroupLimits
    /// host (no namespace of its own), none (only lo), bridge (veth on the bridge, port mappings) or awsvpc.
    public var networkMode: ContainerNetworkMode
    /// Ports to publish (bridge, awsvpc); hostPort nil or 0 = a dynamic port.
    public var portMappings: [PortRequest]
    /// The network to attach to; containers of one awsvpc task share one (default: the container's id).
    public var networkID: String?
    /// Extra /etc/hosts lines, e.g. "172.30.0.5 web".
    public var extraHosts: [String]
    public var sharedMemoryMiB: Int
    /// Seconds between SIGTERM and SIGKILL on stop (ECS stopTimeout; default 30).
    public var stopTimeoutSeconds: Int
    public var logMaxBytes: UInt64
    public var logMaxFiles: Int
    /// Host devices made available in the container (ECS `linuxParameters.devices`); nil = none. Optional so that
    /// state.json files written before the field existed still decode.
    public var devices: [ContainerDevice]?

    public init(
        name: String, image: String? = nil, layerDirectories: [String], arguments: [String], environment: [String] = [],
        workingDirectory: String = "/", user: String? = nil, hostname: String? = nil,
        readonlyRootFilesystem: Bool = false, privileged: Bool = false, capabilityAdd: [String] = [],
        capabilityDrop: [String] = [], ulimits: [Ulimit] = [], limits: CgroupLimits = CgroupLimits(),
        networkMode: ContainerNetworkMode = .host, portMappings: [PortRequest] = [],
        networkID: String? = nil, extraHosts: [String] = [], sharedMemoryMiB: Int = 64,
        stopTimeoutSeconds: Int = 30, logMaxBytes: UInt64 = 10 << 20, logMaxFiles: Int = 3,
        devices: [ContainerDevice] = []
    ) {
        self.name = name
        self.image = image
        self.layerDirectories = layerDirectories
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.hostname = hostname ?? String(name.prefix(63))
        self.readonlyRootFilesystem = readonlyRootFilesystem
        self.privileged = privileged
        self.capabilityAdd = capabilityAdd
        self.capabilityDrop = capabilityDrop
        self.ulimits = ulimits
        self.limits = limits
        self.networkMode = networkMode
        self.portMappings = portMappings
        self.networkID = networkID
        self.extraHosts = extraHosts
        self.sharedMemoryMiB = sharedMemoryMiB
        self.stopTimeoutSeconds = stopTimeoutSeconds
        self.logMaxBytes = logMaxBytes
        self.logMaxFiles = logMaxFiles
        self.devices = devices.isEmpty ? nil : devices
    }
}

/// A host device node made available inside the container (ECS `linuxParameters.devices`): bind-mounted at
/// `containerPath` and allowed in the container's device cgroup with `permissions`.
public struct ContainerDevice: Codable, Hashable, Sendable {
    /// The device node on the host (symlinks followed, as Docker follows them).
    public var hostPath: String
    /// Where the node appears in the container; under /dev.
    public var containerPath: String
    /// What the container may do with it (ECS read, write, mknod; all three when the definition names none).
    public var permissions: DeviceRule.Access

    public init(hostPath: String, containerPath: String? = nil, permissions: DeviceRule.Access = .all) {
        self.hostPath = hostPath
        self.containerPath = containerPath ?? hostPath
        self.permissions = permissions
    }
}

/// An ECS `ulimits` entry: name (core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss,
/// rtprio, rttime, sigpending, stack) with soft and hard limits.
public struct Ulimit: Codable, Hashable, Sendable {
    public var name: String
    public var softLimit: UInt64
    public var hardLimit: UInt64

    public init(name: String, softLimit: UInt64, hardLimit: UInt64) {
        self.name = name
        self.softLimit = softLimit
        self.hardLimit = hardLimit
    }
}

/// Where a container is in its life.
public enum ContainerStatus: String, Codable, Hashable, Sendable {
    case created, running, stopped
}

/// How a container's command ended.
public struct ContainerExit: Codable, Hashable, Sendable {
    /// The exit code, or 128 + signal when a signal ended it (as shells and ECS report it); nil if unknown.
    public var exitCode: Int32?
    /// The signal that ended the command, if one did.
    public var signal: Int32?
    /// The cgroup's OOM killer ended it.
    public var oomKilled: Bool

    public init(exitCode: Int32?, signal: Int32?, oomKilled: Bool) {
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
    }

    /// Decodes a raw wait status (as waitpid returns it).
    init(waitStatus status: Int32, oomKilled: Bool) {
        let signal = status & 0x7f
        if signal == 0 {
            self.init(exitCode: (status >> 8) & 0xff, signal: nil, oomKilled: oomKilled)
        } else {
            self.init(exitCode: 128 + signal, signal: signal, oomKilled: oomKilled)
        }
    }
}

/// What the runtime knows about one container; persisted as `<data-dir>/containers/<id>/state.json`.
public struct ContainerInfo: Codable, Hashable, Sendable {
    public var id: String
    public var spec: ContainerSpec
    public var status: ContainerStatus
    /// Host PID of the container's PID 1 (the init) while running.
    public var pid: Int32?
    /// The init's start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused PID apart.
    public var pidStartTime: UInt64?
    public var exit: ContainerExit?
    /// The network the container joined (namespace, address, host port bindings); nil for host networking.
    public var network: NetworkAttachment?
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?

    /// The state directory, which holds state.json, the logs, the upper/work directories and the rootfs mount point.
    public var directory: String
    public var stdoutLogPath: String { directory + "/stdout.log" }
    public var stderrLogPath: String { directory + "/stderr.log" }
}

/// The result of `exec`: the exit and everything the command wrote.
public struct ExecResult: Hashable, Sendable {
    public var exit: ContainerExit
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]
    /// The command was killed because it ran past its timeout.
    public var timedOut: Bool
}

/// The limits are persisted in state.json with the rest of the spec.
extension CgroupLimits: Codable {
    private enum CodingKeys: String, CodingKey {
        case memoryLimitMiB, memoryReservationMiB, cpuShares, cpuQuotaUnits, pidsLimit
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            memoryLimitMiB: try container.decodeIfPresent(Int.self, forKey: .memoryLimitMiB),
            memoryReservationMiB: try container.decodeIfPresent(Int.self, forKey: .memoryReservationMiB),
            cpuShares: try container.decodeIfPresent(Int.self, forKey: .cpuShares),
            cpuQuotaUnits: try container.decodeIfPresent(Int.self, forKey: .cpuQuotaUnits),
            pidsLimit: try container.decodeIfPresent(Int.self, forKey: .pidsLimit))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(memoryLimitMiB, forKey: .memoryLimitMiB)
        try container.encodeIfPresent(memoryReservationMiB, forKey: .memoryReservationMiB)
        try container.encodeIfPresent(cpuShares, forKey: .cpuShares)
        try container.encodeIfPresent(cpuQuotaUnits, forKey: .cpuQuotaUnits)
        try container.encodeIfPresent(pidsLimit, forKey: .pidsLimit)
    }
}
