/// The bounds validation enforces: ECS's where ECS has them, and sanity caps that reject absurd input clearly.
public enum TaskDefinitionLimits {
    /// ECS allows at most 10 containers per task definition.
    public static let maxContainers = 10
    /// A sanity cap: no real container maps more ports.
    public static let maxPortMappingsPerContainer = 1000
    /// Family, container and volume names: 1–255 characters.
    public static let maxNameLength = 255
    /// Task-level CPU on EC2-style hosts: 128 units (0.125 vCPU) to 196608 units (192 vCPU).
    public static let taskCPUUnits = 128...196_608
    /// Container-level CPU units.
    public static let containerCPUUnits = 0...196_608
    /// Task and container hard memory: 6 MiB (the least a container can run in) to 4 TiB.
    public static let memoryMiB = 6...4_194_304
    /// Container soft memory limit.
    public static let memoryReservationMiB = 1...4_194_304
    /// Container ports.
    public static let containerPort = 1...65535
    /// Host ports; 0 asks for a dynamic one in bridge mode.
    public static let hostPort = 0...65535
    /// Seconds between health checks.
    public static let healthCheckInterval = 5...300
    /// Seconds a health check may take.
    public static let healthCheckTimeout = 2...60
    /// Failures before unhealthy.
    public static let healthCheckRetries = 1...10
    /// Grace seconds after start.
    public static let healthCheckStartPeriod = 0...300
    /// Seconds between health checks during the start period (`ContainerDefinition.healthCheckStartIntervalLabel`).
    public static let healthCheckStartInterval = 0.05...300.0
    /// Seconds between SIGTERM and SIGKILL.
    public static let stopTimeout = 0...120
    /// Placement constraints per task definition.
    public static let maxPlacementConstraints = 10
    /// Tags per resource.
    public static let maxTags = 50
    /// Tag key length.
    public static let tagKeyLength = 1...128
    /// Tag value length.
    public static let maxTagValueLength = 256
    /// Launch types ECS knows.
    public static let compatibilities = ["EC2", "EXTERNAL", "FARGATE"]  // not an ECS status: launch types
}
