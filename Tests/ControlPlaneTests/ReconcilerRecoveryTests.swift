import ControlPlane
import FlotillaTestKit
import Foundation
import GRDB
import InMemoryLogging
import Logging
import Synchronization
import TaskDefinitions
import Testing

@Suite("Reconciler: restarts, the service loop, RunTask and StartTask placement", .timeLimit(.minutes(10)))
struct ReconcilerRecoveryTests {
    @Test(
        "A control plane restarted on its SQLite file in the middle of a scale-up ends with exactly the desired count")
    func restartDuringScaleUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-recon-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ManualClock()
        let fleet = FakeAgentHosts(
            clock: { clock.date },
            call: { operation, _, _ in throw FakeAgentError.unexpectedReply(operation, "not connected") })
        // Given: 6 running, then a scale-up to 12 whose pass placed tasks the agents have not seen yet
        try await withReconciler(store: try ControlPlaneStore.open(directory: directory), clock: clock, fleet: fleet) {
            cp in
            _ = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 12}"#)
            let summary = await cp.reconciler.reconcileOnce()
            #expect(summary.placements == 6)
        }
        // When: a new control plane (new store, new reconciler) on the same file; the same agents come back
        try await withReconciler(
            store: try ControlPlaneStore.open(directory: directory), clock: clock, fleet: fleet, seed: 7,
            createCluster: false
        ) { cp in
            let settled = try await cp.converge {
                try await cp.isSteady(running: 12)
            }
            // Then: exactly 12, each created once, each run by one agent
            #expect(settled)
            let all = try await cp.tasks()
            #expect(all.count == 12)
            #expect(Set(all.compactMap { $0["taskArn"]?.stringValue }).count == 12)
            let agentTasks = await cp.fleet.allTasks()
            #expect(agentTasks.count == 12)
            #expect(agentTasks.allSatisfy { $0.lastStatus == "RUNNING" })
            for _ in 0..<3 { try await cp.round() }
            #expect(try await cp.tasks().count == 12)
        }
    }

    @Test("The service runs passes on its own: a commit wakes it, and it stops on cancellation")
    func serviceLoop() async throws {
        try await withReconciler { cp in
            _ = try await cp.registerHosts(2)
            // A tick far away: only commits can wake it within this test.
            let service = ReconcilerService(
                store: cp.store, interval: .seconds(3600), now: { cp.clock.date }, seed: 1,
                logger: Logger(label: "flotilla.test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                // Given: the first pass (at start) is done
                try #require(await eventually { service.reconciler.completedPasses >= 1 })
                // When
                try await cp.createWebService(desiredCount: 4)
                // Then: the commit woke it (bounded wait, no timing asserted)
                #expect(try await eventually { try await cp.tasks().count == 4 })
                group.cancelAll()
            }
        }
    }

    @Test("RunTask places with the scheduler and answers ECS failures per instance")
    func runTaskFailures() async throws {
        try await withReconciler { cp in
            try await cp.client.ok("RegisterTaskDefinition", webDefinition())
            try await cp.client.ok("RegisterTaskDefinition", webDefinition(family: "huge", memory: 8192))
            // No instance at all
            let none = try await cp.client.ok("RunTask", #"{"taskDefinition": "web"}"#)
            #expect(
                none["failures"]?[0]?["reason"]?.stringValue == "No Container Instances were found in your cluster.")
            // Given
            let instances = try await cp.registerHosts(2)
            // When: too big for either
            let huge = try await cp.client.ok("RunTask", #"{"taskDefinition": "huge", "count": 2}"#)
            // Then
            #expect(huge["tasks"]?.arrayValue?.isEmpty == true)
            let failures = huge["failures"]?.arrayValue ?? []
            #expect(Set(failures.compactMap { $0["arn"]?.stringValue }) == Set(instances))
            #expect(failures.allSatisfy { $0["reason"]?.stringValue == "RESOURCE:MEMORY" })
            // When: one instance drains, a memberOf constraint names the other
            try await cp.client.ok(
                "UpdateContainerInstancesState", #"{"containerInstances": ["\#(instances[0])"], "status": "DRAINING"}"#)
            let placed = try await cp.client.ok(
                "RunTask",
                #"{"taskDefinition": "web", "count": 3, "placementStrategy": [{"type": "binpack", "field": "memory"}]}"#
            )
            #expect(placed["tasks"]?.arrayValue?.count == 3)
            #expect(
                placed["tasks"]?.arrayValue?.allSatisfy { $0["containerInstanceArn"]?.stringValue == instances[1] }
                    == true)
            let started = try await cp.client.ok(
                "StartTask",
                #"{"taskDefinition": "web", "containerInstances": ["\#(instances[0])", "\#(instances[1])"]}"#)
            #expect(started["tasks"]?.arrayValue?.count == 1)
            #expect(started["failures"]?[0]?["arn"]?.stringValue == instances[0])
            #expect(started["failures"]?[0]?["reason"]?.stringValue == "DRAINING")
            let constrained = try await cp.client.ok(
                "RunTask",
                #"{"taskDefinition": "web", "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.availability-zone == zone-9"}]}"#
            )
            #expect(constrained["tasks"]?.arrayValue?.isEmpty == true)
            #expect(
                constrained["failures"]?.arrayValue?.contains {
                    $0["reason"]?.stringValue == "MemberOf placement constraint unsatisfied."
                } == true)
        }
    }
}

@Suite("Reconciler: stale plans and deployments", .timeLimit(.minutes(10)))
struct ReconcilerPlanTests {
    /// True the first time it is asked, false after.
    final class FirstTime: Sendable {
        private let asked = Mutex(false)
        func take() -> Bool {
            asked.withLock { asked in
                defer { asked = true }
                return !asked
            }
        }
    }

    @Test("A plan whose cluster changed between snapshot and write is discarded and made again on the new state")
    func stalePlanIsReplanned() async throws {
        try await withReconciler { cp in
            // Given: a service of 6, and a writer that scales it to 2 after the reconciler's snapshot, before its write
            _ = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            let store = cp.store
            let first = FirstTime()
            let clock = cp.clock
            let reconciler = Reconciler(
                store: store,
                now: {
                    // The scheduler reads the clock after the snapshot: the write lands between the two.
                    if first.take() {
                        try? store.writer.write { db in
                            try db.execute(
                                sql:
                                    "UPDATE service SET document = json_set(document, '$.desiredCount', 2) WHERE name = 'web'"
                            )
                        }
                    }
                    return clock.date
                }, seed: 3, logger: Logger(label: "flotilla.test"))
            // When
            let summary = await reconciler.reconcileOnce()
            // Then: the plan for 6 was refused, the plan for 2 applied
            #expect(summary.conflicts == 1)
            #expect(summary.placements == 2)
            #expect(try await cp.tasks().count == 2)
        }
    }

    @Test("A deployment whose tasks keep failing trips the circuit breaker and rolls back to the last completed one")
    func circuitBreakerRollback() async throws {
        try await withReconciler { cp in
            // Given
            _ = try await cp.registerHosts(3)
            try await cp.createWebService(
                desiredCount: 3,
                extra: #", "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}"#
            )
            try #require(try await cp.converge { try await cp.isSteady(running: 3) })
            let good = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"
            #expect(try await cp.service()["taskDefinition"]?.stringValue == good)
            try await cp.client.ok("RegisterTaskDefinition", webDefinition(family: "bad"))
            await cp.fleet.setFailingFamilies(["bad"])
            // When
            try await cp.client.ok("UpdateService", #"{"service": "web", "taskDefinition": "bad"}"#)
            var rolledBack = false
            for _ in 0..<40 where !rolledBack {
                try await cp.round()
                rolledBack = try await cp.hasOnlyCompletedDeployment(of: good, running: 3)
            }
            // Then
            #expect(rolledBack)
            let service = try await cp.service()
            let events = try await cp.events()
            let running = try await cp.runningTasks().compactMap { $0["taskDefinitionArn"]?.stringValue }
            let failed = try await cp.tasks().filter { $0["stopCode"]?.stringValue == "EssentialContainerExited" }
            #expect(service["taskDefinition"]?.stringValue == good)
            #expect(events.contains { $0.hasSuffix("deployment failed: tasks failed to start.") })
            #expect(events.contains { $0.contains("rolling back to deployment") })
            #expect(running == [good, good, good])
            #expect(failed.count >= 3)
        }
    }

    @Test("Placements and stops are logged with fixed texts and cluster, service and task metadata")
    func logs() async throws {
        try await withReconciler { cp in
            // Given
            let logs = InMemoryLogHandler()
            let reconciler = Reconciler(
                store: cp.store, now: { cp.clock.date }, seed: 5, logger: Logger(label: "test") { _ in logs })
            _ = try await cp.registerHosts(1)
            try await cp.createWebService(desiredCount: 1)
            // When
            await reconciler.reconcileOnce()
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 0}"#)
            await reconciler.reconcileOnce()
            // Then
            let task = try #require(try await cp.tasks().first?["taskArn"]?.stringValue)
            let placed = try #require(logs.entries.first { $0.message == "task placed" })
            #expect(placed.level == .info)
            #expect(placed.metadata["cluster"] == "default")
            #expect(placed.metadata["service"] == "web")
            #expect(placed.metadata["task"] == .string(task))
            let stopped = try #require(logs.entries.first { $0.message == "task stop requested" })
            #expect(stopped.metadata["task"] == .string(task))
            #expect(stopped.metadata["task.stopped_reason"] != nil)
        }
    }
}
