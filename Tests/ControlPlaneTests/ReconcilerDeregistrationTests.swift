import ControlPlane
import FlotillaTestKit
import Foundation
import HummingbirdTesting
import TaskDefinitions
import Testing

/// Issue 6 from the reconciler's side, with fake agents speaking the agent protocol and the embedded balancers off
/// (`--no-embedded-load-balancer`): the reconciler's stops of balanced tasks wait out the full deregistration delay.
@Suite("Reconciler: stops of tasks behind load balancers wait for deregistration", .timeLimit(.minutes(10)))
struct ReconcilerDeregistrationTests {
    /// Balancer `web` (20 s deregistration delay, never started: the embedded balancers are off here) and service
    /// web with `desiredCount` tasks behind it, on two hosts; answers once the service is steady.
    func balancedWeb(_ cp: ReconcilerHarness, desiredCount: Int) async throws {
        _ = try await cp.registerHosts(2)
        try await cp.client.flotillaOK(
            "CreateLoadBalancer",
            """
            {"loadBalancerName": "web", "listenerPort": 18080, "listenerAddress": "127.0.0.1", "deregistrationDelaySeconds": 20}
            """)
        try await cp.createWebService(
            desiredCount: desiredCount,
            extra: """
                , "loadBalancers": [{"loadBalancerName": "web", "containerName": "web", "containerPort": 80}]
                """)
        try #require(try await cp.converge { try await cp.isSteady(running: desiredCount) })
    }

    @Test(
        "A forced new deployment: old tasks DEACTIVATING and still run on their agents while the new ones start; released after the delay"
    )
    func rollingReplacementWaitsForTheDelay() async throws {
        try await withReconciler { cp in
            // Given web with 2 tasks behind balancer web
            try await balancedWeb(cp, desiredCount: 2)
            let old = Set(try await cp.runningTasks().compactMap { $0["taskArn"]?.stringValue })

            // When a new deployment is forced and the reconciler replaces the tasks
            try await cp.client.ok("UpdateService", #"{"service": "web", "forceNewDeployment": true}"#)
            let replaced = try await cp.converge {
                let tasks = try await cp.tasks()
                let oldStates = tasks.filter { old.contains($0["taskArn"]?.stringValue ?? "") }.map {
                    $0["lastStatus"]?.stringValue
                }
                let newRunning = try await cp.runningTasks().filter { !old.contains($0["taskArn"]?.stringValue ?? "") }
                return newRunning.count == 2 && oldStates == ["DEACTIVATING", "DEACTIVATING"]
            }
            // Then the old tasks are DEACTIVATING, desired STOPPED, while their replacements run: they do not count
            try #require(replaced)
            let oldTasks = try await cp.tasks().filter { old.contains($0["taskArn"]?.stringValue ?? "") }
            #expect(oldTasks.allSatisfy { $0["desiredStatus"]?.stringValue == "STOPPED" })
            #expect(try await cp.service()["runningCount"]?.intValue == 2)
            // And their agents still run them (each poll told them RUNNING), for a few more rounds
            for _ in 0..<3 { try await cp.round() }
            let onAgents = Set(await cp.fleet.runningTasks().values.flatMap { $0 })
            #expect(old.isSubset(of: onAgents))
            #expect(
                try await cp.tasks().filter { old.contains($0["taskArn"]?.stringValue ?? "") }
                    .allSatisfy { $0["lastStatus"]?.stringValue == "DEACTIVATING" })
            // And the deployment is not COMPLETED while the replaced tasks are still draining (ECS: the old are gone)
            #expect(
                try await !cp.hasOnlyCompletedDeployment(
                    of: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1", running: 2))

            // When the 20 s delay has passed
            cp.clock.advance(seconds: 20)
            // Then the reconciler releases the stops and the agents stop the old tasks
            let stopped = try await cp.converge {
                try await cp.tasks().filter { old.contains($0["taskArn"]?.stringValue ?? "") }
                    .allSatisfy { $0["lastStatus"]?.stringValue == "STOPPED" }
            }
            #expect(stopped)
            let stillOnAgents = Set(await cp.fleet.runningTasks().values.flatMap { $0 })
            #expect(old.isDisjoint(with: stillOnAgents))
            // And once they are STOPPED, the deployment completes
            #expect(
                try await cp.converge {
                    try await cp.hasOnlyCompletedDeployment(
                        of: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1", running: 2)
                })
        }
    }

    @Test("Scale-in of a balanced service holds the stopped task; a service without balancers stops at once")
    func scaleIn() async throws {
        try await withReconciler { cp in
            // Given web (behind balancer web) with 2 tasks
            try await balancedWeb(cp, desiredCount: 2)
            // When it is scaled in to 1
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 1}"#)
            await cp.reconciler.reconcileOnce()
            // Then one task is DEACTIVATING and its agent keeps running it after a round
            try await cp.fleet.sync()
            let deactivating = try await cp.tasks().filter { $0["lastStatus"]?.stringValue == "DEACTIVATING" }
            try #require(deactivating.count == 1)
            let arn = deactivating[0]["taskArn"]?.stringValue ?? ""
            #expect(deactivating[0]["stoppedReason"]?.stringValue?.contains("Scaling activity initiated by") == true)
            #expect(await cp.fleet.runningTasks().values.flatMap { $0 }.contains(arn))
            #expect(try await cp.service()["runningCount"]?.intValue == 1)

            // When its balancer is detached from the service (no delay left to wait), a pass releases it
            try await cp.client.ok("UpdateService", #"{"service": "web", "loadBalancers": []}"#)
            await cp.reconciler.reconcileOnce()
            try await cp.fleet.sync()
            #expect(
                try await cp.tasks().first { $0["taskArn"]?.stringValue == arn }?["lastStatus"]?.stringValue
                    == "STOPPED")

            // When the service, now without balancers, scales in again
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 0}"#)
            await cp.reconciler.reconcileOnce()
            // Then its last task is desired STOPPED at once, not DEACTIVATING
            #expect(try await cp.tasks().allSatisfy { $0["lastStatus"]?.stringValue != "DEACTIVATING" })
            try await cp.fleet.sync()
            #expect(try await cp.tasks().allSatisfy { $0["lastStatus"]?.stringValue == "STOPPED" })
        }
    }
}
