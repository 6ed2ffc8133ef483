/// Linux-specific container settings.
public struct LinuxParameters: Hashable, Sendable {
    /// Capabilities added to or dropped from the default set.
    public var capabilities: KernelCapabilities?
    /// Run an init process as PID 1 that forwards signals and reaps zombies.
    public var initProcessEnabled: Bool?
    /// Size of `/dev/shm` in MiB.
    public var sharedMemorySize: Int?
    /// tmpfs mounts inside the container.
    public var tmpfs: [Tmpfs]?
    /// Fields this type does not model (`devices`, `maxSwap`, `swappiness`, ...), kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates Linux parameters; every field is optional.
    public init(capabilities: KernelCapabilities? = nil, initProcessEnabled: Bool? = nil,
                sharedMemorySize: Int? = nil, tmpfs: [Tmpfs]? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.capabilities = capabilities
        self.initProcessEnabled = initProcessEnabled
        self.sharedMemorySize = sharedMemorySize
        self.tmpfs = tmpfs
        self.unknownFields = unknownFields
    }
}

extension LinuxParameters: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case capabilities, initProcessEnabled, sharedMemorySize, tmpfs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capabilities = try container.decodeIfPresent(KernelCapabilities.self, forKey: .capabilities)
        initProcessEnabled = try container.decodeIfPresent(Bool.self, forKey: .initProcessEnabled)
        sharedMemorySize = try container.decodeIntegerIfPresent(forKey: .sharedMemorySize)
        tmpfs = try container.decodeIfPresent([Tmpfs].self, forKey: .tmpfs)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(capabilities, forKey: .capabilities)
        try container.encodeIfPresent(initProcessEnabled, forKey: .initProcessEnabled)
        try container.encodeIfPresent(sharedMemorySize, forKey: .sharedMemorySize)
        try container.encodeIfPresent(tmpfs, forKey: .tmpfs)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}

/// Linux capabilities added to or dropped from the default set, named without `CAP_` as ECS does (`NET_ADMIN`).
public struct KernelCapabilities: Codable, Hashable, Sendable {
    /// Capabilities added to the default set.
    public var add: [String]?
    /// Capabilities dropped from the default set.
    public var drop: [String]?

    /// Creates a capability change.
    public init(add: [String]? = nil, drop: [String]? = nil) { self.add = add; self.drop = drop }

    /// The capability names ECS accepts in `add` and `drop`.
    public static let knownNames: Set<String> = [
        "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",
        "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD",
        "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
        "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
    ]
}

/// A tmpfs mount inside the container.
public struct Tmpfs: Hashable, Sendable {
    /// Absolute path inside the container.
    public var containerPath: String
    /// Size in MiB.
    public var size: Int
    /// Mount options such as `noexec` or `size=…`.
    public var mountOptions: [String]?

    /// Creates a tmpfs mount.
    public init(containerPath: String, size: Int, mountOptions: [String]? = nil) {
        self.containerPath = containerPath
        self.size = size
        self.mountOptions = mountOptions
    }
}

extension Tmpfs: Codable {
    enum CodingKeys: String, CodingKey { case containerPath, size, mountOptions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containerPath = try container.decode(String.self, forKey: .containerPath)
        size = try container.decodeInteger(forKey: .size)
        mountOptions = try container.decodeIfPresent([String].self, forKey: .mountOptions)
    }
}
