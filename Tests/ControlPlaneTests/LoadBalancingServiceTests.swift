import AgentProtocol
@testable import ControlPlane
import ECSVocabulary
import FlotillaTestKit
import Foundation
import HummingbirdTesting
import InMemoryLogging
import LoadBalancer
import Logging
import TaskDefinitions
import Testing

/// The embedded balancers against real loopback backends standing in for task containers: targets follow the
/// service's RUNNING tasks, health failures stop tasks after the grace period, draining, port conflicts.
@Suite("Load balancers: embedded in the control plane", .serialized, .timeLimit(.minutes(10)))
struct LoadBalancingServiceTests {
    @Test(
        "Connections spread over the service's RUNNING tasks; a stopped task leaves and a new one joins, unconfigured")
    func targetsFollowTasks() async throws {
        let backends = try (0..<3).map { try TestHTTPBackend(name: "task-\($0)", host: "127.0.0.2") }
        defer { for backend in backends { backend.kill() } }
        let port = try freePort()
        try await BalancingControlPlane.run { client, harness in
            // Given service web behind balancer web, tasks 0 and 1 RUNNING, task 2 still PENDING
            let (instance, definition) = try await client.balancedService(port: port)
            let task0 = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[0].port)
            try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[1].port)
            let task2 = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition,
                hostPort: backends[2].port, lastStatus: .pending)
            #expect(try await eventually { try await client.healthyTargets("web") == 2 })

            // When ten clients connect
            let names = try (0..<10).map { _ in try BlockingClient.get("/name", port: port) }
            // Then round robin gave each RUNNING task five and the PENDING one none
            #expect(names.filter { $0 == "task-0" }.count == 5)
            #expect(names.filter { $0 == "task-1" }.count == 5)
            #expect(backends[2].requests == 0)
            // And DescribeLoadBalancers counts them per target at the task's instance address
            let described = try await client.describeBalancer("web")
            #expect(described["status"]?.stringValue == "ACTIVE")
            let target0 = described["targets"]?.arrayValue?.first { $0["id"]?.stringValue == task0 }
            #expect(target0?["host"]?.stringValue == "127.0.0.2")
            #expect(target0?["port"]?.intValue == backends[0].port)
            #expect(target0?["serviceName"]?.stringValue == "web")
            #expect(target0?["totalConnections"]?.intValue == 5)
            #expect((target0?["bytesOut"]?.intValue ?? 0) > 0)

            // When task 0 is stopped and task 2 reports RUNNING (nobody touches the balancer)
            try await client.ok("StopTask", #"{"task": "\#(task0)"}"#)
            try await harness.store.write { db in
                let cluster = try db.defaultCluster()
                guard var task = try db.task(task2, in: cluster) else { return }
                task.lastStatus = .running
                task.containers[0].lastStatus = WireValue(.running)
                try db.saveTask(task, cluster: cluster)
            }
            // Then new connections go to tasks 1 and 2 only
            #expect(await eventually { (try? BlockingClient.get("/name", port: port)) == "task-2" })
            let before0 = backends[0].requests
            let later = try (0..<6).map { _ in try BlockingClient.get("/name", port: port) }
            #expect(Set(later) == ["task-1", "task-2"])
            #expect(backends[0].requests == before0)
        }
    }

    @Test("A container health check gates the target: only HEALTHY tasks join")
    func containerHealthGates() async throws {
        let backend = try TestHTTPBackend(name: "checked", host: "127.0.0.2")
        defer { backend.kill() }
        let port = try freePort()
        try await BalancingControlPlane.run { client, harness in
            // Given a task definition whose container has a health check, and its task RUNNING but UNKNOWN health
            try await client.createCluster()
            try await client.ok(
                "RegisterTaskDefinition",
                """
                {"family": "web", "networkMode": "bridge", "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1",
                  "memory": 64, "portMappings": [{"containerPort": 80, "hostPort": 0}],
                  "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 1}}]}
                """)
            let instance = try await client.registerAgent().arn
            try await client.flotillaOK(
                "CreateLoadBalancer",
                """
                {"loadBalancerName": "web", "listenerPort": \(port), "listenerAddress": "127.0.0.1",
                 "healthCheck": {"intervalSeconds": 0.5, "timeoutSeconds": 0.5, "healthyThreshold": 1}}
                """)
            try await client.ok(
                "CreateService",
                """
                {"serviceName": "web", "taskDefinition": "web", "desiredCount": 0,
                 "loadBalancers": [{"loadBalancerName": "web", "containerName": "web", "containerPort": 80}]}
                """)
            let task = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
                hostPort: backend.port, healthStatus: .unknown)
            // Then the balancer has no target while the container's health is UNKNOWN
            #expect(
                try await eventually { try await client.describeBalancer("web")["status"]?.stringValue == "ACTIVE" })
            #expect(try await client.describeBalancer("web")["targets"]?.arrayValue?.isEmpty == true)
            // When the agent reports it HEALTHY
            try await harness.setContainerHealth(task, .healthy)
            // Then it serves
            #expect(await eventually { (try? BlockingClient.get("/name", port: port)) == "checked" })
        }
    }

    @Test("A dead backend gets no new connection once checks fail, and the balancer's verdicts reach the store")
    func failingTargetVerdictReachesStore() async throws {
        let backends = try (0..<2).map { try TestHTTPBackend(name: "task-\($0)", host: "127.0.0.2") }
        defer { for backend in backends { backend.kill() } }
        let port = try freePort()
        try await BalancingControlPlane.run { client, harness in
            // Given two healthy targets of a service
            let (instance, definition) = try await client.balancedService(port: port)
            let living = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[0].port)
            let dying = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[1].port)
            #expect(try await eventually { try await client.healthyTargets("web") == 2 })
            // Then the store holds both verdicts, for the reconciler to count the tasks as healthy
            #expect(try await eventually { try await harness.targetHealth(living) == ["web": .healthy] })
            #expect(try await eventually { try await harness.targetHealth(dying) == ["web": .healthy] })

            // When backend 1 dies
            backends[1].kill()
            // Then its target turns unhealthy, every new connection succeeds on backend 0, and the store says so
            #expect(try await eventually { try await client.targetState("web", id: dying) == "unhealthy" })
            let names = try (0..<6).map { _ in try BlockingClient.get("/name", port: port) }
            #expect(names.allSatisfy { $0 == "task-0" })
            #expect(try await eventually { try await harness.targetHealth(dying) == ["web": .unhealthy] })

            // When the task stops, its verdict is forgotten
            try await client.ok("StopTask", #"{"task": "\#(dying)"}"#)
            #expect(try await eventually { try await harness.targetHealth(dying).isEmpty })
        }
    }

    @Test("A slow download started before its task is stopped completes; new connections go to the replacement")
    func deregistrationDelayDrains() async throws {
        let backends = try (0..<2).map { try TestHTTPBackend(name: "task-\($0)", host: "127.0.0.2") }
        defer { for backend in backends { backend.kill() } }
        let port = try freePort()
        try await BalancingControlPlane.run { client, harness in
            // Given one task behind the balancer, deregistration delay 10 s
            let (instance, definition) = try await client.balancedService(port: port, deregistrationDelay: 10)
            let old = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[0].port)
            #expect(try await eventually { try await client.healthyTargets("web") == 1 })
            // And a slow download from it under way
            var download: BlockingClient? = try BlockingClient(port: port)
            try download?.send("GET /slow HTTP/1.0\r\n\r\n")
            #expect(download?.read(atLeast: "HTTP/1.0 200 OK\r\n\r\nslow".utf8.count).hasSuffix("slow") == true)

            // When its replacement runs and the old task is stopped
            try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[1].port)
            try await client.ok("StopTask", #"{"task": "\#(old)"}"#)
            // Then the old target drains with its download open, and new connections go to the replacement only
            #expect(try await eventually { try await client.targetState("web", id: old) == "draining" })
            let draining = try await client.describeBalancer("web")["targets"]?.arrayValue?.first {
                $0["id"]?.stringValue == old
            }
            #expect(draining?["activeConnections"]?.intValue == 1)
            #expect(await eventually { (try? BlockingClient.get("/name", port: port)) == "task-1" })
            let names = try (0..<4).map { _ in try BlockingClient.get("/name", port: port) }
            #expect(names.allSatisfy { $0 == "task-1" })
            #expect(backends[0].slowInFlight == 1)
            // And the download completes in full
            backends[0].releaseSlow()
            #expect(download?.readToEnd() == " done")
            // And once that last connection closes, the drained target leaves the balancer (before the delay ends)
            download = nil
            #expect(try await eventually { try await client.targetState("web", id: old) == nil })
        }
    }

    @Test(
        "The control plane's balancer limits (--balancer-max-connections, --balancer-idle-timeout) reach every balancer it starts"
    )
    func limitsReachTheBalancers() async throws {
        let port = try freePort()
        try await BalancingControlPlane.run(maxConnections: 3, idleTimeout: .seconds(42)) { client, harness in
            // Given a control plane whose balancers may hold 3 connections, idle for 42 s at most
            // When a balancer is created
            _ = try await client.balancedService(port: port)
            // Then the balancer it starts runs with those limits (LimitTests shows a balancer keeping them)
            #expect(
                await eventually {
                    if case .running = harness.board.entry(for: "web") { true } else { false }
                })
            guard case .running(let balancer) = harness.board.entry(for: "web") else { return }
            #expect(balancer.configuration.maxConnections == 3)
            #expect(balancer.configuration.idleTimeout == .seconds(42))
            #expect(balancer.configuration.listenerPort == port)
        }
    }

    @Test("A listener port in use fails that balancer only, visibly; it starts once the port is free; delete stops it")
    func portInUse() async throws {
        let backend = try TestHTTPBackend(name: "task-0", host: "127.0.0.2")
        defer { backend.kill() }
        let squatter = try ListeningSocket()
        let port = squatter.port
        let logs = InMemoryLogHandler()
        try await BalancingControlPlane.run(logger: Logger(label: "test") { _ in logs }) { client, harness in
            // Given a balancer whose port another socket holds, and one on a free port
            try await client.flotillaOK(
                "CreateLoadBalancer",
                #"{"loadBalancerName": "taken", "listenerPort": \#(port), "listenerAddress": "127.0.0.1"}"#)
            let freeOne = try freePort()
            try await client.flotillaOK(
                "CreateLoadBalancer",
                #"{"loadBalancerName": "free", "listenerPort": \#(freeOne), "listenerAddress": "127.0.0.1"}"#)
            // Then the first is FAILED with a reason naming the port, and logged as an error once
            #expect(
                try await eventually { try await client.describeBalancer("taken")["status"]?.stringValue == "FAILED" })
            let taken = try await client.describeBalancer("taken")
            #expect(taken["statusReason"]?.stringValue == "listener port \(port) on 127.0.0.1 is already in use")
            #expect(
                try await eventually { try await client.describeBalancer("free")["status"]?.stringValue == "ACTIVE" })
            // And a few retries later (every pass retries the taken port), still logged once
            await harness.passes(3)
            let errors = logs.entries.filter { $0.message == "load balancer failed to start" }
            #expect(errors.count == 1)
            #expect(errors.first?.level == .error)
            #expect(errors.first?.metadata["lb.name"] == "taken")
            // And the API keeps answering
            try await client.ok("ListClusters")

            // When the port is freed
            squatter.close()
            // Then the balancer starts on a later pass
            #expect(
                try await eventually { try await client.describeBalancer("taken")["status"]?.stringValue == "ACTIVE" })
            #expect((try? BlockingClient(port: port)) != nil)

            // When it is deleted
            try await client.flotillaOK("DeleteLoadBalancer", #"{"loadBalancerName": "taken"}"#)
            // Then its listener closes
            #expect(await eventually { (try? BlockingClient(port: port)) == nil })
            _ = harness
        }
    }
}

extension TestClientProtocol {
    /// How many of balancer `name`'s targets are healthy now.
    func healthyTargets(_ name: String) async throws -> Int {
        let targets = try await describeBalancer(name)["targets"]?.arrayValue ?? []
        return targets.filter { $0["targetHealth"]?["state"]?.stringValue == "healthy" }.count
    }

    /// The health state of target `id` of balancer `name`, nil when it is not a target.
    func targetState(_ name: String, id: String) async throws -> String? {
        let targets = try await describeBalancer(name)["targets"]?.arrayValue ?? []
        return targets.first { $0["id"]?.stringValue == id }?["targetHealth"]?["state"]?.stringValue
    }
}
