import ECSVocabulary
import FlotillaTestKit
import Foundation
import Scheduler
import Testing

/// Invariants over random clusters, each seed reproducible (SplitMix64).
@Suite(.timeLimit(.minutes(10)))
struct PropertyTests {
    static let seeds: [UInt64] = Array(1...60)

    static func randomRequest(using generator: inout SplitMix64) throws -> (PlacementRequest, Int) {
        let strategies: [[PlacementStrategy]] = [
            [], [.binpack(.memory)], [.binpack(.cpu)],
            [.spread(.attribute("ecs.availability-zone")), .binpack(.memory)],
            [.spread(.instanceId)], [.random], [.spread(.attribute("rack")), .random],
        ]
        var constraints: [PlacementConstraint] = []
        if generator.int(below: 3) == 0 { constraints.append(.distinctInstance) }
        if generator.int(below: 2) == 0 {
            constraints.append(
                try .memberOf(
                    [
                        "attribute:ecs.os-type == linux", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
                        "attribute:ecs.instance-type =~ m5.*", "not attribute:rack == r3",
                    ][generator.int(below: 4)]))
        }
        let ports: [HostPort] = generator.int(below: 3) == 0 ? [HostPort(8080)] : []
        let request = PlacementRequest(
            group: "service:svc", taskDefinitionArn: "svc:1",
            requirements: TaskRequirements(
                cpu: 64 * (1 + generator.int(below: 16)), memoryMiB: 128 * (1 + generator.int(below: 32)),
                hostPorts: ports),
            constraints: constraints, strategy: strategies[generator.int(below: strategies.count)], serviceName: "svc")
        return (request, 1 + generator.int(below: 200))
    }

    @Test(
        "placement never overcommits CPU, memory or host ports, honours constraints, avoids DRAINING and disconnected instances",
        arguments: seeds)
    func placementSafety(seed: UInt64) throws {
        // Given a random cluster (some instances DRAINING or disconnected, some tasks of the group already running)
        var generator = SplitMix64(seed: seed)
        let instances = SchedulerClusterGenerator.instances(
            count: 2 + generator.int(below: 40), unhealthyFraction: 0.3, using: &generator)
        let existing = instances.enumerated().filter { _ in generator.int(below: 4) == 0 }.map { index, instance in
            TaskSnapshot(
                taskArn: "t\(index)", containerInstanceArn: instance.containerInstanceArn, group: "service:svc",
                taskDefinitionArn: "svc:1")
        }
        let (request, count) = try Self.randomRequest(using: &generator)
        // When a random request is placed
        let plan = Scheduler.place(
            request, count: count,
            in: ClusterSnapshot(baseIndex: 1, clusterName: "c", instances: instances, tasks: existing),
            using: &generator)
        // Then every invariant holds
        let placed = plan.placements.count
        #expect(placed + (plan.unplaced.first?.count ?? 0) == count)
        var perInstance: [String: Int] = [:]
        for placement in plan.placements { perInstance[placement.containerInstanceArn, default: 0] += 1 }
        for instance in instances {
            let tasks = perInstance[instance.containerInstanceArn] ?? 0
            guard tasks > 0 else { continue }
            #expect(instance.acceptsTasks)
            #expect(tasks * request.requirements.cpu <= instance.remainingCPU)
            #expect(tasks * request.requirements.memoryMiB <= instance.remainingMemoryMiB)
            if !request.requirements.hostPorts.isEmpty {
                #expect(tasks == 1 && instance.portsInUse.isDisjoint(with: request.requirements.hostPorts))
            }
            for constraint in request.constraints {
                switch constraint.kind {
                case .distinctInstance:
                    #expect(
                        tasks == 1 && !existing.contains { $0.containerInstanceArn == instance.containerInstanceArn })
                case .memberOf:
                    #expect(constraint.expression!.matches(instance, groups: [String]()))
                }
            }
        }
        // And when tasks are left over, every instance really had a reason to refuse one more
        if let failure = plan.unplaced.first { #expect(failure.rejections.allSatisfy { !$0.reasons.isEmpty }) }
    }

    static func feasibleDeployment(using generator: inout SplitMix64) -> (desired: Int, minimum: Int, maximum: Int) {
        while true {
            let desired = 1 + generator.int(below: 12)
            let minimum = [0, 25, 50, 75, 100][generator.int(below: 5)]
            let maximum = [100, 125, 150, 200][generator.int(below: 4)]
            // ECS stalls when it can neither start above desired nor stop below it; such settings are not generated.
            if desired * maximum / 100 > desired || (desired * minimum + 99) / 100 < desired {
                return (desired, minimum, maximum)
            }
        }
    }

    @Test(
        "rolling deployments stay within minimum healthy and maximum percent at every step and converge",
        arguments: seeds)
    func rollingDeployment(seed: UInt64) throws {
        // Given a service at steady state on deployment d1 in a cluster with room to spare
        var generator = SplitMix64(seed: seed)
        let (desired, minimum, maximum) = Self.feasibleDeployment(using: &generator)
        let instances = SchedulerClusterGenerator.instances(count: 6 + generator.int(below: 20), using: &generator)
        let strategy: [PlacementStrategy] = [
            [.spread(.attribute("ecs.availability-zone")), .binpack(.memory)], [.random], [.spread(.instanceId)],
        ][generator.int(below: 3)]
        let now = Date(timeIntervalSince1970: 1_764_400_000)
        let d1 = DeploymentSnapshot(
            id: "d1", status: .primary, taskDefinitionArn: "svc:1",
            requirements: TaskRequirements(cpu: 256, memoryMiB: 512, hostPorts: []),
            createdAt: now)
        let service = ServiceSnapshot(
            serviceName: "svc", desiredCount: desired, deployments: [d1],
            deploymentConfiguration: DeploymentConfiguration(minimumHealthyPercent: minimum, maximumPercent: maximum),
            placementStrategy: strategy)
        var harness = SchedulerHarness(
            snapshot: ClusterSnapshot(baseIndex: 1, clusterName: "c", instances: instances, services: [service]),
            now: now, seed: seed)
        harness.runUntilStable()
        #expect(harness.fleet.snapshot.tasks.filter(\.isLive).count == desired)

        // When a new deployment d2 starts (and, for some seeds, an instance starts DRAINING mid-rollout)
        harness.fleet.mutate { cluster in
            cluster.services[0].deployments[0].status = .active
            cluster.services[0].deployments[0].rolloutState = .completed
            cluster.services[0].deployments.insert(
                DeploymentSnapshot(
                    id: "d2", status: .primary, taskDefinitionArn: "svc:2",
                    requirements: TaskRequirements(cpu: 512, memoryMiB: 256), createdAt: now), at: 0)
        }
        let drainAt = generator.int(below: 6)
        let maximumTotal = desired * maximum / 100
        let minimumHealthy = (desired * minimum + 99) / 100
        var steps = 0
        while steps < 60 {
            if steps == drainAt, seed % 2 == 0 {
                let victim = harness.fleet.snapshot.tasks.first(where: \.isLive)?.containerInstanceArn
                harness.fleet.mutate { cluster in
                    for index in cluster.instances.indices where cluster.instances[index].containerInstanceArn == victim
                    { cluster.instances[index].status = .draining }
                }
            }
            let before = harness.fleet.snapshot
            let plan = harness.step()
            steps += 1
            // Then at every step: never above maximumPercent, never below minimumHealthyPercent (unless already below)
            let live = before.tasks.filter(\.isLive)
            let healthy = Set(live.filter(\.isHealthy).map(\.taskArn))
            let stoppedHealthy = plan.stops.filter { healthy.contains($0.taskArn) }.count
            #expect(live.count - plan.stops.count + plan.placements.count <= max(maximumTotal, live.count))
            #expect(healthy.count - stoppedHealthy >= min(minimumHealthy, healthy.count))
            // And never a placement on a DRAINING or disconnected instance
            let accepting = Set(before.instances.filter(\.acceptsTasks).map(\.containerInstanceArn))
            #expect(plan.placements.allSatisfy { accepting.contains($0.containerInstanceArn) })
            if plan.isEmpty { break }
        }
        // And it converges: exactly `desired` running tasks of d2, none on a draining instance, d2 COMPLETED
        let final = harness.fleet.snapshot
        let live = final.tasks.filter(\.isLive)
        #expect(live.count == desired)
        #expect(live.allSatisfy { $0.deploymentId == "d2" && $0.lastStatus == .running })
        let draining = Set(final.instances.filter { $0.status == .draining }.map(\.containerInstanceArn))
        #expect(live.allSatisfy { !draining.contains($0.containerInstanceArn) })
        #expect(final.services[0].deployments.first { $0.id == "d2" }?.rolloutState == .completed)
    }

    @Test(
        """
        with any sequence of container and load-balancer health reports, a deployment never stops a healthy task below \
        minimumHealthyPercent nor runs more than maximumPercent, and completes once its tasks are healthy
        """, arguments: seeds)
    func deploymentUnderHealthReports(seed: UInt64) throws {
        // Given a service at steady state on deployment d1, behind a balancer, with container health checks
        var generator = SplitMix64(seed: seed)
        let (desired, minimum, maximum) = Self.feasibleDeployment(using: &generator)
        let instances = SchedulerClusterGenerator.instances(count: 6 + generator.int(below: 20), using: &generator)
        let now = Date(timeIntervalSince1970: 1_764_400_000)
        let d1 = DeploymentSnapshot(
            id: "d1", status: .primary, taskDefinitionArn: "svc:1",
            requirements: TaskRequirements(cpu: 256, memoryMiB: 512),
            createdAt: now)
        let service = ServiceSnapshot(
            serviceName: "svc", desiredCount: desired, deployments: [d1],
            deploymentConfiguration: DeploymentConfiguration(minimumHealthyPercent: minimum, maximumPercent: maximum),
            placementStrategy: [.spread(.instanceId)], healthCheckGracePeriodSeconds: 30)
        var harness = SchedulerHarness(
            snapshot: ClusterSnapshot(baseIndex: 1, clusterName: "c", instances: instances, services: [service]),
            now: now, seed: seed)
        harness.runUntilStable()
        harness.fleet.mutate { cluster in
            for index in cluster.tasks.indices {
                cluster.tasks[index].isHealthChecked = true
                cluster.tasks[index].loadBalancerHealth = .healthy
            }
        }

        // When deployment d2 starts, its tasks come up RUNNING but unknown to their checks and their balancer,
        // and health reports arrive in a random order: container HEALTHY or UNHEALTHY, balancer healthy,
        // unhealthy or still initial; now and then a healthy task of either deployment fails a check
        harness.fleet.reportsHealthLater = true
        harness.fleet.mutate { cluster in
            cluster.services[0].deployments[0].status = .active
            cluster.services[0].deployments[0].rolloutState = .completed
            cluster.services[0].deployments.insert(
                DeploymentSnapshot(
                    id: "d2", status: .primary, taskDefinitionArn: "svc:2",
                    requirements: TaskRequirements(cpu: 256, memoryMiB: 256), createdAt: now), at: 0)
        }
        let maximumTotal = desired * maximum / 100
        let minimumHealthy = (desired * minimum + 99) / 100
        for _ in 0..<300 {
            let before = harness.fleet.snapshot
            let plan = harness.step()
            // Then at every step: never above maximumPercent, and no stop takes the healthy tasks below
            // minimumHealthyPercent (unless reports already did)
            let live = before.tasks.filter(\.isLive)
            let healthy = Set(live.filter(\.isHealthy).map(\.taskArn))
            let stoppedHealthy = plan.stops.filter { healthy.contains($0.taskArn) }.count
            #expect(live.count - plan.stops.count + plan.placements.count <= max(maximumTotal, live.count))
            #expect(healthy.count - stoppedHealthy >= min(minimumHealthy, healthy.count))
            let settled = plan.isEmpty && harness.fleet.snapshot.tasks.filter(\.isLive).allSatisfy(\.isHealthy)
            if settled { break }
            harness.fleet.mutate { cluster in
                for index in cluster.tasks.indices
                where cluster.tasks[index].isLive && cluster.tasks[index].lastStatus == .running {
                    switch generator.int(below: 100) {
                    case 0..<35: cluster.tasks[index].healthStatus = .healthy
                    case 35..<37: cluster.tasks[index].healthStatus = .unhealthy
                    case 37..<70: cluster.tasks[index].loadBalancerHealth = .healthy
                    case 70..<72: cluster.tasks[index].loadBalancerHealth = .unhealthy(loadBalancerName: "lb")
                    case 72..<75: cluster.tasks[index].loadBalancerHealth = .initial
                    default: break
                    }
                }
            }
        }
        // And once every report is good, it converges: exactly `desired` healthy tasks of d2, d2 COMPLETED
        for _ in 0..<50 {
            harness.fleet.mutate { cluster in
                for index in cluster.tasks.indices
                where cluster.tasks[index].isLive && cluster.tasks[index].lastStatus == .running {
                    cluster.tasks[index].healthStatus = .healthy
                    cluster.tasks[index].loadBalancerHealth = .healthy
                }
            }
            if harness.step().isEmpty { break }
        }
        let live = harness.fleet.snapshot.tasks.filter(\.isLive)
        #expect(live.count == desired)
        #expect(live.allSatisfy { $0.deploymentId == "d2" && $0.isHealthy })
        #expect(harness.fleet.snapshot.services[0].deployments.first { $0.id == "d2" }?.rolloutState == .completed)
    }

    @Test("scaling up and down converges to the desired count whenever capacity allows", arguments: seeds)
    func convergence(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let instances = SchedulerClusterGenerator.instances(count: 3 + generator.int(below: 20), using: &generator)
        let now = Date(timeIntervalSince1970: 1_764_400_000)
        let deployment = DeploymentSnapshot(
            id: "d1", status: .primary, taskDefinitionArn: "svc:1",
            requirements: TaskRequirements(cpu: 128, memoryMiB: 256), rolloutState: .completed, createdAt: now)
        var harness = SchedulerHarness(
            snapshot: ClusterSnapshot(
                baseIndex: 1, clusterName: "c", instances: instances,
                services: [
                    ServiceSnapshot(
                        serviceName: "svc", desiredCount: 0, deployments: [deployment],
                        placementConstraints: [.distinctInstance])
                ]),
            now: now, seed: seed)
        // distinctInstance caps the count at the number of accepting instances: capacity allows exactly that many.
        for _ in 0..<4 {
            let desired = generator.int(below: instances.count + 1)
            harness.fleet.mutate { $0.services[0].desiredCount = desired }
            harness.runUntilStable()
            let live = harness.fleet.snapshot.tasks.filter(\.isLive)
            #expect(live.count == desired)
            #expect(Set(live.map(\.containerInstanceArn)).count == live.count)
        }
    }
}
