public import ECSProtocol

extension LoadBalancerConfiguration {
    /// The configuration a control plane's balancer definition runs with: the embedded balancers' and
    /// `ecs-lb --control-plane`'s. What a definition leaves out (a stored one leaves nothing) takes ECSProtocol's
    /// defaults, as `CreateLoadBalancer` does.
    public init(_ definition: LoadBalancerDefinition) {
        let check = definition.healthCheck.withDefaults
        let interval = check.intervalSeconds ?? LoadBalancerHealthCheck.defaultIntervalSeconds
        self.init(
            name: definition.loadBalancerName, listenerHost: definition.listenerAddress,
            listenerPort: definition.listenerPort,
            algorithm: definition.algorithm == LoadBalancerDefinition.leastConnections
                ? .leastOutstandingConnections : .roundRobin,
            healthCheck: TargetHealthCheck(
                kind: check.protocol == LoadBalancerHealthCheck.http
                    ? .http(path: check.path ?? LoadBalancerHealthCheck.defaultPath) : .tcp,
                interval: .seconds(interval),
                timeout: .seconds(check.timeoutSeconds ?? min(LoadBalancerHealthCheck.defaultTimeoutSeconds, interval)),
                healthyThreshold: check.healthyThreshold ?? LoadBalancerHealthCheck.defaultHealthyThreshold,
                unhealthyThreshold: check.unhealthyThreshold ?? LoadBalancerHealthCheck.defaultUnhealthyThreshold),
            deregistrationDelay: .seconds(definition.deregistrationDelaySeconds))
    }
}
