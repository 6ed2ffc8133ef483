/// Linux capabilities added to or dropped from the default set, named without `CAP_` as ECS does (`NET_ADMIN`).
public struct KernelCapabilities: Hashable, Sendable {
    /// Capabilities added to the default set.
    public var add: [String]?
    /// Capabilities dropped from the default set.
    public var drop: [String]?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a capability change.
    public init(add: [String]? = nil, drop: [String]? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.add = add
        self.drop = drop
        self.unknownFields = unknownFields
    }

    /// The capability names ECS accepts in `add` and `drop`.
    public static let knownNames: Set<String> = [
        "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",
        "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD",
        "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
        "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
    ]
}

extension KernelCapabilities: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case add, drop }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        add = try container.decodeIfPresent([String].self, forKey: .add)
        drop = try container.decodeIfPresent([String].self, forKey: .drop)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(add, forKey: .add)
        try container.encodeIfPresent(drop, forKey: .drop)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
