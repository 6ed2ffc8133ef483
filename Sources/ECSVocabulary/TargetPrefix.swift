/// The services a `POST /` names in its `X-Amz-Target` header (`<prefix>.<Operation>`): ECS's own and Flotilla's two.
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

    /// The `X-Amz-Target` value of `operation` under this prefix: `AmazonEC2ContainerServiceV20141113.ListClusters`.
    public func target(_ operation: String) -> String { "\(rawValue).\(operation)" }

    /// The prefix with its separating dot, as a target starts with it.
    public var dotted: String { "\(rawValue)." }

    public var description: String { rawValue }
}
