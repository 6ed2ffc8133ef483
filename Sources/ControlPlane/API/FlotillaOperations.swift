extension ECSAPI {
    /// Flotilla's own operations beside ECS's, for what ECS does through other AWS services (named load balancers,
    /// container log streams, access keys): `X-Amz-Target: FlotillaV1.<Operation>`, the same JSON 1.1 wire and errors.
    static let flotillaOperations: [String: OperationHandler] =
        containerLogOperations
        .merging(loadBalancerOperations) { first, _ in first }
        .merging(accessKeyOperations) { first, _ in first }
}
