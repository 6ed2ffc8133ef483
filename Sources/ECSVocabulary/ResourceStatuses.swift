/// A cluster's `status`.
public enum ClusterStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case active = "ACTIVE"
    case provisioning = "PROVISIONING"
    case deprovisioning = "DEPROVISIONING"
    case failed = "FAILED"
    case inactive = "INACTIVE"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A container instance's `status` (INACTIVE once deregistered).
public enum ContainerInstanceStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case active = "ACTIVE"
    case draining = "DRAINING"
    case registering = "REGISTERING"
    case deregistering = "DEREGISTERING"
    case registrationFailed = "REGISTRATION_FAILED"
    case inactive = "INACTIVE"

    /// The statuses `ListContainerInstances` filters on.
    public static let listFilters: [ContainerInstanceStatus] = [.active, .draining, .registering, .deregistering,
                                                                 .registrationFailed]
    /// The statuses `UpdateContainerInstancesState` sets.
    public static let settable: [ContainerInstanceStatus] = [.active, .draining]
    /// Registered and not deregistered: the instances a cluster counts and the scheduler sees.
    public static let registered: [ContainerInstanceStatus] = [.active, .draining]

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A service's `status` (DRAINING after DeleteService until its tasks are gone, then INACTIVE).
public enum ServiceStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case active = "ACTIVE"
    case draining = "DRAINING"
    case inactive = "INACTIVE"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A deployment's `status` within a service: PRIMARY is the newest, ACTIVE ones are rolled away from.
public enum DeploymentStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case primary = "PRIMARY"
    case active = "ACTIVE"
    case inactive = "INACTIVE"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A deployment's `rolloutState`.
public enum RolloutState: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case failed = "FAILED"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A task definition revision's `status`.
public enum TaskDefinitionStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case active = "ACTIVE"
    case inactive = "INACTIVE"
    case deleteInProgress = "DELETE_IN_PROGRESS"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A named load balancer's `status` in `FlotillaV1.DescribeLoadBalancers`.
public enum LoadBalancerStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Its embedded listener serves.
    case active = "ACTIVE"
    /// Its embedded listener is being started.
    case provisioning = "PROVISIONING"
    /// Its embedded listener cannot bind.
    case failed = "FAILED"
    /// The control plane runs no embedded balancers: an `ecs-lb` serves it.
    case external = "EXTERNAL"
    /// The answer of `DeleteLoadBalancer`.
    case deleted = "DELETED"

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}

/// A target's health `state`, in ELB's lower-case words.
public enum TargetHealthState: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case initial
    case healthy
    case unhealthy
    case unused
    case draining

    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }
}
