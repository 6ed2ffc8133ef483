import TaskDefinitions

// MARK: - Requests and responses

struct CreateServiceRequest: Decodable {
    var cluster: String?
    var serviceName: String
    var taskDefinition: String?
    var loadBalancers: [JSONValue]?
    var serviceRegistries: [JSONValue]?
    var desiredCount: Int?
    var clientToken: String?
    var launchType: String?
    var capacityProviderStrategy: [JSONValue]?
    var platformVersion: String?
    var role: String?
    var deploymentConfiguration: DeploymentConfiguration?
    var placementConstraints: [JSONValue]?
    var placementStrategy: [JSONValue]?
    var networkConfiguration: JSONValue?
    var healthCheckGracePeriodSeconds: Int?
    var schedulingStrategy: String?
    var deploymentController: JSONValue?
    var tags: [ResourceTag]?
    var enableECSManagedTags: Bool?
    var propagateTags: String?
    var enableExecuteCommand: Bool?
}

struct ServiceResponse: Encodable { var service: ECSService }

struct DescribeServicesRequest: Decodable {
    var cluster: String?
    var services: [String]
    var include: [String]?
}

struct DescribeServicesResponse: Encodable {
    var services: [ECSService]
    var failures: [Failure]
}

struct ListServicesRequest: Decodable {
    var cluster: String?
    var nextToken: String?
    var maxResults: Int?
    var launchType: String?
    var schedulingStrategy: String?
}

struct ListServicesResponse: Encodable {
    var serviceArns: [String]
    var nextToken: String?
}

struct UpdateServiceRequest: Decodable {
    var cluster: String?
    var service: String
    var desiredCount: Int?
    var taskDefinition: String?
    var capacityProviderStrategy: [JSONValue]?
    var deploymentConfiguration: DeploymentConfiguration?
    var networkConfiguration: JSONValue?
    var placementConstraints: [JSONValue]?
    var placementStrategy: [JSONValue]?
    var platformVersion: String?
    var forceNewDeployment: Bool?
    var healthCheckGracePeriodSeconds: Int?
    var enableExecuteCommand: Bool?
    var enableECSManagedTags: Bool?
    var loadBalancers: [JSONValue]?
    var propagateTags: String?
    var serviceRegistries: [JSONValue]?
}

struct DeleteServiceRequest: Decodable {
    var cluster: String?
    var service: String
    var force: Bool?
}
