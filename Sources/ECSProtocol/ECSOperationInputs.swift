import AgentProtocol

/// Every operation the control plane answers, by target prefix and name, with the input it takes: the routing table.
///
/// `ECSAPI` (ControlPlane) pairs each entry with the operation that runs it, and refuses to start when the two
/// tables differ in a name or an input type.
public enum ECSOperationInputs {
    /// ECS's operations (`AmazonEC2ContainerServiceV20141113.<Name>`).
    public static let ecs: [String: any ECSRequest.Type] = [
        // Clusters
        "CreateCluster": CreateClusterRequest.self,
        "DescribeClusters": DescribeClustersRequest.self,
        "ListClusters": ListRequest.self,
        "DeleteCluster": ClusterIdentifierRequest.self,
        "UpdateCluster": UpdateClusterRequest.self,
        "UpdateClusterSettings": UpdateClusterRequest.self,
        // Task definitions
        "RegisterTaskDefinition": RegisterTaskDefinitionRequest.self,
        "DescribeTaskDefinition": DescribeTaskDefinitionRequest.self,
        "ListTaskDefinitions": ListTaskDefinitionsRequest.self,
        "ListTaskDefinitionFamilies": ListTaskDefinitionFamiliesRequest.self,
        "DeregisterTaskDefinition": DeregisterTaskDefinitionRequest.self,
        "DeleteTaskDefinitions": DeleteTaskDefinitionsRequest.self,
        // Services
        "CreateService": CreateServiceRequest.self,
        "DescribeServices": DescribeServicesRequest.self,
        "ListServices": ListServicesRequest.self,
        "UpdateService": UpdateServiceRequest.self,
        "DeleteService": DeleteServiceRequest.self,
        // Tasks
        "RunTask": RunTaskRequest.self,
        "StartTask": StartTaskRequest.self,
        "StopTask": StopTaskRequest.self,
        "DescribeTasks": DescribeTasksRequest.self,
        "ListTasks": ListTasksRequest.self,
        "ExecuteCommand": ExecuteCommandRequest.self,
        // Container instances and attributes
        "RegisterContainerInstance": RegisterContainerInstanceRequest.self,
        "DeregisterContainerInstance": DeregisterContainerInstanceRequest.self,
        "ListContainerInstances": ListContainerInstancesRequest.self,
        "DescribeContainerInstances": DescribeContainerInstancesRequest.self,
        "UpdateContainerInstancesState": UpdateContainerInstancesStateRequest.self,
        "DiscoverPollEndpoint": DiscoverPollEndpointRequest.self,
        "PutAttributes": AttributesRequest.self,
        "DeleteAttributes": AttributesRequest.self,
        "ListAttributes": ListAttributesRequest.self,
        // Account settings and tags
        "PutAccountSetting": PutAccountSettingRequest.self,
        "DeleteAccountSetting": DeleteAccountSettingRequest.self,
        "ListAccountSettings": ListAccountSettingsRequest.self,
        "TagResource": TagResourceRequest.self,
        "UntagResource": UntagResourceRequest.self,
        "ListTagsForResource": ListTagsForResourceRequest.self,
    ]

    /// The agent protocol and the join tokens (`FlotillaAgentV1.<Name>`).
    public static let agent: [String: any ECSRequest.Type] = [
        "Register": RegisterAgentRequest.self,
        "PollDesiredTasks": PollDesiredTasksRequest.self,
        "SubmitStateChanges": SubmitStateChangesRequest.self,
        "RotateCredential": RotateCredentialRequest.self,
        "CreateJoinToken": CreateJoinTokenRequest.self,
        "ListJoinTokens": JoinTokenRequest.self,
        "DeleteJoinToken": DeleteJoinTokenRequest.self,
        "GetJoinToken": JoinTokenRequest.self,
        "RotateJoinToken": JoinTokenRequest.self,
    ]

    /// Flotilla's own operations (`FlotillaV1.<Name>`).
    public static let flotilla: [String: any ECSRequest.Type] = [
        "CreateLoadBalancer": CreateLoadBalancerRequest.self,
        "DescribeLoadBalancers": DescribeLoadBalancersRequest.self,
        "DeleteLoadBalancer": DeleteLoadBalancerRequest.self,
        "ReportTargetHealth": ReportTargetHealthRequest.self,
        "GetContainerLogStream": GetContainerLogStreamRequest.self,
        "CreateAccessKey": CreateAccessKeyRequest.self,
        "ListAccessKeys": ListAccessKeysRequest.self,
        "DeleteAccessKey": DeleteAccessKeyRequest.self,
    ]

    /// The parameter store's operations (`AmazonSSM.<Name>`), as AWS Systems Manager names them.
    public static let ssm: [String: any ECSRequest.Type] = [
        "PutParameter": PutParameterRequest.self,
        "GetParameter": GetParameterRequest.self,
        "GetParameters": GetParametersRequest.self,
        "GetParametersByPath": GetParametersByPathRequest.self,
        "DeleteParameter": DeleteParameterRequest.self,
        "DeleteParameters": DeleteParametersRequest.self,
        "DescribeParameters": DescribeParametersRequest.self,
    ]

    /// The secret store's operations (`secretsmanager.<Name>`), as AWS Secrets Manager names them.
    public static let secretsManager: [String: any ECSRequest.Type] = [
        "CreateSecret": CreateSecretRequest.self,
        "GetSecretValue": GetSecretValueRequest.self,
        "PutSecretValue": PutSecretValueRequest.self,
        "DeleteSecret": DeleteSecretRequest.self,
        "RestoreSecret": RestoreSecretRequest.self,
        "DescribeSecret": DescribeSecretRequest.self,
        "ListSecrets": ListSecretsRequest.self,
    ]

    /// The tables by target prefix.
    public static let byPrefix: [String: [String: any ECSRequest.Type]] = [
        ECSWire.targetPrefix: ecs, ECSWire.agentTargetPrefix: agent, ECSWire.flotillaTargetPrefix: flotilla,
        ECSWire.ssmTargetPrefix: ssm, ECSWire.secretsManagerTargetPrefix: secretsManager,
    ]
}
