/// A cluster's `status`.
public enum ClusterStatus: String, ECSWord {
    case active = "ACTIVE"
    case provisioning = "PROVISIONING"
    case deprovisioning = "DEPROVISIONING"
    case failed = "FAILED"
    case inactive = "INACTIVE"
}

/// A container instance's `status` (INACTIVE once deregistered).
public enum ContainerInstanceStatus: String, ECSWord {
    case active = "ACTIVE"
    case draining = "DRAINING"
    case registering = "REGISTERING"
    case deregistering = "DEREGISTERING"
    case registrationFailed = "REGISTRATION_FAILED"
    case inactive = "INACTIVE"

    /// The statuses `ListContainerInstances` filters on.
    public static let listFilters: [ContainerInstanceStatus] = [
        .active, .draining, .registering, .deregistering,
        .registrationFailed,
    ]
    /// The statuses `UpdateContainerInstancesState` sets.
    public static let settable: [ContainerInstanceStatus] = [.active, .draining]
    /// Registered and not deregistered: the instances a cluster counts and the scheduler sees.
    public static let registered: [ContainerInstanceStatus] = [.active, .draining]
}

/// A service's `status` (DRAINING after DeleteService until its tasks are gone, then INACTIVE).
public enum ServiceStatus: String, ECSWord {
    case active = "ACTIVE"
    case draining = "DRAINING"
    case inactive = "INACTIVE"
}

/// A deployment's `status` within a service: PRIMARY is the newest, ACTIVE ones are rolled away from.
public enum DeploymentStatus: String, ECSWord {
    case primary = "PRIMARY"
    case active = "ACTIVE"
    case inactive = "INACTIVE"
}

/// A deployment's `rolloutState`.
public enum RolloutState: String, ECSWord {
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case failed = "FAILED"
}

/// A task definition revision's `status`.
public enum TaskDefinitionStatus: String, ECSWord {
    case active = "ACTIVE"
    case inactive = "INACTIVE"
    case deleteInProgress = "DELETE_IN_PROGRESS"
}

/// A named load balancer's `status` in `FlotillaV1.DescribeLoadBalancers`.
public enum LoadBalancerStatus: String, ECSWord {
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
}

/// A target's health `state`, in ELB's lower-case words.
public enum TargetHealthState: String, ECSWord {
    case initial
    case healthy
    case unhealthy
    case unused
    case draining
}
