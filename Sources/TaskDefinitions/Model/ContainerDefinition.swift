/// One container of a task definition, with ECS's field names.
///
/// Like ``TaskDefinition``, it keeps fields it does not model in ``unknownFields``.
public struct ContainerDefinition: Hashable, Sendable {
    /// Unique within the task: 1–255 letters, digits, `_` and `-`. Required.
    public var name: String
    /// The image reference, e.g. `flotilla/busybox:1`. Required.
    public var image: String
    /// CPU units (1024 per vCPU) reserved for the container.
    public var cpu: Int?
    /// Hard memory limit in MiB: the container is killed above it.
    public var memory: Int?
    /// Soft memory limit in MiB: what placement reserves when set.
    public var memoryReservation: Int?
    /// Ports the container exposes, and how they bind on the host.
    public var portMappings: [PortMapping]?
    /// Absent means essential (see ``isEssential``): the task stops when an essential container stops.
    public var essential: Bool?
    /// Replaces the image's entry point.
    public var entryPoint: [String]?
    /// Replaces the image's command (the arguments to the entry point).
    public var command: [String]?
    /// Environment variables.
    public var environment: [KeyValuePair]?
    /// Environment variables whose values come from secrets.
    public var secrets: [Secret]?
    /// Task volumes mounted into the container.
    public var mountPoints: [MountPoint]?
    /// Other containers whose volumes are mounted too.
    public var volumesFrom: [VolumeFrom]?
    /// The directory the command runs in.
    public var workingDirectory: String?
    /// The user (and group) the command runs as: `name`, `uid`, `uid:gid`, ...
    public var user: String?
    /// Mount the root filesystem read-only.
    public var readonlyRootFilesystem: Bool?
    /// Run with every capability and device.
    public var privileged: Bool?
    /// Containers that must reach a condition before this one starts.
    public var dependsOn: [ContainerDependency]?
    /// The command that tells whether the container is healthy.
    public var healthCheck: HealthCheck?
    /// Seconds between SIGTERM and SIGKILL when the container is stopped.
    public var stopTimeout: Int?
    /// Resource limits for the container's processes.
    public var ulimits: [Ulimit]?
    /// Capabilities, init process, /dev/shm and tmpfs settings.
    public var linuxParameters: LinuxParameters?
    /// Where stdout and stderr go.
    public var logConfiguration: LogConfiguration?
    /// Labels on the container.
    public var dockerLabels: [String: String]?
    /// The container's hostname.
    public var hostname: String?
    /// Lines added to `/etc/hosts`.
    public var extraHosts: [HostEntry]?
    /// Name servers written to `resolv.conf`.
    public var dnsServers: [String]?
    /// Start without any network interface but loopback.
    public var disableNetworking: Bool?

    /// Fields this type does not model, kept verbatim through decode and encode.
    public var unknownFields: [String: JSONValue]

    /// Creates a container definition; only the name and image are needed.
    public init(
        name: String, image: String, cpu: Int? = nil, memory: Int? = nil, memoryReservation: Int? = nil,
        portMappings: [PortMapping]? = nil, essential: Bool? = nil, entryPoint: [String]? = nil,
        command: [String]? = nil, environment: [KeyValuePair]? = nil, secrets: [Secret]? = nil,
        mountPoints: [MountPoint]? = nil, volumesFrom: [VolumeFrom]? = nil, workingDirectory: String? = nil,
        user: String? = nil, readonlyRootFilesystem: Bool? = nil, privileged: Bool? = nil,
        dependsOn: [ContainerDependency]? = nil, healthCheck: HealthCheck? = nil, stopTimeout: Int? = nil,
        ulimits: [Ulimit]? = nil, linuxParameters: LinuxParameters? = nil,
        logConfiguration: LogConfiguration? = nil, dockerLabels: [String: String]? = nil,
        hostname: String? = nil, extraHosts: [HostEntry]? = nil, dnsServers: [String]? = nil,
        disableNetworking: Bool? = nil, unknownFields: [String: JSONValue] = [:]
    ) {
        self.name = name
        self.image = image
        self.cpu = cpu
        self.memory = memory
        self.memoryReservation = memoryReservation
        self.portMappings = portMappings
        self.essential = essential
        self.entryPoint = entryPoint
        self.command = command
        self.environment = environment
        self.secrets = secrets
        self.mountPoints = mountPoints
        self.volumesFrom = volumesFrom
        self.workingDirectory = workingDirectory
        self.user = user
        self.readonlyRootFilesystem = readonlyRootFilesystem
        self.privileged = privileged
        self.dependsOn = dependsOn
        self.healthCheck = healthCheck
        self.stopTimeout = stopTimeout
        self.ulimits = ulimits
        self.linuxParameters = linuxParameters
        self.logConfiguration = logConfiguration
        self.dockerLabels = dockerLabels
        self.hostname = hostname
        self.extraHosts = extraHosts
        self.dnsServers = dnsServers
        self.disableNetworking = disableNetworking
        self.unknownFields = unknownFields
    }
}

extension ContainerDefinition: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, image, cpu, memory, memoryReservation, portMappings, essential, entryPoint, command, environment
        case secrets, mountPoints, volumesFrom, workingDirectory, user, readonlyRootFilesystem, privileged, dependsOn
        case healthCheck, stopTimeout, ulimits, linuxParameters, logConfiguration, dockerLabels, hostname, extraHosts
        case dnsServers, disableNetworking
    }

    /// Creates a container definition; only the name and image are needed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Missing name or image is a rule broken, reported with every other issue by validation.
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        image = try container.decodeIfPresent(String.self, forKey: .image) ?? ""
        cpu = try container.decodeIntegerIfPresent(forKey: .cpu)
        memory = try container.decodeIntegerIfPresent(forKey: .memory)
        memoryReservation = try container.decodeIntegerIfPresent(forKey: .memoryReservation)
        portMappings = try container.decodeIfPresent([PortMapping].self, forKey: .portMappings)
        essential = try container.decodeIfPresent(Bool.self, forKey: .essential)
        entryPoint = try container.decodeIfPresent([String].self, forKey: .entryPoint)
        command = try container.decodeIfPresent([String].self, forKey: .command)
        environment = try container.decodeIfPresent([KeyValuePair].self, forKey: .environment)
        secrets = try container.decodeIfPresent([Secret].self, forKey: .secrets)
        mountPoints = try container.decodeIfPresent([MountPoint].self, forKey: .mountPoints)
        volumesFrom = try container.decodeIfPresent([VolumeFrom].self, forKey: .volumesFrom)
        workingDirectory = try container.decodeIfPresent(String.self, forKey: .workingDirectory)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        readonlyRootFilesystem = try container.decodeIfPresent(Bool.self, forKey: .readonlyRootFilesystem)
        privileged = try container.decodeIfPresent(Bool.self, forKey: .privileged)
        dependsOn = try container.decodeIfPresent([ContainerDependency].self, forKey: .dependsOn)
        healthCheck = try container.decodeIfPresent(HealthCheck.self, forKey: .healthCheck)
        stopTimeout = try container.decodeIntegerIfPresent(forKey: .stopTimeout)
        ulimits = try container.decodeIfPresent([Ulimit].self, forKey: .ulimits)
        linuxParameters = try container.decodeIfPresent(LinuxParameters.self, forKey: .linuxParameters)
        logConfiguration = try container.decodeIfPresent(LogConfiguration.self, forKey: .logConfiguration)
        dockerLabels = try container.decodeIfPresent([String: String].self, forKey: .dockerLabels)
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        extraHosts = try container.decodeIfPresent([HostEntry].self, forKey: .extraHosts)
        dnsServers = try container.decodeIfPresent([String].self, forKey: .dnsServers)
        disableNetworking = try container.decodeIfPresent(Bool.self, forKey: .disableNetworking)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(image, forKey: .image)
        try container.encodeIfPresent(cpu, forKey: .cpu)
        try container.encodeIfPresent(memory, forKey: .memory)
        try container.encodeIfPresent(memoryReservation, forKey: .memoryReservation)
        try container.encodeIfPresent(portMappings, forKey: .portMappings)
        try container.encodeIfPresent(essential, forKey: .essential)
        try container.encodeIfPresent(entryPoint, forKey: .entryPoint)
        try container.encodeIfPresent(command, forKey: .command)
        try container.encodeIfPresent(environment, forKey: .environment)
        try container.encodeIfPresent(secrets, forKey: .secrets)
        try container.encodeIfPresent(mountPoints, forKey: .mountPoints)
        try container.encodeIfPresent(volumesFrom, forKey: .volumesFrom)
        try container.encodeIfPresent(workingDirectory, forKey: .workingDirectory)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encodeIfPresent(readonlyRootFilesystem, forKey: .readonlyRootFilesystem)
        try container.encodeIfPresent(privileged, forKey: .privileged)
        try container.encodeIfPresent(dependsOn, forKey: .dependsOn)
        try container.encodeIfPresent(healthCheck, forKey: .healthCheck)
        try container.encodeIfPresent(stopTimeout, forKey: .stopTimeout)
        try container.encodeIfPresent(ulimits, forKey: .ulimits)
        try container.encodeIfPresent(linuxParameters, forKey: .linuxParameters)
        try container.encodeIfPresent(logConfiguration, forKey: .logConfiguration)
        try container.encodeIfPresent(dockerLabels, forKey: .dockerLabels)
        try container.encodeIfPresent(hostname, forKey: .hostname)
        try container.encodeIfPresent(extraHosts, forKey: .extraHosts)
        try container.encodeIfPresent(dnsServers, forKey: .dnsServers)
        try container.encodeIfPresent(disableNetworking, forKey: .disableNetworking)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
