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
    /// Host devices exposed to the container.
    public var devices: [Device]?
    /// Fields this type does not model (`maxSwap`, `swappiness`, ...), kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates Linux parameters; every field is optional.
    public init(
        capabilities: KernelCapabilities? = nil, initProcessEnabled: Bool? = nil,
        sharedMemorySize: Int? = nil, tmpfs: [Tmpfs]? = nil, devices: [Device]? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.capabilities = capabilities
        self.initProcessEnabled = initProcessEnabled
        self.sharedMemorySize = sharedMemorySize
        self.tmpfs = tmpfs
        self.devices = devices
        self.unknownFields = unknownFields
    }
}

extension LinuxParameters: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case capabilities, initProcessEnabled, sharedMemorySize, tmpfs, devices
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capabilities = try container.decodeIfPresent(KernelCapabilities.self, forKey: .capabilities)
        initProcessEnabled = try container.decodeIfPresent(Bool.self, forKey: .initProcessEnabled)
        sharedMemorySize = try container.decodeIntegerIfPresent(forKey: .sharedMemorySize)
        tmpfs = try container.decodeIfPresent([Tmpfs].self, forKey: .tmpfs)
        devices = try container.decodeIfPresent([Device].self, forKey: .devices)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(capabilities, forKey: .capabilities)
        try container.encodeIfPresent(initProcessEnabled, forKey: .initProcessEnabled)
        try container.encodeIfPresent(sharedMemorySize, forKey: .sharedMemorySize)
        try container.encodeIfPresent(tmpfs, forKey: .tmpfs)
        try container.encodeIfPresent(devices, forKey: .devices)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
