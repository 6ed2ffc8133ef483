import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

/// Steps the e2e tests share: each waits by polling the API (bounded), never by a fixed sleep.
extension E2ECluster {
    /// Every agent registered and connected (at most 60 s); returns the instances.
    @discardableResult
    func waitForInstances() async throws -> [JSONValue] {
        let instances = try await eventually(within: .seconds(60)) { () async throws -> [JSONValue]? in
            let instances = try await containerInstances()
            let connected = instances.filter {
                $0["agentConnected"]?.boolValue == true && $0["status"]?.stringValue == "ACTIVE"
            }
            return connected.count == agents.count ? instances : nil
        }
        guard let instances else {
            throw ClusterHarnessError.unexpected("not every agent registered and connected:\n\(logTails())")
        }
        return instances
    }

    /// Registers `examples/taskdefs/web.json` (each replica's page names its container, so answers tell replicas
    /// apart) and creates service `name` with `desiredCount` replicas.
    func createWebService(
        _ name: String = "web", desiredCount: Int, minimumHealthyPercent: Int = 100,
        loadBalancer: String? = nil
    ) async throws {
        try await registerExample("web.json") { definition in
            var containers = definition["containerDefinitions"] as! [[String: Any]]
            containers[0]["command"] = [
                "mkdir -p /www && echo $(hostname)-$RANDOM$RANDOM > /www/index.html && exec httpd -f -p 80 -h /www"
            ]
            definition["containerDefinitions"] = containers
        }
        var request: [String: Any] = [
            "serviceName": name, "taskDefinition": "web", "desiredCount": desiredCount,
            "deploymentConfiguration": ["minimumHealthyPercent": minimumHealthyPercent, "maximumPercent": 200],
        ]
        if let loadBalancer {
            request["loadBalancers"] = [
                ["loadBalancerName": loadBalancer, "containerName": "web", "containerPort": 80]
            ]
        }
        try await ecs("CreateService", request)
    }

    /// Tasks of `service` that run and pass their health check.
    func healthyTasks(_ service: String = "web") async throws -> [JSONValue] {
        try await tasks(service: service).filter { $0.lastStatus == "RUNNING" && $0.healthStatus == "HEALTHY" }
    }

    /// The page a task serves on its host binding (`<host address>:<hostPort>`), nil when it does not answer.
    func page(of task: JSONValue) async -> String? {
        guard let hostPort = task.hostPort(containerPort: 80), let (agent, _) = container(of: task) else { return nil }
        return await httpGet("http://\(agent.host.address):\(hostPort)/")
    }

    /// Waits (at most `timeout`) until exactly `count` tasks of `service` are RUNNING and healthy and each answers
    /// HTTP on its host binding; returns them.
    @discardableResult
    func waitForSteadyService(
        _ service: String = "web", count: Int, timeout: Duration = .seconds(120)
    ) async throws -> [JSONValue] {
        let steady = try await eventually(within: timeout, every: .milliseconds(500)) {
            () async throws -> [JSONValue]? in
            let running = try await tasks(service: service).filter { $0.lastStatus == "RUNNING" }
            guard running.count == count, running.allSatisfy({ $0.healthStatus == "HEALTHY" }) else { return nil }
            for task in running {
                if await page(of: task) == nil { return nil }
            }
            return running
        }
        if let steady { return steady }
        let seen = try await self.tasks(service: service).map { "\($0.taskArn) \($0.lastStatus) \($0.healthStatus)" }
        throw ClusterHarnessError.unexpected(
            "service \(service) did not reach \(count) healthy answering tasks: \(seen)\n\(logTails())")
    }

    /// Runtime containers running on every host, with the host.
    func runningContainers() -> [(agent: AgentProcess, container: RuntimeContainer)] {
        agents.flatMap { agent in agent.runningContainers().map { (agent, $0) } }
    }

    /// Containers running on some host whose task is not among `tasks` (what must never be left behind).
    func orphanContainers(besides tasks: [JSONValue]) -> [RuntimeContainer] {
        runningContainers().map(\.container).filter { container in
            !tasks.contains { container.belongs(toTask: $0.taskArn) }
        }
    }

    /// The service's event messages, newest first.
    func events(_ service: String) async throws -> [String] {
        try await self.service(service)["events"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
    }
}

/// Runs `body` on a cluster of `hosts` agents in their own network namespaces, after every agent joined.
func withE2ECluster(
    hosts: Int = 3, agentGracePeriod: String = "30s", controlPlaneArguments: [String] = [],
    _ body: (E2ECluster) async throws -> Void
) async throws {
    try await E2ECluster.with(
        hosts: hosts, agentGracePeriod: agentGracePeriod, controlPlaneArguments: controlPlaneArguments
    ) {
        cluster in
        try await cluster.waitForInstances()
        try await body(cluster)
    }
}
