import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import TaskDefinitions
import SigV4
import Testing

/// The real `ecs-control-plane` with its embedded balancers, `ecsctl`'s load-balancer verbs, and a standalone
/// `ecs-lb --control-plane` that outlives the control plane. The reconciler places the service's tasks on a fake
/// agent's instance (these tests drive the agent protocol themselves), which reports them RUNNING with bindings
/// pointing at loopback backends.
@Suite("Load balancers: control plane process and standalone ecs-lb", .serialized, .timeLimit(.minutes(10)))
struct ECSLoadBalancerControlPlaneTests {
    @Test(
        "ecsctl creates a balancer; the embedded one spreads over the service's tasks and counts on /metrics; ecs-lb keeps serving with the control plane gone"
    )
    func embeddedAndStandalone() async throws {
        let backends = try (0..<2).map { try TestHTTPBackend(name: "task-\($0)") }
        defer { for backend in backends { backend.kill() } }
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let port = try freePort()

        // Given balancer web created with ecsctl, and service web's two tasks RUNNING on the two backends
        let created = try await ecsctl(
            [
                "create-load-balancer", "--load-balancer-name", "web", "--listener-port", "\(port)",
                "--listener-address", "127.0.0.1", "--health-check-interval-seconds", "0.5",
                "--health-check-timeout-seconds", "0.5", "--healthy-threshold", "1", "--unhealthy-threshold", "1",
                "--deregistration-delay-seconds", "1",
            ], endpoint: controlPlane.endpoint)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("web"))
        #expect(created.stdout.contains("127.0.0.1:\(port)"))
        let agent = try await FakeServiceAgent(controlPlane: controlPlane)
        try await agent.runService(backends: backends)

        // Then the embedded balancer serves both tasks
        #expect(
            await eventually {
                Set((0..<4).compactMap { _ in try? BlockingClient.get("/name", port: port) }) == ["task-0", "task-1"]
            })
        let names = try (0..<6).map { _ in try BlockingClient.get("/name", port: port) }
        #expect(names.filter { $0 == "task-0" }.count == 3)
        // And describe-load-balancers shows both targets healthy, with their counters
        let described = try await ecsctl(
            ["describe-load-balancers", "--output", "json"], endpoint: controlPlane.endpoint)
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(described.stdout.utf8))
        let targets = json["loadBalancers"]?[0]?["targets"]?.arrayValue ?? []
        #expect(targets.count == 2)
        #expect(targets.allSatisfy { $0["targetHealth"]?["state"]?.stringValue == "healthy" })
        #expect(targets.allSatisfy { ($0["totalConnections"]?.intValue ?? 0) >= 3 })
        let table = try await ecsctl(["describe-load-balancers"], endpoint: controlPlane.endpoint)
        #expect(table.stdout.contains("ACTIVE"))
        #expect(table.stdout.contains("127.0.0.1:\(backends[0].port)"))
        // And /metrics has the per-target counters
        let metrics = await httpGet("\(controlPlane.endpoint)/metrics") ?? ""
        #expect(
            metrics.contains(#"flotilla_lb_connections_total{balancer="web",target="127.0.0.1:\#(backends[0].port)"}"#)
                || metrics.contains(
                    #"flotilla_lb_connections_total{target="127.0.0.1:\#(backends[0].port)",balancer="web"}"#)
        )

        // When a standalone ecs-lb serves the same balancer on another port, fed by the control plane
        let standalonePort = try freePort()
        let standalone = try StandaloneBalancer(
            controlPlane: controlPlane.endpoint, name: "web", listen: standalonePort)
        defer { standalone.terminate() }
        #expect(
            await eventually {
                Set((0..<4).compactMap { _ in try? BlockingClient.get("/name", port: standalonePort) }) == [
                    "task-0", "task-1",
                ]
            },
            "\(standalone.standardError)")

        // When the control plane is killed
        controlPlane.send(SIGKILL)
        _ = await controlPlane.waitForExit()
        // Then ecs-lb notices, keeps running and keeps serving both last known targets
        #expect(await eventually { standalone.standardError.contains("serving the last known ones") })
        let after = try (0..<6).map { _ in try BlockingClient.get("/name", port: standalonePort) }
        #expect(Set(after) == ["task-0", "task-1"])
        #expect(standalone.isRunning)
    }

    @Test("A listener port in use: the balancer is FAILED with the reason, the control plane keeps answering")
    func portInUse() async throws {
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let squatter = try TestHTTPBackend(name: "squatter")
        defer { squatter.kill() }

        // When a balancer is created on a port another process listens on
        let created = try await ecsctl(
            [
                "create-load-balancer", "--load-balancer-name", "web", "--listener-port",
                "\(squatter.port)", "--listener-address", "127.0.0.1",
            ], endpoint: controlPlane.endpoint)
        #expect(created.status == 0, "\(created.stderr)")
        // Then describe-load-balancers reports it FAILED, naming the port
        var balancer: JSONValue?
        #expect(
            try await eventually {
                let run = try await ecsctl(
                    ["describe-load-balancers", "--output", "json"], endpoint: controlPlane.endpoint)
                balancer =
                    (try? JSONDecoder().decode(JSONValue.self, from: Data(run.stdout.utf8)))?["loadBalancers"]?[0]
                return balancer?["status"]?.stringValue == "FAILED"
            })
        #expect(
            balancer?["statusReason"]?.stringValue == "listener port \(squatter.port) on 127.0.0.1 is already in use")
        // And the control plane keeps running and answering
        #expect(controlPlane.isRunning)
        let clusters = try await ecsctl(["list-clusters"], endpoint: controlPlane.endpoint)
        #expect(clusters.status == 0)
        // And ecsctl's errors for the balancer verbs are one line naming the field
        let bad = try await ecsctl(
            ["create-load-balancer", "--load-balancer-name", "api", "--listener-port", "0"],
            endpoint: controlPlane.endpoint)
        #expect(bad.status == 254)
        #expect(bad.stderrLines.count == 1)
        #expect(bad.stderr.contains("listenerPort: must be between 1 and 65535"))
        let deleted = try await ecsctl(
            ["delete-load-balancer", "--load-balancer-name", "web"], endpoint: controlPlane.endpoint)
        #expect(deleted.status == 0)
        #expect(deleted.stdout.contains("DELETED"))
    }

    @Test(
        "With --no-embedded-load-balancer the control plane only stores balancers (EXTERNAL); ecs-lb, started first, waits for it and serves them on their own port"
    )
    func standaloneOnly() async throws {
        let backends = try (0..<2).map { try TestHTTPBackend(name: "task-\($0)") }
        defer { for backend in backends { backend.kill() } }
        let port = try freePort()
        let controlPlanePort = try freePort()
        let endpoint = "https://127.0.0.1:\(controlPlanePort)"

        // Given ecs-lb started before its control plane, serving the balancer as the control plane defines it
        let standalone = try StandaloneBalancer(controlPlane: endpoint, name: "web", listen: nil)
        defer { standalone.terminate() }
        // Then it waits, saying why
        #expect(await eventually { standalone.standardError.contains("Waiting for the control plane") })
        #expect(standalone.standardError.contains("connection refused"))
        #expect(standalone.isRunning)

        let controlPlane = try await ControlPlaneProcess(
            port: controlPlanePort, arguments: ["--no-embedded-load-balancer"])
        defer { controlPlane.terminate() }
        // And once the control plane answers, it waits for the balancer to be defined
        #expect(
            await eventually { standalone.standardError.contains("load balancer web does not exist at \(endpoint)") })
        #expect(standalone.isRunning)

        // Given a balancer and service web's two tasks RUNNING, with the embedded balancer off
        _ = try await call(
            endpoint, "FlotillaV1.CreateLoadBalancer",
            """
            {"loadBalancerName": "web", "listenerPort": \(port), "listenerAddress": "127.0.0.1",
             "healthCheck": {"intervalSeconds": 0.5, "timeoutSeconds": 0.5, "healthyThreshold": 1}}
            """)
        let agent = try await FakeServiceAgent(endpoint: endpoint)
        try await agent.runService(backends: backends)
        // Then it is EXTERNAL: stored, its targets listed
        let described = try await call(endpoint, "FlotillaV1.DescribeLoadBalancers", "{}")["loadBalancers"]?[0]
        #expect(described?["status"]?.stringValue == "EXTERNAL")
        #expect(described?["targets"]?.arrayValue?.count == 2)

        // And ecs-lb listens on the balancer's own port and spreads over both tasks
        #expect(
            await eventually {
                Set((0..<4).compactMap { _ in try? BlockingClient.get("/name", port: port) }) == ["task-0", "task-1"]
            },
            "\(standalone.standardError)")
        // And the listener there is ecs-lb's alone: the control plane does not listen for an EXTERNAL balancer
        let listeners = try HostCommand.run(["ss", "-Hltnp", "sport = :\(port)"]).stdout
        #expect(listeners.contains("\"ecs-lb\""), "\(listeners)")
        #expect(!listeners.contains("ecs-control"), "\(listeners)")

        // And ecs-lb's own health verdicts reach the control plane (ReportTargetHealth): both targets healthy
        func states() async throws -> [String: String] {
            let targets = try await call(endpoint, "FlotillaV1.DescribeLoadBalancers", "{}")["loadBalancers"]?[0]?[
                "targets"]
            return Dictionary(
                (targets?.arrayValue ?? []).map {
                    ($0["port"]?.intValue.map(String.init) ?? "", $0["targetHealth"]?["state"]?.stringValue ?? "")
                }, uniquingKeysWith: { first, _ in first })
        }
        #expect(
            try await eventually {
                try await states() == ["\(backends[0].port)": "healthy", "\(backends[1].port)": "healthy"]
            })
        // When a backend stops answering, then ecs-lb's verdict makes the reconciler stop its task with ECS's reason
        let failing = try #require(
            try await call(endpoint, "AmazonEC2ContainerServiceV20141113.ListTasks", #"{"desiredStatus": "RUNNING"}"#)[
                "taskArns"]?
                .arrayValue?.compactMap(\.stringValue))
        backends[1].kill()
        #expect(
            try await eventually {
                let described = try await call(
                    endpoint, "AmazonEC2ContainerServiceV20141113.DescribeTasks",
                    #"{"tasks": \#(String(decoding: try JSONSerialization.data(withJSONObject: failing), as: UTF8.self))}"#
                )
                return (described["tasks"]?.arrayValue ?? []).contains {
                    $0["stoppedReason"]?.stringValue == "Task failed ELB health checks in (load-balancer web)"
                }
            }, "\(standalone.standardError)")
    }
}

// MARK: - Support

/// POSTs one JSON 1.1 call with `X-Amz-Target: target`; the JSON answer (throws on a non-200).
private func call(
    _ endpoint: String, _ target: String, _ json: String,
    as credentials: AWSCredentials = TestAccessKeys.administrator
) async throws -> JSONValue {
    let (status, data) = try await signedPost(endpoint: endpoint, target: target, json, as: credentials)
    let answer = try JSONDecoder().decode(JSONValue.self, from: data)
    guard status == 200 else {
        throw TestSocketError.failed("\(target): \(String(decoding: data, as: UTF8.self))")
    }
    return answer
}

/// A fake agent speaking the agent protocol: registers at 127.0.0.1 and reports the tasks it is given RUNNING with
/// container `web`'s port 80 bound to a backend's port (no container runs: the backend stands in for it).
private struct FakeServiceAgent {
    let endpoint: String
    let instance: String
    let credential: AWSCredentials

    init(controlPlane: ControlPlaneProcess) async throws {
        try await self.init(endpoint: controlPlane.endpoint)
    }

    init(endpoint: String) async throws {
        self.endpoint = endpoint
        _ = try await call(endpoint, "AmazonEC2ContainerServiceV20141113.CreateCluster", #"{"clusterName": "default"}"#)
        let token = try await call(endpoint, "FlotillaAgentV1.GetJoinToken", "{}")["joinToken"]?.stringValue ?? ""
        let registered = try await call(
            endpoint, "FlotillaAgentV1.Register",
            """
            {"joinToken": "\(token)", "hostname": "fake-host", "address": "127.0.0.1",
             "resources": {"cpu": 4096, "memory": 8192, "ports": [22]}}
            """)
        instance = registered["containerInstanceArn"]?.stringValue ?? ""
        credential = AWSCredentials(
            accessKeyID: registered["accessKeyId"]?.stringValue ?? "",
            secretAccessKey: registered["credential"]?.stringValue ?? "")
    }

    /// Registers task definition web, creates service web on balancer web with one task per backend, and reports
    /// each task the reconciler places RUNNING on its backend.
    func runService(backends: [TestHTTPBackend]) async throws {
        let ecs = "AmazonEC2ContainerServiceV20141113."
        _ = try await call(
            endpoint, ecs + "RegisterTaskDefinition",
            """
            {"family": "web", "networkMode": "bridge", "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1",
              "memory": 64, "portMappings": [{"containerPort": 80, "hostPort": 0}]}]}
            """)
        // Through ecsctl, as a user attaches a service, with the awscli's shorthand
        let created = try await ecsctl(
            [
                "create-service", "--service-name", "web", "--task-definition", "web", "--desired-count",
                "\(backends.count)",
                "--load-balancers", "loadBalancerName=web,containerName=web,containerPort=80",
            ], endpoint: endpoint)
        try #require(created.status == 0, "create-service: \(created.stderr)")
        // The reconciler places the service's tasks on this (only) instance; poll until they are all desired.
        var tasks: [String] = []
        _ = try await eventually {
            let polled = try await call(
                endpoint, "FlotillaAgentV1.PollDesiredTasks",
                """
                {"containerInstanceArn": "\(instance)", "index": 0, "waitSeconds": 0}
                """, as: credential)
            tasks =
                polled["tasks"]?.arrayValue?.filter { $0["desiredStatus"]?.stringValue == "RUNNING" }
                .compactMap { $0["taskArn"]?.stringValue } ?? []
            return tasks.count == backends.count
        }
        try #require(tasks.count == backends.count, "the reconciler placed \(tasks.count) tasks")
        let changes = zip(tasks, backends).map { task, backend in
            """
            {"taskArn": "\(task)", "lastStatus": "RUNNING", "containers": [{"name": "web", "lastStatus": "RUNNING",
              "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": \(backend.port), "protocol": "tcp"}]}]}
            """
        }
        let answer = try await call(
            endpoint, "FlotillaAgentV1.SubmitStateChanges",
            """
            {"containerInstanceArn": "\(instance)", "tasks": [\(changes.joined(separator: ","))]}
            """, as: credential)
        try #require(answer["updated"]?.arrayValue?.count == tasks.count, "\(answer)")
    }
}

/// The built `ecs-lb` fed by a control plane (`--control-plane URL --load-balancer-name NAME`), on its own port.
private final class StandaloneBalancer: Sendable {
    private let daemon: DaemonProcess

    init(controlPlane: String, name: String, listen: Int?) throws {
        daemon = DaemonProcess(
            arguments: [
                LoadBalancerProcess.binary.path, "--control-plane", controlPlane, "--load-balancer-name", name,
                "--poll-interval", "0.2",
            ] + (listen.map { ["--listen", "127.0.0.1:\($0)"] } ?? []),
            environment: ProcessInfo.processInfo.environment.merging(TestAccessKeys.environment()) { $1 }
                .merging(["AWS_CA_BUNDLE": TestPKI.caBundle]) { $1 },
            logFile: FileManager.default.temporaryDirectory.appendingPathComponent("ecs-lb-\(UUID().uuidString).log")
                .path)
        try daemon.start()
    }

    /// Its log (ecs-lb logs to stderr).
    var standardError: String { daemon.log }
    var isRunning: Bool { daemon.isRunning }

    func terminate() {
        daemon.kill9()
        try? FileManager.default.removeItem(atPath: daemon.logFile)
    }
}
