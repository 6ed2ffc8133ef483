import ECSProtocol
import Foundation
import LoadBalancer
import Testing

/// What `ecs-lb --control-plane` makes of a DescribeLoadBalancers answer: the definition's configuration (the same
/// conversion as the embedded balancers') and the targets that are not draining.
@Suite("Target sources: the control plane's description", .timeLimit(.minutes(10)))
struct TargetSourceTests {
    /// A DescribeLoadBalancers answer as the control plane sends it (dates as epoch seconds).
    static let answer = #"""
        {"loadBalancers": [{
            "loadBalancerName": "web", "loadBalancerArn": "arn:aws:ecs:us-east-1:000000000000:loadbalancer/web",
            "listenerAddress": "127.0.0.1", "listenerPort": 8080, "algorithm": "least-connections",
            "healthCheck": {"protocol": "HTTP", "path": "/healthz", "intervalSeconds": 2, "timeoutSeconds": 1,
                            "healthyThreshold": 2, "unhealthyThreshold": 3},
            "deregistrationDelaySeconds": 30, "createdAt": 1795000000, "status": "EXTERNAL", "services": [],
            "targets": [
                {"id": "task-a", "host": "10.0.0.1", "port": 32768, "targetHealth": {"state": "healthy"},
                 "activeConnections": 0, "totalConnections": 0, "connectErrors": 0, "bytesIn": 0, "bytesOut": 0},
                {"id": "task-b", "host": "10.0.0.2", "port": 32769,
                 "targetHealth": {"state": "draining", "reason": "Target.DeregistrationInProgress"},
                 "activeConnections": 1, "totalConnections": 1, "connectErrors": 0, "bytesIn": 0, "bytesOut": 0},
                {"id": "task-c", "host": "10.0.0.3", "port": 32770, "targetHealth": {"state": "a-newer-word"},
                 "activeConnections": 0, "totalConnections": 0, "connectErrors": 0, "bytesIn": 0, "bytesOut": 0}
            ]
        }], "failures": []}
        """#

    static func described() throws -> LoadBalancerDescription {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let answer = try decoder.decode(LoadBalancerDescriptions.self, from: Data(answer.utf8))
        return try #require(answer.loadBalancers.first)
    }

    @Test func describedBalancerRunsItsDefinitionWithoutDrainingTargets() throws {
        // Given the control plane's description of a balancer
        let balancer = try Self.described()

        // When it becomes target settings
        let settings = TargetSettings(balancer)

        // Then the configuration is the definition's, and every target but the draining one serves
        #expect(settings.configuration.name == "web")
        #expect(settings.configuration.listenerHost == "127.0.0.1")
        #expect(settings.configuration.listenerPort == 8080)
        #expect(settings.configuration.algorithm == .leastOutstandingConnections)
        #expect(settings.configuration.healthCheck.kind == .http(path: "/healthz"))
        #expect(settings.configuration.healthCheck.interval == .seconds(2))
        #expect(settings.configuration.healthCheck.timeout == .seconds(1))
        #expect(settings.configuration.healthCheck.healthyThreshold == 2)
        #expect(settings.configuration.healthCheck.unhealthyThreshold == 3)
        #expect(settings.configuration.deregistrationDelay == .seconds(30))
        #expect(settings.configuration == LoadBalancerConfiguration(balancer.definition))
        #expect(settings.targets.map(\.id) == ["task-a", "task-c"])
    }

    @Test func listenerOverrideReplacesTheDefinitionsListener() throws {
        // Given the description, and `--listen 0.0.0.0:9000`
        let balancer = try Self.described()

        // When it becomes target settings with the override
        let settings = TargetSettings(balancer, listenerHost: "0.0.0.0", listenerPort: 9000)

        // Then only the listener differs
        #expect(settings.configuration.listenerHost == "0.0.0.0")
        #expect(settings.configuration.listenerPort == 9000)
        #expect(settings.configuration.healthCheck == LoadBalancerConfiguration(balancer.definition).healthCheck)
    }

    @Test func definitionLeavingOutTheCheckTakesTheDefaults() {
        // Given a definition whose health check names nothing
        let definition = LoadBalancerDefinition(
            loadBalancerName: "tcp", loadBalancerArn: "arn", listenerAddress: "0.0.0.0", listenerPort: 80,
            algorithm: "round-robin", healthCheck: LoadBalancerHealthCheck(), deregistrationDelaySeconds: 300,
            createdAt: Date(timeIntervalSince1970: 0))

        // When it becomes a configuration
        let configuration = LoadBalancerConfiguration(definition)

        // Then the check is ELB's default TCP check, as CreateLoadBalancer would have stored it
        #expect(configuration.algorithm == .roundRobin)
        #expect(
            configuration.healthCheck == TargetHealthCheck(kind: .tcp, interval: .seconds(10), timeout: .seconds(5)))
    }
}
