public import AgentProtocol
public import ECSProtocol
public import ECSVocabulary
public import Foundation
public import TaskDefinitions

/// An ECS cluster.
public struct Cluster: Codable, Hashable, Sendable {
    public var clusterArn: String
    public var clusterName: String
    public var status: ClusterStatus
    public var registeredContainerInstancesCount: Int?
    public var runningTasksCount: Int?
    public var pendingTasksCount: Int?
    public var activeServicesCount: Int?
    public var statistics: [ClusterSetting]?
    public var attachments: [JSONValue]?
    public var tags: [ResourceTag]?
    public var settings: [ClusterSetting]?
    public var configuration: JSONValue?
    public var serviceConnectDefaults: JSONValue?
    public var capacityProviders: [String]?
    public var defaultCapacityProviderStrategy: [JSONValue]?
}

/// One rollout of a service's task definition (PRIMARY is the newest; ACTIVE ones drain).
public struct Deployment: Codable, Hashable, Sendable {
    public var id: String
    public var status: DeploymentStatus
    public var taskDefinition: String
    public var desiredCount: Int
    public var pendingCount: Int
    public var runningCount: Int
    public var failedTasks: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var launchType: String?
    public var rolloutState: RolloutState?
    public var rolloutStateReason: String?
}

/// An entry of a service's event log.
public struct ServiceEvent: Codable, Hashable, Sendable {
    public var id: String
    public var createdAt: Date
    public var message: String
}

/// An ECS service (`ECSService`: `Service` is ServiceLifecycle's).
public struct ECSService: Codable, Hashable, Sendable {
    public var serviceArn: String
    public var serviceName: String
    public var clusterArn: String
    public var loadBalancers: [JSONValue]?
    public var serviceRegistries: [JSONValue]?
    public var status: ServiceStatus
    public var desiredCount: Int
    public var runningCount: Int
    public var pendingCount: Int
    public var launchType: String?
    public var capacityProviderStrategy: [JSONValue]?
    public var platformVersion: String?
    public var taskDefinition: String
    public var deploymentConfiguration: DeploymentConfiguration?
    public var deployments: [Deployment]
    public var roleArn: String?
    public var events: [ServiceEvent]
    public var createdAt: Date
    public var placementConstraints: [JSONValue]?
    public var placementStrategy: [JSONValue]?
    public var networkConfiguration: JSONValue?
    public var healthCheckGracePeriodSeconds: Int?
    public var schedulingStrategy: String?
    public var deploymentController: JSONValue?
    public var tags: [ResourceTag]?
    public var createdBy: String?
    public var enableECSManagedTags: Bool?
    public var propagateTags: String?
    public var enableExecuteCommand: Bool?
}

/// An ECS task (`ECSTask`: `Task` is Swift's).
public struct ECSTask: Codable, Hashable, Sendable {
    public var taskArn: String
    public var clusterArn: String
    public var taskDefinitionArn: String
    public var containerInstanceArn: String?
    public var overrides: JSONValue?
    public var lastStatus: TaskStatus
    public var desiredStatus: TaskStatus
    public var cpu: String?
    public var memory: String?
    public var containers: [TaskContainer]
    public var startedBy: String?
    public var group: String?
    public var launchType: String?
    public var version: Int
    public var stoppedReason: String?
    /// As the agent reported it: a newer agent's word is kept as sent.
    public var stopCode: WireValue<StopCode>?
    public var createdAt: Date
    public var pullStartedAt: Date?
    public var pullStoppedAt: Date?
    public var startedAt: Date?
    public var stoppingAt: Date?
    public var executionStoppedAt: Date?
    public var stoppedAt: Date?
    public var healthStatus: HealthStatus?
    public var tags: [ResourceTag]?
}

/// A host registered by its agent.
public struct ContainerInstance: Codable, Hashable, Sendable {
    public var containerInstanceArn: String
    public var ec2InstanceId: String?
    public var version: Int
    public var versionInfo: JSONValue?
    public var remainingResources: [Resource]
    public var registeredResources: [Resource]
    public var status: ContainerInstanceStatus
    public var statusReason: String?
    public var agentConnected: Bool
    public var runningTasksCount: Int
    public var pendingTasksCount: Int
    public var attributes: [Attribute]?
    public var registeredAt: Date
    public var tags: [ResourceTag]?
}

/// ECS `Failure`: a per-item miss inside a successful answer.
public struct Failure: Codable, Hashable, Sendable {
    public var arn: String?
    public var reason: String
    public var detail: String?
}

/// An account setting (`serviceLongArnFormat`, `containerInsights`, ...).
public struct Setting: Codable, Hashable, Sendable {
    public var name: String
    public var value: String
    public var principalArn: String
    public var type: String?
}
