import ECSVocabulary
import FlotillaTestKit
import Foundation
import Scheduler
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ReconciliationTests {
    func plan(_ service: ServiceSnapshot, instances: [InstanceSnapshot], tasks: [TaskSnapshot]) -> Plan {
        var generator = SplitMix64(seed: 5)
        let snapshot = ClusterSnapshot(
            baseIndex: 9, clusterName: "c", instances: instances, tasks: tasks, services: [service])
        return Scheduler.plan(snapshot, now: Fixture.now, using: &generator)
    }

    func stopped(_ plan: Plan) -> [String: StopReason] {
        Dictionary(
            uniqueKeysWithValues: plan.stops.map { (String($0.taskArn.dropFirst("arn:task/".count)), $0.reason) })
    }

    static let three = (1...3).map { Fixture.instance("i\($0)", zone: ["a", "b", "c"][$0 - 1]) }

    @Test("scale up: starts the missing tasks of the primary deployment with the service's strategy")
    func scaleUp() {
        // Given desiredCount 3 and no tasks
        let service = Fixture.service(
            desired: 3, deployments: [Fixture.deployment("d1")], strategy: [.spread(.instanceId)])
        // When planned
        let result = plan(service, instances: Self.three, tasks: [])
        // Then three tasks start, one per instance, tagged with the deployment and the service group
        #expect(Set(result.placements.map(\.containerInstanceArn)) == Set(Self.three.map(\.containerInstanceArn)))
        #expect(
            result.placements.allSatisfy {
                $0.deploymentId == "d1" && $0.group == "service:web" && $0.taskDefinitionArn == "web:d1"
            })
        #expect(result.stops.isEmpty && result.baseIndex == 9)
    }

    @Test("scale in stops unhealthy tasks first, then pending ones, before healthy ones")
    func scaleInOrder() {
        let service = Fixture.service(desired: 2, deployments: [Fixture.deployment("d1")], grace: 3_600)
        let tasks = [
            Fixture.task("ok1", on: "i1"), Fixture.task("sick", on: "i2", health: .unhealthy),
            Fixture.task("ok2", on: "i3"), Fixture.task("pending", on: "i1", status: .pending, health: .unknown),
        ]
        let result = plan(service, instances: Self.three, tasks: tasks)
        #expect(stopped(result) == ["sick": .scaledIn, "pending": .scaledIn])
        #expect(result.stops.allSatisfy { $0.stoppedReason == "Scaling activity initiated by (deployment d1)" })
        #expect(result.placements.isEmpty)
    }

    @Test("scale in follows the inverse of spread: from the most crowded zone, newest first")
    func scaleInSpread() {
        let service = Fixture.service(
            desired: 2, deployments: [Fixture.deployment("d1")],
            strategy: [.spread(.attribute("ecs.availability-zone"))])
        let tasks = [
            Fixture.task("a-old", on: "i1", startedSecondsAgo: 900),
            Fixture.task("a-new", on: "i1", startedSecondsAgo: 100),
            Fixture.task("b", on: "i2", startedSecondsAgo: 50),
        ]
        #expect(stopped(plan(service, instances: Self.three, tasks: tasks)) == ["a-new": .scaledIn])
    }

    @Test("scale in follows the inverse of binpack: from the least packed instance")
    func scaleInBinpack() {
        let service = Fixture.service(
            desired: 1, deployments: [Fixture.deployment("d1")], strategy: [.binpack(.memory)])
        let instances = [Fixture.instance("i1", memory: 1024), Fixture.instance("i2", memory: 8192)]
        let tasks = [Fixture.task("packed", on: "i1"), Fixture.task("roomy", on: "i2")]
        #expect(stopped(plan(service, instances: instances, tasks: tasks)) == ["roomy": .scaledIn])
    }

    @Test("an unhealthy task is replaced only after the grace period", arguments: [(60, true), (3_600, false)])
    func unhealthyAfterGrace(grace: Int, replaced: Bool) {
        // Given a task unhealthy since it started 600 s ago
        let service = Fixture.service(desired: 2, deployments: [Fixture.deployment("d1")], grace: grace)
        let tasks = [
            Fixture.task("ok", on: "i1"), Fixture.task("sick", on: "i2", health: .unhealthy, startedSecondsAgo: 600),
        ]
        let result = plan(service, instances: Self.three, tasks: tasks)
        // Then past the grace period it is stopped and a replacement starts; within it, nothing happens
        #expect(stopped(result) == (replaced ? ["sick": .unhealthy] : [:]))
        #expect(result.placements.count == (replaced ? 1 : 0))
    }

    @Test("tasks on a disconnected agent are replaced elsewhere")
    func lostAgent() {
        var instances = Self.three
        instances[0].agentConnected = false
        let service = Fixture.service(desired: 2, deployments: [Fixture.deployment("d1")])
        let result = plan(
            service, instances: instances, tasks: [Fixture.task("lost", on: "i1"), Fixture.task("ok", on: "i2")])
        #expect(stopped(result) == ["lost": .agentDisconnected])
        #expect(result.placements.count == 1 && result.placements[0].containerInstanceArn != "arn:ci/i1")
    }

    @Test("draining: the replacement starts before the draining task stops")
    func draining() {
        // Given two healthy tasks, one on an instance that starts DRAINING, minimumHealthyPercent 100
        var instances = Self.three
        instances[0].status = .draining
        let service = Fixture.service(desired: 2, deployments: [Fixture.deployment("d1")])
        var harness = SchedulerHarness(
            snapshot: ClusterSnapshot(
                baseIndex: 1, clusterName: "c", instances: instances,
                tasks: [Fixture.task("old", on: "i1"), Fixture.task("ok", on: "i2")],
                services: [service]), now: Fixture.now)
        // When planned: first a replacement starts elsewhere and nothing stops
        let first = harness.step()
        #expect(
            first.stops.isEmpty && first.placements.count == 1
                && first.placements[0].containerInstanceArn != "arn:ci/i1")
        // Then once it runs, the draining task stops
        let second = harness.step()
        #expect(second.stops.map(\.taskArn) == ["arn:task/old"] && second.stops[0].reason == .instanceDraining)
        #expect(second.placements.isEmpty)
    }

    @Test(
        "a rolling step respects minimum healthy and maximum percent",
        arguments: [
            // (minimum, maximum, starts, stops) for 4 healthy old tasks rolling to a new deployment
            (100, 200, 4, 0),
            (50, 100, 0, 2),
            (50, 150, 2, 2),
            (0, 100, 0, 4),
        ])
    func rollingStep(minimum: Int, maximum: Int, starts: Int, stops: Int) {
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(desired: 4, deployments: deployments, minimum: minimum, maximum: maximum)
        let tasks = (1...4).map { Fixture.task("old\($0)", on: "i\(($0 - 1) % 3 + 1)", deployment: "d1") }
        let result = plan(service, instances: Self.three, tasks: tasks)
        #expect(result.placements.count == starts)
        #expect(result.placements.allSatisfy { $0.deploymentId == "d2" })
        #expect(result.stops.count == stops)
    }

    @Test("a deployment completes when only its healthy tasks run, at the desired count")
    func completes() {
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(desired: 2, deployments: deployments)
        let result = plan(
            service, instances: Self.three,
            tasks: [Fixture.task("n1", on: "i1", deployment: "d2"), Fixture.task("n2", on: "i2", deployment: "d2")])
        #expect(
            result.deploymentUpdates == [
                DeploymentUpdate(
                    serviceName: "web", deploymentId: "d2", status: nil, rolloutState: .completed,
                    rolloutStateReason: "ECS deployment d2 completed.", rollbackToTaskDefinitionArn: nil),
                DeploymentUpdate(
                    serviceName: "web", deploymentId: "d1", status: .inactive, rolloutState: nil,
                    rolloutStateReason: nil, rollbackToTaskDefinitionArn: nil),
            ])
        #expect(result.events.map(\.message).last == "(service web) has reached a steady state.")
        #expect(result.placements.isEmpty && result.stops.isEmpty)
    }

    @Test("a RUNNING replacement whose health checks have not passed yet stops no old task, and completes nothing")
    func replacementNotYetHealthy() {
        // Given 2 healthy tasks of d1, and d2's 2 replacements RUNNING with their container health still UNKNOWN
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(desired: 2, deployments: deployments)
        let old = (1...2).map { Fixture.task("old\($0)", on: "i\($0)", deployment: "d1") }
        var new = (1...2).map {
            Fixture.task("new\($0)", on: "i3", deployment: "d2", health: .unknown, startedSecondsAgo: 1)
        }
        for index in new.indices { new[index].isHealthChecked = true }
        // When planned, then no old task stops (minimumHealthyPercent 100 counts only healthy tasks) and d2 goes on
        let waiting = plan(service, instances: Self.three, tasks: old + new)
        #expect(waiting.stops.isEmpty && waiting.placements.isEmpty)
        #expect(!waiting.deploymentUpdates.contains { $0.rolloutState == .completed })
        // When the replacements turn HEALTHY, then both old tasks stop
        for index in new.indices { new[index].healthStatus = .healthy }
        #expect(Set(stopped(plan(service, instances: Self.three, tasks: old + new)).keys) == ["old1", "old2"])
    }

    @Test("behind balancers, a task counts as healthy only once every balancer finds it healthy")
    func balancerVerdictGates() {
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(desired: 2, deployments: deployments, minimum: 50)
        var old = (1...2).map { Fixture.task("old\($0)", on: "i\($0)", deployment: "d1") }
        for index in old.indices { old[index].loadBalancerHealth = .healthy }
        var new = (1...2).map { Fixture.task("new\($0)", on: "i3", deployment: "d2", startedSecondsAgo: 1) }
        // Given replacements RUNNING and container-healthy that their balancer has not passed yet
        for index in new.indices { new[index].loadBalancerHealth = .initial }
        // Then only what minimumHealthyPercent 50 allows stops: one old task
        #expect(stopped(plan(service, instances: Self.three, tasks: old + new)).count == 1)
        // When the balancer passes them, then both old tasks stop
        for index in new.indices { new[index].loadBalancerHealth = .healthy }
        #expect(stopped(plan(service, instances: Self.three, tasks: old + new)).count == 2)
        // And once only they remain, the deployment completes
        let completed = plan(service, instances: Self.three, tasks: new)
        #expect(completed.deploymentUpdates.contains { $0.deploymentId == "d2" && $0.rolloutState == .completed })
    }

    @Test("a task failing its balancer's checks is replaced after the grace period, with ECS's ELB reason")
    func balancerFailureAfterGrace() {
        let service = Fixture.service(
            desired: 2, deployments: [Fixture.deployment("d1", rollout: .completed)], grace: 60)
        var tasks = [Fixture.task("ok", on: "i1"), Fixture.task("failing", on: "i2", startedSecondsAgo: 30)]
        tasks[0].loadBalancerHealth = .healthy
        tasks[1].loadBalancerHealth = .unhealthy(loadBalancerName: "web")
        // Within the grace period it is left alone
        #expect(plan(service, instances: Self.three, tasks: tasks).stops.isEmpty)
        // After it, it stops with ECS's reason, and a replacement starts
        tasks[1].startedAt = Fixture.now.addingTimeInterval(-61)
        let result = plan(service, instances: Self.three, tasks: tasks)
        #expect(stopped(result) == ["failing": .failedLoadBalancerHealthChecks("web")])
        #expect(result.stops.first?.stoppedReason == "Task failed ELB health checks in (load-balancer web)")
        #expect(result.placements.count == 1)
    }

    @Test(
        "the circuit breaker fails the deployment at the threshold, and rolls back when asked",
        arguments: [true, false])
    func circuitBreaker(rollback: Bool) {
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(
            desired: 4, deployments: deployments, minimum: 50,
            breaker: DeploymentCircuitBreaker(enable: true, rollback: rollback))
        let failed = (1...3).map {
            Fixture.task("f\($0)", on: "i1", deployment: "d2", status: .stopped, stopCode: .essentialContainerExited)
        }
        let running = (1...4).map { Fixture.task("old\($0)", on: "i2", deployment: "d1") }
        let result = plan(service, instances: Self.three, tasks: failed + running)
        #expect(
            result.deploymentUpdates.first
                == DeploymentUpdate(
                    serviceName: "web", deploymentId: "d2", status: nil, rolloutState: .failed,
                    rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
                    rollbackToTaskDefinitionArn: rollback ? "web:d1" : nil,
                    rollbackToDeploymentId: rollback ? "d1" : nil))
        // And nothing starts, and the old tasks keep serving (none stopped, though minimumHealthyPercent would allow 2)
        #expect(result.placements.isEmpty && result.stops.isEmpty)
    }

    @Test("below the threshold the breaker waits", arguments: [(1, 3), (4, 3), (10, 5), (11, 6), (1_000, 200)])
    func threshold(desired: Int, threshold: Int) {
        let deployments = [Fixture.deployment("d2")]
        let service = Fixture.service(
            desired: desired, deployments: deployments, breaker: DeploymentCircuitBreaker(enable: true, rollback: true))
        let failures = { (count: Int) in
            (0..<count).map {
                Fixture.task("f\($0)", on: "i1", deployment: "d2", status: .stopped, stopCode: .taskFailedToStart)
            }
        }
        #expect(
            !plan(service, instances: [], tasks: failures(threshold - 1)).deploymentUpdates.contains {
                $0.rolloutState == .failed
            })
        #expect(
            plan(service, instances: [], tasks: failures(threshold)).deploymentUpdates.contains {
                $0.rolloutState == .failed
            })
    }

    @Test("end to end: a crashing deployment is rolled back and the service returns to the old task definition")
    func rollbackEndToEnd() {
        // Given 4 healthy tasks of d1 and a new deployment d2 whose tasks exit at once
        let deployments = [
            Fixture.deployment("d2"),
            Fixture.deployment("d1", status: .active, rollout: .completed, createdSecondsAgo: 900),
        ]
        let service = Fixture.service(
            desired: 4, deployments: deployments, breaker: DeploymentCircuitBreaker(enable: true, rollback: true))
        let tasks = (1...4).map { Fixture.task("old\($0)", on: "i\(($0 - 1) % 3 + 1)", deployment: "d1") }
        var harness = SchedulerHarness(
            snapshot: ClusterSnapshot(
                baseIndex: 1, clusterName: "c", instances: Self.three, tasks: tasks,
                services: [service]), now: Fixture.now)
        harness.fleet.failingTaskDefinitions = ["web:d2"]
        // When the scheduler runs until nothing changes
        harness.runUntilStable()
        // Then d2 failed, a rollback deployment of web:d1 is PRIMARY and COMPLETED, and 4 healthy d1-definition tasks run
        let final = harness.fleet.snapshot
        let deploymentsNow = final.services[0].deployments
        #expect(deploymentsNow.first { $0.id == "d2" }?.rolloutState == .failed)
        let primary = deploymentsNow.first { $0.status == .primary }
        #expect(primary?.taskDefinitionArn == "web:d1" && primary?.rolloutState == .completed)
        let live = final.tasks.filter(\.isLive)
        #expect(live.count == 4 && live.allSatisfy { $0.taskDefinitionArn == "web:d1" && $0.lastStatus == .running })
        #expect(harness.plans.flatMap(\.events).contains { $0.message.contains("rolling back to deployment d1") })
    }

    @Test("a service without deployments stops its tasks; desiredCount 0 stops them all")
    func noDeploymentsOrZero() {
        let tasks = [Fixture.task("a", on: "i1"), Fixture.task("b", on: "i2")]
        #expect(
            plan(Fixture.service(desired: 2, deployments: []), instances: Self.three, tasks: tasks).stops.count == 2)
        #expect(
            plan(
                Fixture.service(desired: 0, deployments: [Fixture.deployment("d1")], minimum: 100),
                instances: Self.three, tasks: tasks
            ).stops.count == 2)
    }

    @Test("an unplaceable task becomes a service event quoting the closest instance")
    func unplaceableEvent() {
        let service = Fixture.service(desired: 1, deployments: [Fixture.deployment("d1", memory: 100_000)])
        let result = plan(service, instances: [Fixture.instance("i1")], tasks: [])
        #expect(result.unplaced.count == 1)
        #expect(
            result.events.map(\.message) == [
                "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance i1) has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
            ])
    }

    @Test("services are planned in name order against one engine: later ones see the capacity earlier ones took")
    func servicesShareCapacity() {
        // Given one instance with room for 3 tasks and two services wanting 2 each
        let api = ServiceSnapshot(
            serviceName: "api", desiredCount: 2, deployments: [Fixture.deployment("a1", cpu: 1024)])
        let web = ServiceSnapshot(
            serviceName: "web", desiredCount: 2, deployments: [Fixture.deployment("w1", cpu: 1024)])
        var generator = SplitMix64(seed: 1)
        let snapshot = ClusterSnapshot(
            baseIndex: 4, clusterName: "c", instances: [Fixture.instance("i1", cpu: 3072)], services: [web, api])
        // When planned
        let result = Scheduler.plan(snapshot, now: Fixture.now, using: &generator)
        // Then api (first by name) gets both, web one, and web's missing task is reported
        #expect(result.placements.map(\.serviceName) == ["api", "api", "web"])
        #expect(result.unplaced.map(\.serviceName) == ["web"])
        #expect(result.events.map(\.message).first?.hasPrefix("(service web) was unable to place a task") == true)
    }
}
