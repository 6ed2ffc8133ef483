import AgentProtocol
@testable import ControlPlane
import ECSVocabulary
import FlotillaTestKit
import Foundation
import HummingbirdTesting
import InMemoryLogging
import Logging
import TaskDefinitions
import SigV4
import Synchronization
import Testing

/// Issue 6: a stopped service task behind load balancers drains before its agent is told to stop it. Real loopback
/// backends stand in for containers; the test polls as the instance's agent to see what it is told.
@Suite("Load balancers: a stopped task drains before its agent stops it", .serialized, .timeLimit(.minutes(10)))
struct LoadBalancingDeregistrationTests {
    @Test(
        "The stop is held while a connection is open (DEACTIVATING, the agent told RUNNING) and released when it closes"
    )
    func heldUntilDrained() async throws {
        let backends = try (0..<2).map { try TestHTTPBackend(name: "task-\($0)", host: "127.0.0.2") }
        defer { for backend in backends { backend.kill() } }
        let port = try freePort()
        let logs = InMemoryLogHandler()
        try await BalancingControlPlane.run(logger: Logger(label: "test") { _ in logs }) { client, harness in
            // Given two tasks behind a balancer with a 60 s deregistration delay, and a slow download from task 0
            let (instance, credential, definition) = try await client.balancedServiceWithAgent(
                port: port, deregistrationDelay: 60)
            let old = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[0].port)
            try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backends[1].port)
            #expect(try await eventually { try await client.healthyTargets("web") == 2 })
            var download: BlockingClient? = try BlockingClient.slowDownload(port: port)
            #expect(backends[0].slowInFlight == 1)

            // When task 0 is stopped
            let answer = try await client.ok("StopTask", #"{"task": "\#(old)", "reason": "rolling"}"#)
            // Then it is DEACTIVATING, desired STOPPED, as DescribeTasks shows, with its stop reason kept
            #expect(answer["task"]?["lastStatus"]?.stringValue == "DEACTIVATING")
            let described = try await client.ok("DescribeTasks", #"{"tasks": ["\#(old)"]}"#)["tasks"]?[0]
            #expect(described?["lastStatus"]?.stringValue == "DEACTIVATING")
            #expect(described?["desiredStatus"]?.stringValue == "STOPPED")
            #expect(described?["stoppedReason"]?.stringValue == "rolling")
            #expect(try await harness.deregisteringSince(old) == harness.clock.date)
            // And its agent is still told RUNNING while the balancer drains it and sends new connections elsewhere
            #expect(
                try await client.agentDesiredStatus(of: old, instance: instance, credential: credential) == "RUNNING")
            #expect(try await eventually { try await client.targetState("web", id: old) == "draining" })
            let names = try (0..<4).map { _ in try BlockingClient.get("/name", port: port) }
            #expect(names.allSatisfy { $0 == "task-1" })
            // And three passes later the stop is still held
            await harness.passes(3)
            #expect(
                try await client.agentDesiredStatus(of: old, instance: instance, credential: credential) == "RUNNING")
            #expect(try await harness.task(old).lastStatus == .deactivating)

            // When the download completes and its connection closes
            backends[0].releaseSlow()
            #expect(download?.readToEnd() == " done")
            download = nil
            // Then the stop is released: the agent is told STOPPED, long before the 60 s delay
            #expect(
                try await eventually {
                    try await client.agentDesiredStatus(of: old, instance: instance, credential: credential)
                        == "STOPPED"
                })
            #expect(try await harness.deregisteringSince(old) == nil)
            // And both ends were logged with the cluster, service and task, the release with its cause
            let started = logs.entries.first {
                $0.message == "task deregistering from its load balancers; stop held until drained"
            }
            #expect(started?.metadata["task"] == .string(old))
            #expect(started?.metadata["service"] == "web")
            #expect(started?.metadata["cluster"] == "default")
            let released = logs.entries.first { $0.message == "task stop released to its agent" }
            #expect(released?.metadata["task"] == .string(old))
            #expect(released?.metadata["service"] == "web")
            #expect(released?.metadata["deregistration.cause"] == "drained")
        }
    }

    @Test("The stop is released when the deregistration delay is over, with the connection still open")
    func releasedAfterDelay() async throws {
        let backend = try TestHTTPBackend(name: "task-0", host: "127.0.0.2")
        defer { backend.kill() }
        let port = try freePort()
        let logs = InMemoryLogHandler()
        try await BalancingControlPlane.run(logger: Logger(label: "test") { _ in logs }) { client, harness in
            // Given a task with a slow download open, stopped behind a balancer with a 30 s delay
            let (instance, credential, definition) = try await client.balancedServiceWithAgent(
                port: port, deregistrationDelay: 30)
            let old = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backend.port)
            #expect(try await eventually { try await client.healthyTargets("web") == 1 })
            let download = try BlockingClient.slowDownload(port: port)
            defer { withExtendedLifetime(download) {} }  // open until the test ends
            try await client.ok("StopTask", #"{"task": "\#(old)"}"#)
            #expect(try await eventually { try await client.targetState("web", id: old) == "draining" })
            // When 29 s pass (on the injected clock): still held
            harness.clock.advance(seconds: 29)
            await harness.passes(2)
            #expect(
                try await client.agentDesiredStatus(of: old, instance: instance, credential: credential) == "RUNNING")
            // When the 30th second passes
            harness.clock.advance(seconds: 1)
            // Then the agent is told STOPPED although the download is still open, and the cause is the delay
            #expect(
                try await eventually {
                    try await client.agentDesiredStatus(of: old, instance: instance, credential: credential)
                        == "STOPPED"
                })
            #expect(backend.slowInFlight == 1)
            let released = logs.entries.first { $0.message == "task stop released to its agent" }
            #expect(released?.metadata["deregistration.cause"] == "delay")
            backend.releaseSlow()
        }
    }

    @Test("A restarted control plane goes on waiting from the stored start of deregistration")
    func restartKeepsTheStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-dereg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try TestHTTPBackend(name: "task-0", host: "127.0.0.2")
        defer { backend.kill() }
        let port = try freePort()
        let clock = ManualClock()
        let stoppedAt = clock.date
        // Given a task stopped behind a balancer with a 20 s delay, its download open (embedded balancer on)
        let ids = TestBox((instance: "", credential: AWSCredentials(accessKeyID: "", secretAccessKey: ""), task: ""))
        try await BalancingControlPlane.run(store: try ControlPlaneStore.open(directory: directory), clock: clock) {
            client, harness in
            let (instance, credential, definition) = try await client.balancedServiceWithAgent(
                port: port, deregistrationDelay: 20)
            let old = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: backend.port)
            #expect(try await eventually { try await client.healthyTargets("web") == 1 })
            let download = try BlockingClient.slowDownload(port: port)
            defer { withExtendedLifetime(download) {} }  // open until the test ends
            try await client.ok("StopTask", #"{"task": "\#(old)"}"#)
            #expect(try await harness.deregisteringSince(old) == stoppedAt)
            ids.set((instance, credential, old))
        }
        backend.releaseSlow()
        let (instance, credential, old) = ids.value
        // When the control plane restarts on its file 12 s later, with its embedded balancers off
        clock.advance(seconds: 12)
        let reopened = try ControlPlaneStore.open(directory: directory)
        try await BalancingControlPlane.run(embedded: false, store: reopened, clock: clock) {
            client, harness async throws in
            let reconciler = harness.reconciler()
            await reconciler.reconcileOnce()
            // Then the wait goes on from the original start: still held, the start unchanged
            #expect(try await harness.deregisteringSince(old) == stoppedAt)
            #expect(
                try await client.agentDesiredStatus(of: old, instance: instance, credential: credential) == "RUNNING")
            #expect(try await harness.task(old).lastStatus == .deactivating)
            // When 20 s have passed since the original start (8 s after the restart, not 20)
            clock.advance(seconds: 8)
            let summary = await reconciler.reconcileOnce()
            // Then the reconciler releases it
            #expect(summary.releasedStops == 1)
            #expect(
                try await client.agentDesiredStatus(of: old, instance: instance, credential: credential) == "STOPPED")
            #expect(try await harness.deregisteringSince(old) == nil)
        }
    }

    @Test("Tasks with no balancer, not yet RUNNING, or already exited stop at once")
    func immediateStops() async throws {
        let port = try freePort()
        // (Embedded balancers off: nothing releases a held stop behind the test's back.)
        try await BalancingControlPlane.run(embedded: false) { client, harness in
            // Given a balanced service web and a service plain without balancers, on one instance
            let (instance, credential, definition) = try await client.balancedServiceWithAgent(
                port: port, deregistrationDelay: 60)
            try await client.ok(
                "CreateService", #"{"serviceName": "plain", "taskDefinition": "web", "desiredCount": 0}"#)
            let plain = try await harness.putServiceTask(
                service: "plain", instance: instance, taskDefinitionArn: definition, hostPort: 1)
            let pending = try await harness.putServiceTask(
                instance: instance, taskDefinitionArn: definition, hostPort: 2,
                lastStatus: .pending)
            // When a RUNNING task without a balancer and a PENDING task of the balanced service are stopped
            for task in [plain, pending] { try await client.ok("StopTask", #"{"task": "\#(task)"}"#) }
            // Then their agent is told STOPPED at once, and nothing is held
            for task in [plain, pending] {
                #expect(
                    try await client.agentDesiredStatus(of: task, instance: instance, credential: credential)
                        == "STOPPED")
                #expect(try await harness.deregisteringSince(task) == nil)
                #expect(try await harness.task(task).lastStatus != .deactivating)
            }

            // Given a held task of the balanced service
            let held = try await harness.putServiceTask(instance: instance, taskDefinitionArn: definition, hostPort: 3)
            try await client.ok("StopTask", #"{"task": "\#(held)"}"#)
            #expect(try await harness.deregisteringSince(held) != nil)
            // When its agent reports it RUNNING again (a late report), then STOPPED (the container exited)
            let running = try await client.agentOK(
                "SubmitStateChanges",
                """
                {"cluster": "default", "containerInstanceArn": "\(instance)",
                 "tasks": [{"taskArn": "\(held)", "lastStatus": "RUNNING"}]}
                """, as: credential)
            // Then the RUNNING report does not move it back
            #expect(running["ignored"]?.arrayValue?.count == 1)
            #expect(try await harness.task(held).lastStatus == .deactivating)
            try await client.agentOK(
                "SubmitStateChanges",
                """
                {"cluster": "default", "containerInstanceArn": "\(instance)",
                 "tasks": [{"taskArn": "\(held)", "lastStatus": "STOPPED"}]}
                """, as: credential)
            // And the exited task is STOPPED with nothing left to hold
            #expect(try await harness.task(held).lastStatus == .stopped)
            #expect(try await harness.deregisteringSince(held) == nil)
        }
    }
}

/// A value a `@Sendable` closure hands back to the test.
final class TestBox<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func set(_ value: Value) { storage.withLock { $0 = value } }
}
