import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl create-load-balancer`: Flotilla's CreateLoadBalancer (a named TCP balancer services attach to).
struct CreateLoadBalancer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-load-balancer",
        abstract: "Creates a named TCP load balancer that services attach to with --load-balancers.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The balancer's name (1-32 letters, digits, hyphens).") var loadBalancerName: String
    @Option(help: "The TCP port it listens on.") var listenerPort: Int
    @Option(help: "The address it listens on (default 0.0.0.0).") var listenerAddress: String?
    @Option(help: "round-robin (default) or least-connections.") var algorithm: String?
    @Option(help: "TCP (default) or HTTP.") var healthCheckProtocol: String?
    @Option(help: "The HTTP health check's path (implies HTTP).") var healthCheckPath: String?
    @Option(help: "Seconds between health checks (default 10).") var healthCheckIntervalSeconds: Double?
    @Option(help: "Seconds before a check fails (default 5).") var healthCheckTimeoutSeconds: Double?
    @Option(help: "Passes in a row that make a target healthy (default 3).") var healthyThreshold: Int?
    @Option(help: "Failures in a row that make a target unhealthy (default 2).") var unhealthyThreshold: Int?
    @Option(help: "Seconds a deregistered target's connections may go on (default 300).")
    var deregistrationDelaySeconds: Double?

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("loadBalancerName", loadBalancerName)
        body.set("listenerPort", listenerPort)
        body.set("listenerAddress", listenerAddress)
        body.set("algorithm", algorithm)
        if let deregistrationDelaySeconds { body["deregistrationDelaySeconds"] = .number(deregistrationDelaySeconds) }
        var healthCheck: [String: JSONValue] = [:]
        healthCheck.set("protocol", healthCheckProtocol)
        healthCheck.set("path", healthCheckPath)
        if let healthCheckIntervalSeconds { healthCheck["intervalSeconds"] = .number(healthCheckIntervalSeconds) }
        if let healthCheckTimeoutSeconds { healthCheck["timeoutSeconds"] = .number(healthCheckTimeoutSeconds) }
        healthCheck.set("healthyThreshold", healthyThreshold)
        healthCheck.set("unhealthyThreshold", unhealthyThreshold)
        if !healthCheck.isEmpty { body["healthCheck"] = .object(healthCheck) }
        let answer = try await global.client(configuration).call(.createLoadBalancer, .object(body))
        global.emit(answer) { LoadBalancerTables.loadBalancers([$0["loadBalancer"] ?? .null]) }
    }
}
