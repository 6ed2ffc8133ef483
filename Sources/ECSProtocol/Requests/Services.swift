public import TaskDefinitions

/// The input of `CreateService`.
public struct CreateServiceRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var serviceName: String
    public var taskDefinition: String?
    public var loadBalancers: [JSONValue]?
    public var serviceRegistries: [JSONValue]?
    public var desiredCount: Int?
    public var clientToken: String?
    public var launchType: String?
    public var capacityProviderStrategy: [JSONValue]?
    public var platformVersion: String?
    public var role: String?
    public var deploymentConfiguration: DeploymentConfiguration?
    public var placementConstraints: [JSONValue]?
    public var placementStrategy: [JSONValue]?
    public var networkConfiguration: JSONValue?
    public var healthCheckGracePeriodSeconds: Int?
    public var schedulingStrategy: String?
    public var deploymentController: JSONValue?
    public var tags: [ResourceTag]?
    public var enableECSManagedTags: Bool?
    public var propagateTags: String?
    public var enableExecuteCommand: Bool?
}

/// The input of `DescribeServices`.
public struct DescribeServicesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var services: [String]
    public var include: [String]?
}

/// The input of `ListServices`.
public struct ListServicesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var nextToken: String?
    public var maxResults: Int?
    public var launchType: String?
    public var schedulingStrategy: String?
}

/// The input of `UpdateService`.
public struct UpdateServiceRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var service: String
    public var desiredCount: Int?
    public var taskDefinition: String?
    public var capacityProviderStrategy: [JSONValue]?
    public var deploymentConfiguration: DeploymentConfiguration?
    public var networkConfiguration: JSONValue?
    public var placementConstraints: [JSONValue]?
    public var placementStrategy: [JSONValue]?
    public var platformVersion: String?
    public var forceNewDeployment: Bool?
    public var healthCheckGracePeriodSeconds: Int?
    public var enableExecuteCommand: Bool?
    public var enableECSManagedTags: Bool?
    public var loadBalancers: [JSONValue]?
    public var propagateTags: String?
    public var serviceRegistries: [JSONValue]?
}

/// The input of `DeleteService`.
public struct DeleteServiceRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var service: String
    public var force: Bool?
}

/// The limits of a service's settings (CreateService, UpdateService).
public enum ServiceRules {
    /// ECS's quota of tasks per service.
    public static let maxDesiredCount = 5000
    /// ECS keeps a service's last 100 events.
    public static let maxEvents = 100

    /// 0 to `maxDesiredCount`.
    public static func checkDesiredCount(_ count: Int?) throws(ECSError) {
        guard let count else { return }
        guard (0...maxDesiredCount).contains(count) else {
            throw .invalidParameter("desiredCount: must be between 0 and \(maxDesiredCount), got \(count).")
        }
    }

    /// minimumHealthyPercent 0-100, maximumPercent 100-200.
    public static func checkDeploymentConfiguration(_ configuration: DeploymentConfiguration?) throws(ECSError) {
        guard let configuration else { return }
        if let minimum = configuration.minimumHealthyPercent, !(0...100).contains(minimum) {
            throw .invalidParameter(
                "deploymentConfiguration.minimumHealthyPercent: must be between 0 and 100, got \(minimum).")
        }
        if let maximum = configuration.maximumPercent, !(100...200).contains(maximum) {
            throw .invalidParameter(
                "deploymentConfiguration.maximumPercent: must be between 100 and 200, got \(maximum).")
        }
    }

    /// 0 to Int32.max seconds.
    public static func checkGracePeriod(_ seconds: Int?) throws(ECSError) {
        if let seconds, !(0...2_147_483_647).contains(seconds) {
            throw .invalidParameter("healthCheckGracePeriodSeconds: must be between 0 and 2147483647, got \(seconds).")
        }
    }
}

extension CreateServiceRequest {
    public func validate() throws(ECSError) {
        guard (1...255).contains(serviceName.count), serviceName.allSatisfy(Names.isNameCharacter) else {
            throw ECSError.invalidParameter("serviceName: must be 1 to 255 letters, digits, hyphens and underscores.")
        }
        try ServiceRules.checkDesiredCount(desiredCount)
        try ServiceRules.checkDeploymentConfiguration(deploymentConfiguration)
        try ServiceRules.checkGracePeriod(healthCheckGracePeriodSeconds)
        try PlacementRules.check(constraints: placementConstraints, strategy: placementStrategy)
        try TagRules.check(tags)
        guard ["REPLICA", "DAEMON"].contains(strategy) else {
            throw ECSError.invalidParameter("schedulingStrategy: must be REPLICA or DAEMON.")
        }
        if strategy == "DAEMON", desiredCount != nil {
            throw ECSError.invalidParameter("desiredCount: a DAEMON service takes no desiredCount.")
        }
        guard ["EC2", "EXTERNAL"].contains(launchTypeOrDefault) else {  // not an ECS status: launch types
            throw ECSError.invalidParameter(
                "launchType: must be EC2 or EXTERNAL; Flotilla runs tasks on its own hosts.")
        }
        _ = try requiredTaskDefinition()
    }

    /// `schedulingStrategy`, REPLICA when not given.
    public var strategy: String { schedulingStrategy ?? "REPLICA" }
    /// `launchType`, EC2 when not given.
    public var launchTypeOrDefault: String { launchType ?? "EC2" }

    /// `taskDefinition`, which CreateService requires.
    public func requiredTaskDefinition() throws(ECSError) -> String {
        guard let taskDefinition else { throw ECSError.invalidParameter("taskDefinition: is required.") }
        return taskDefinition
    }
}

extension DescribeServicesRequest {
    public func validate() throws(ECSError) {
        guard (1...10).contains(services.count) else {
            throw ECSError.invalidParameter("services: give 1 to 10 services, got \(services.count).")
        }
    }
}

extension ListServicesRequest {
    public func validate() throws(ECSError) { _ = try Pagination.limit(maxResults, default: 10, max: 100) }
}

extension UpdateServiceRequest {
    public func validate() throws(ECSError) {
        try ServiceRules.checkDesiredCount(desiredCount)
        try ServiceRules.checkDeploymentConfiguration(deploymentConfiguration)
        try ServiceRules.checkGracePeriod(healthCheckGracePeriodSeconds)
        try PlacementRules.check(constraints: placementConstraints, strategy: placementStrategy)
    }
}
