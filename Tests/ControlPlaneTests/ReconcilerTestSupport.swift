import ControlPlane
import FlotillaTestKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TaskDefinitions

/// An in-process control plane (router test client) with its reconciler, contact monitor and a fleet of fake
/// agents speaking the agent protocol, all on one hand-moved clock.
struct ReconcilerHarness: Sendable {
    let client: any TestClientProtocol
    let store: ControlPlaneStore
    let reconciler: Reconciler
    let monitor: ContactMonitor
    let fleet: FakeAgentHosts
    let clock: ManualClock

    /// One round: a reconciler pass, then every agent that is not silent polls and reports one step.
    func round() async throws {
        await reconciler.reconcileOnce()
        try await fleet.sync()
    }

    /// Rounds until `done` holds, at most `limit` rounds; answers whether it held.
    @discardableResult
    func converge(limit: Int = 12, until done: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<limit {
            if try await done() { return true }
            try await round()
        }
        return try await done()
    }

    // MARK: - Reading the control plane

    func service(_ name: String = "web") async throws -> JSONValue {
        try await client.ok("DescribeServices", #"{"services": ["\#(name)"]}"#)["services"]?[0] ?? .null
    }

    /// Every task of the cluster (desired RUNNING and STOPPED), described.
    func tasks() async throws -> [JSONValue] {
        var arns: [String] = []
        for status in ["RUNNING", "STOPPED"] {
            arns +=
                try await client.ok("ListTasks", #"{"desiredStatus": "\#(status)"}"#)["taskArns"]?.arrayValue?
                .compactMap(\.stringValue) ?? []
        }
        var described: [JSONValue] = []
        for chunk in stride(from: 0, to: arns.count, by: 100) {
            let list = arns[chunk..<min(chunk + 100, arns.count)].map { "\"\($0)\"" }.joined(separator: ",")
            described += try await client.ok("DescribeTasks", #"{"tasks": [\#(list)]}"#)["tasks"]?.arrayValue ?? []
        }
        return described
    }

    /// Tasks desired RUNNING and reported RUNNING.
    func runningTasks() async throws -> [JSONValue] {
        try await tasks().filter {
            $0["desiredStatus"]?.stringValue == "RUNNING" && $0["lastStatus"]?.stringValue == "RUNNING"
        }
    }

    /// Whether `count` tasks run and the newest event of the service says it reached a steady state.
    func isSteady(running count: Int, service: String = "web") async throws -> Bool {
        let running = try await runningTasks().count
        let newest = try await events(service).first
        return running == count && newest?.hasSuffix("has reached a steady state.") == true
    }

    /// Whether the service shows one deployment, COMPLETED, of `taskDefinition`, with `running` tasks RUNNING.
    func hasOnlyCompletedDeployment(
        of taskDefinition: String, running: Int, service name: String = "web"
    ) async throws -> Bool {
        let described = try await service(name)
        let deployments = described["deployments"]?.arrayValue ?? []
        guard deployments.count == 1 else { return false }
        let deployment = deployments[0]
        let matches =
            deployment["taskDefinition"]?.stringValue == taskDefinition
            && deployment["rolloutState"]?.stringValue == "COMPLETED"
        return matches && described["runningCount"]?.intValue == running
    }

    func events(_ service: String = "web") async throws -> [String] {
        try await self.service(service)["events"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
    }

    // MARK: - Fixtures

    /// Registers `count` hosts `host-a`, `host-b`, ... (2048 CPU units, 4096 MiB each); answers their ARNs.
    func registerHosts(_ count: Int, cpu: Int = 2048, memory: Int = 4096) async throws -> [String] {
        var arns: [String] = []
        for index in 0..<count {
            let name = "host-" + String(UnicodeScalar(UInt8(97 + index)))
            arns.append(try await fleet.register(name, cpu: cpu, memory: memory, zone: "zone-\(index % 3)"))
        }
        return arns
    }

    /// Registers the `web` task definition (128 CPU, 64 MiB, dynamic host port; a health check when asked) and
    /// creates service `web` with `desiredCount`.
    func createWebService(desiredCount: Int, healthCheck: Bool = false, extra: String = "") async throws {
        try await client.ok("RegisterTaskDefinition", webDefinition(healthCheck: healthCheck))
        try await client.ok(
            "CreateService",
            #"{"serviceName": "web", "taskDefinition": "web", "desiredCount": \#(desiredCount)\#(extra)}"#)
    }
}

func webDefinition(family: String = "web", memory: Int = 64, healthCheck: Bool = false) -> String {
    let check = healthCheck ? #", "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "retries": 1}"# : ""
    return """
        {"family": "\(family)", "networkMode": "bridge",
         "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1", "cpu": 128, "memory": \(memory), "essential": true,
            "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]\(check)}]}
        """
}

/// Runs `body` against a control plane on `store` (in memory unless given) with a reconciler seeded with `seed`,
/// a contact monitor with a 30 s grace period, and an empty fleet of fake agents; cluster `default` exists.
func withReconciler(
    store: ControlPlaneStore? = nil,
    clock: ManualClock = ManualClock(),
    fleet: FakeAgentHosts? = nil,
    seed: UInt64 = 42,
    createCluster: Bool = true,
    _ body: @escaping @Sendable (ReconcilerHarness) async throws -> Void
) async throws {
    let store = try store ?? ControlPlaneStore.inMemory()
    let configuration = ControlPlaneConfiguration(agentGracePeriod: .seconds(30))
    // About reconciling, not signatures: the hand-moved clock may leave a signature's five minutes behind.
    let api = ECSAPI(
        store: store, configuration: configuration, authentication: .insecureNoAuth, clock: { clock.date })
    let logger = Logger(label: "flotilla.test")
    let application = Application(router: ControlPlaneApplication.router(api: api), logger: logger)
    try await application.test(.router) { client in
        let call: FakeAgentHosts.Call = { operation, body, credentials in
            let json = String(decoding: try JSONEncoder().encode(body), as: UTF8.self)
            return try await client.agentOK(operation, json, as: credentials)
        }
        let agents = fleet ?? FakeAgentHosts(clock: { clock.date }, call: call)
        await agents.connect(call)
        let harness = ReconcilerHarness(
            client: client, store: store,
            reconciler: Reconciler(store: store, now: { clock.date }, seed: seed, logger: logger),
            monitor: ContactMonitor(
                store: store, gracePeriod: configuration.agentGracePeriod, now: { clock.date }, logger: logger),
            fleet: agents, clock: clock)
        if createCluster { try await client.ok("CreateCluster", #"{"clusterName": "default"}"#) }
        try await body(harness)
    }
}

extension JSONValue {
    var taskID: String { self["taskArn"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "" }
}
