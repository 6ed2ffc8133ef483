/// The services a `POST /` names in its `X-Amz-Target` header (`<prefix>.<Operation>`): ECS's own, Flotilla's two,
/// and the two secret stores tasks read from (Systems Manager Parameter Store and Secrets Manager).
///
/// The one place these prefixes are spelled: the control plane routes by them (ECSProtocol's `ECSWire`), the agent
/// and the client send them (AgentProtocol's `AgentWire`, FlotillaClient's `ECSOperation`).
public enum TargetPrefix: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// ECS's JSON target prefix (botocore `metadata.targetPrefix`).
    case ecs = "AmazonEC2ContainerServiceV20141113"
    /// The agent protocol and the join-token operations.
    case agent = "FlotillaAgentV1"
    /// Flotilla's own user-facing operations (named load balancers, container log streams).
    case flotilla = "FlotillaV1"
    /// AWS Systems Manager's JSON target prefix (botocore `ssm` `metadata.targetPrefix`): the parameter store.
    case ssm = "AmazonSSM"
    /// AWS Secrets Manager's JSON target prefix (botocore `secretsmanager` `metadata.targetPrefix`).
    case secretsManager = "secretsmanager"

    /// The prefix `target` starts with (`AmazonSSM.GetParameter` → `.ssm`); nil for an unknown one.
    public init?(target: String) {
        guard let dot = target.lastIndex(of: ".") else { return nil }
        self.init(rawValue: String(target[..<dot]))
    }

    /// The service name SigV4 credential scopes carry for calls under this prefix (botocore's `signingName`, else
    /// its `endpointPrefix`): the awscli signs `aws ssm` for `ssm` and `aws secretsmanager` for `secretsmanager`;
    /// ECS, the agent protocol and Flotilla's own operations sign for `ecs`.
    public var signingName: String {
        switch self {
        case .ecs, .agent, .flotilla: "ecs"
        case .ssm: "ssm"
        case .secretsManager: "secretsmanager"
        }
    }

    /// The `X-Amz-Target` value of `operation` under this prefix: `AmazonEC2ContainerServiceV20141113.ListClusters`.
    public func target(_ operation: String) -> String { "\(rawValue).\(operation)" }

    /// The prefix with its separating dot, as a target starts with it.
    public var dotted: String { "\(rawValue)." }

    public var description: String { rawValue }
}
