import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 on real tasks: deployments, rollbacks and agent restarts behind the embedded balancer, under a client
/// sending a request every 20 ms through it. Not one request may fail.
@Suite(
    "E2E: deployments and agent restarts drop no request", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct E2EDeploymentTests {
    /// One service behind its own balancer, with its own task-definition family.
    struct BalancedService {
        var name: String
        var replicas: Int
        var minimumHealthyPercent: Int
        /// The balancer's listener port on 127.0.0.1.
        var port: Int
        var url: String { "http://127.0.0.1:\(port)/" }
    }

    /// Creates balancer `name` (HTTP check of `/` every second, healthy after one pass) and service `name` behind it
    /// (family `name`, web.json with a page naming the replica and the revision, circuit breaker with rollback);
    /// returns once every replica is a healthy target.
    func createBalancedService(
        _ cluster: E2ECluster, name: String, replicas: Int,
        minimumHealthyPercent: Int
    ) async throws -> BalancedService {
        let port = try freePort(on: "127.0.0.1")
        try await cluster.controlPlane.invoke(
            "FlotillaV1.CreateLoadBalancer",
            [
                "loadBalancerName": name, "listenerPort": port, "listenerAddress": "127.0.0.1",
                "healthCheck": [
                    "protocol": "HTTP", "path": "/", "intervalSeconds": 1, "timeoutSeconds": 1,
                    "healthyThreshold": 1, "unhealthyThreshold": 2,
                ],
                "deregistrationDelaySeconds": 10,
            ])
        try await registerRevision(cluster, family: name)
        try await cluster.ecs(
            "CreateService",
            [
                "serviceName": name, "taskDefinition": name, "desiredCount": replicas,
                "deploymentConfiguration": [
                    "minimumHealthyPercent": minimumHealthyPercent, "maximumPercent": 200,
                    "deploymentCircuitBreaker": ["enable": true, "rollback": true],
                ],
                "loadBalancers": [["loadBalancerName": name, "containerName": "web", "containerPort": 80]],
            ])
        let service = BalancedService(
            name: name, replicas: replicas, minimumHealthyPercent: minimumHealthyPercent, port: port)
        try await waitForCompletedDeployment(cluster, service)
        return service
    }

    /// Registers a revision of `family` from web.json; `edit` changes its only container.
    @discardableResult
    func registerRevision(
        _ cluster: E2ECluster, family: String,
        edit: (inout [String: Any]) -> Void = { _ in }
    ) async throws -> String {
        try await cluster.registerExample("web.json") { definition in
            definition["family"] = family
            var containers = definition["containerDefinitions"] as! [[String: Any]]
            containers[0]["command"] = [
                "mkdir -p /www && echo $(hostname)-$RANDOM > /www/index.html && exec httpd -f -p 80 -h /www"
            ]
            edit(&containers[0])
            definition["containerDefinitions"] = containers
        }
    }

    /// Waits until the service's only deployment is COMPLETED (ECS: its tasks healthy, the replaced ones gone),
    /// optionally on `taskDefinition` (family:revision), and every one of its tasks is a healthy target; returns how
    /// long that took.
    @discardableResult
    func waitForCompletedDeployment(
        _ cluster: E2ECluster, _ service: BalancedService, taskDefinition: String? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> Duration {
        let start = ContinuousClock.now
        let done = try await eventually(within: timeout, every: .milliseconds(100)) { () async throws -> Bool? in
            let deployments = try await cluster.service(service.name)["deployments"]?.arrayValue ?? []
            guard deployments.count == 1, let only = deployments.first,
                only["rolloutState"]?.stringValue == "COMPLETED",
                taskDefinition.map({ only["taskDefinition"]?.stringValue?.hasSuffix("/\($0)") == true }) ?? true
            else { return nil }
            let running = try await cluster.tasks(service: service.name).filter { $0.lastStatus == "RUNNING" }
            guard running.count == service.replicas else { return nil }
            return try await healthyTargetCount(cluster, service.name) == service.replicas ? true : nil
        }
        if done == nil {
            let events = try await cluster.events(service.name).prefix(12).joined(separator: "\n")
            throw ClusterHarnessError.unexpected(
                "service \(service.name) did not complete its deployment:\n\(events)\n\(cluster.logTails())")
        }
        return ContinuousClock.now - start
    }

    func healthyTargetCount(_ cluster: E2ECluster, _ balancer: String) async throws -> Int {
        let answer = try await cluster.controlPlane.invoke("FlotillaV1.DescribeLoadBalancers", ["names": [balancer]])
        return (answer["loadBalancers"]?[0]?["targets"]?.arrayValue ?? [])
            .filter { $0["targetHealth"]?["state"]?.stringValue == "healthy" }.count
    }

    /// Force-new-deployment, a deployment to a new revision, then a deployment to an image no host has, which the
    /// circuit breaker rolls back: each completes with every request through the balancer answered.
    func deployThreeTimes(
        _ cluster: E2ECluster, _ service: BalancedService
    ) async throws -> (traffic: TrafficCount, forced: Duration) {
        let name = service.name
        let (forced, traffic) = try await withTraffic(to: service.port) { () async throws -> Duration in
            // When the service is redeployed as it is
            try await cluster.ecs("UpdateService", ["service": name, "forceNewDeployment": true])
            let forced = try await waitForCompletedDeployment(cluster, service)
            // When it is deployed to a new revision
            let revision = try await registerRevision(cluster, family: name) { container in
                container["command"] = [
                    "mkdir -p /www && echo revision-2 > /www/index.html && exec httpd -f -p 80 -h /www"
                ]
            }
            try await cluster.ecs("UpdateService", ["service": name, "taskDefinition": revision])
            try await waitForCompletedDeployment(cluster, service, taskDefinition: revision)
            #expect(await httpGet(service.url, timeout: 5) == "revision-2\n")
            // When it is deployed to an image no host has: the breaker trips and rolls back to the revision
            let broken = try await registerRevision(cluster, family: name) { container in
                container["image"] = "flotilla/missing:1"
            }
            try await cluster.ecs("UpdateService", ["service": name, "taskDefinition": broken])
            let failed = try await eventually(within: .seconds(90)) { () async throws -> Bool? in
                try await cluster.events(name).contains { $0.contains("deployment failed") } ? true : nil
            }
            #expect(failed == true, "the circuit breaker never tripped for \(name)")
            try await waitForCompletedDeployment(cluster, service, taskDefinition: revision)
            return forced
        }
        return (traffic, forced)
    }

    @Test func deploymentsAndRollbacksDropNoRequest() async throws {
        try await withE2ECluster { cluster in
            // Given four services behind their own balancers: 2 and 6 replicas, minimumHealthyPercent 100 and 50
            var services: [BalancedService] = []
            for (replicas, minimum) in [(2, 100), (2, 50), (6, 100), (6, 50)] {
                services.append(
                    try await createBalancedService(
                        cluster, name: "web-\(replicas)-\(minimum)", replicas: replicas,
                        minimumHealthyPercent: minimum))
            }
            // When each goes through three deployments at once, under a request every 20 ms
            let results = try await withThrowingTaskGroup(of: (String, TrafficCount, Duration).self) { group in
                for service in services {
                    group.addTask {
                        let (traffic, forced) = try await deployThreeTimes(cluster, service)
                        return (service.name, traffic, forced)
                    }
                }
                return try await group.reduce(into: [String: (TrafficCount, Duration)]()) { $0[$1.0] = ($1.1, $1.2) }
            }
            // Then not one request failed, on any of them
            for (name, (traffic, forced)) in results.sorted(by: { $0.key < $1.key }) {
                print("e2e deployments \(name): \(traffic); force-new-deployment completed in \(forced)")
                #expect(traffic.failed == 0, "\(name): \(traffic.failed) of \(traffic.total) requests failed")
                #expect(traffic.succeeded > 20, "the client loop hardly ran: \(traffic)")
            }
        }
    }

    @Test func newTasksThatNeverTurnHealthyKeepEveryOldTaskServingUntilTheRollback() async throws {
        try await withE2ECluster(hosts: 2) { cluster in
            // Given web-2 (2 replicas, minimumHealthyPercent 100) behind its balancer
            let service = try await createBalancedService(
                cluster, name: "web-2", replicas: 2, minimumHealthyPercent: 100)
            let old = Set(try await cluster.tasks(service: service.name).map(\.taskArn))
            let traffic = try await withTraffic(to: service.port) {
                // When it is deployed to a revision whose health check never passes
                let sick = try await registerRevision(cluster, family: service.name) { container in
                    container["healthCheck"] = [
                        "command": ["CMD-SHELL", "exit 1"], "interval": 5, "timeout": 2, "retries": 1,
                    ]
                }
                try await cluster.ecs("UpdateService", ["service": service.name, "taskDefinition": sick])
                // Then the breaker rolls back, and until it does (and after) every old task keeps running
                let rolledBack = try await eventually(within: .seconds(120)) { () async throws -> Bool? in
                    let running = Set(try await cluster.tasks(service: service.name).map(\.taskArn))
                    #expect(old.isSubset(of: running), "an old task stopped before the rollback")
                    return try await cluster.events(service.name).contains { $0.contains("rolling back to deployment") }
                        ? true : nil
                }
                #expect(rolledBack == true, "the breaker never rolled back:\n\(cluster.logTails())")
                try await waitForCompletedDeployment(cluster, service)
            }
            // And the rollback replaced nothing: the same old tasks serve, and no request failed
            #expect(Set(try await cluster.tasks(service: service.name).map(\.taskArn)) == old)
            #expect(traffic.failed == 0, "\(traffic.failed) of \(traffic.total) requests failed")
        }
    }

    @Test func anAgentKilledAndRestartedUnderLoadDropsNoRequest() async throws {
        try await withE2ECluster(hosts: 1) { cluster in
            // Given web-2 (2 replicas, both on the one host, as in the quick start) behind its balancer
            let service = try await createBalancedService(
                cluster, name: "web-2", replicas: 2, minimumHealthyPercent: 100)
            let agent = cluster.agents[0]
            let adopted = agent.runningContainers().count
            #expect(adopted == 2)
            let traffic = try await withTraffic(to: service.port) {
                // When its agent is killed with SIGKILL and started again
                agent.daemon.kill9()
                try agent.start()
                // Then, once the new agent has run a health check of each re-adopted container (and so reported
                // whatever it found), the service still has its tasks, all healthy targets
                let checked = await eventually(within: .seconds(60)) { () async -> Bool? in
                    guard let metrics = await httpGet("\(agent.endpoint)/metrics") else { return nil }
                    return Self.counter("flotilla_agent_health_checks_total", in: metrics) >= Double(adopted)
                        ? true : nil
                }
                #expect(checked == true, "the restarted agent never checked its containers:\n\(agent.daemon.logTail())")
                try await waitForCompletedDeployment(cluster, service)
            }
            // And no request failed while it was down, re-adopting, or after
            print("e2e agent restart: \(traffic)")
            #expect(traffic.failed == 0, "\(traffic.failed) of \(traffic.total) requests failed")
            #expect(traffic.succeeded > 20, "the client loop hardly ran: \(traffic)")
        }
    }

    /// The sum of a Prometheus counter's series in a `/metrics` text.
    static func counter(_ name: String, in metrics: String) -> Double {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
}

/// Runs `body` while a ``TrafficLoop`` sends a request every 20 ms to the balancer on `port`; answers what `body`
/// returned and what the client saw.
func withTraffic<Result: Sendable>(
    to port: Int, _ body: () async throws -> Result
) async throws -> (Result, TrafficCount) {
    let traffic = TrafficLoop(port: port)
    let result: Result
    do {
        result = try await body()
    } catch {
        _ = await traffic.stop()
        throw error
    }
    return (result, await traffic.stop())
}

func withTraffic(to port: Int, _ body: () async throws -> Void) async throws -> TrafficCount {
    let ((), count) = try await withTraffic(to: port) { () async throws -> Void in try await body() }
    return count
}
