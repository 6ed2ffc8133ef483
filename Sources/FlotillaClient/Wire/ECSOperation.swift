public import ECSVocabulary

/// The ECS API operations Flotilla serves, spelled as the `X-Amz-Target` header spells them.
///
/// A closed list so a typo is a compile error, not a `UnknownOperationException` at run time.
public enum ECSOperation: String, Sendable, CaseIterable {
    case createCluster = "CreateCluster"
    case describeClusters = "DescribeClusters"
    case listClusters = "ListClusters"
    case deleteCluster = "DeleteCluster"
    case updateCluster = "UpdateCluster"
    case updateClusterSettings = "UpdateClusterSettings"
    case registerTaskDefinition = "RegisterTaskDefinition"
    case describeTaskDefinition = "DescribeTaskDefinition"
    case listTaskDefinitions = "ListTaskDefinitions"
    case listTaskDefinitionFamilies = "ListTaskDefinitionFamilies"
    case deregisterTaskDefinition = "DeregisterTaskDefinition"
    case deleteTaskDefinitions = "DeleteTaskDefinitions"
    case createService = "CreateService"
    case updateService = "UpdateService"
    case describeServices = "DescribeServices"
    case listServices = "ListServices"
    case deleteService = "DeleteService"
    case runTask = "RunTask"
    case startTask = "StartTask"
    case stopTask = "StopTask"
    case describeTasks = "DescribeTasks"
    case listTasks = "ListTasks"
    case registerContainerInstance = "RegisterContainerInstance"
    case deregisterContainerInstance = "DeregisterContainerInstance"
    case listContainerInstances = "ListContainerInstances"
    case describeContainerInstances = "DescribeContainerInstances"
    case updateContainerInstancesState = "UpdateContainerInstancesState"
    case listAttributes = "ListAttributes"
    case putAttributes = "PutAttributes"
    case deleteAttributes = "DeleteAttributes"
    case putAccountSetting = "PutAccountSetting"
    case listAccountSettings = "ListAccountSettings"
    case deleteAccountSetting = "DeleteAccountSetting"
    case discoverPollEndpoint = "DiscoverPollEndpoint"
    case tagResource = "TagResource"
    case untagResource = "UntagResource"
    case listTagsForResource = "ListTagsForResource"
    case executeCommand = "ExecuteCommand"
    // Flotilla's own operations (`FlotillaV1.`) and the join-token operations of the agent protocol (`FlotillaAgentV1.`).
    case getContainerLogStream = "GetContainerLogStream"
    case createLoadBalancer = "CreateLoadBalancer"
    case describeLoadBalancers = "DescribeLoadBalancers"
    case deleteLoadBalancer = "DeleteLoadBalancer"
    case reportTargetHealth = "ReportTargetHealth"
    case createJoinToken = "CreateJoinToken"
    case listJoinTokens = "ListJoinTokens"
    case deleteJoinToken = "DeleteJoinToken"
    case getJoinToken = "GetJoinToken"
    case rotateJoinToken = "RotateJoinToken"
    case createAccessKey = "CreateAccessKey"
    case listAccessKeys = "ListAccessKeys"
    case deleteAccessKey = "DeleteAccessKey"

    /// The service the operation belongs to: ECS's target prefix, or one of Flotilla's own.
    public var targetPrefix: TargetPrefix {
        switch self {
        case .getContainerLogStream, .createLoadBalancer, .describeLoadBalancers, .deleteLoadBalancer,
            .reportTargetHealth, .createAccessKey, .listAccessKeys, .deleteAccessKey:
            .flotilla
        case .createJoinToken, .listJoinTokens, .deleteJoinToken, .getJoinToken, .rotateJoinToken: .agent
        default: .ecs
        }
    }

    /// The value of the `X-Amz-Target` header for this operation.
    public var target: String { targetPrefix.target(rawValue) }
}
