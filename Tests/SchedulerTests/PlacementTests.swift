import ECSVocabulary
import FlotillaTestKit
import Foundation
import Scheduler
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct PlacementTests {
    func place(
        _ request: PlacementRequest, count: Int, on instances: [InstanceSnapshot], tasks: [TaskSnapshot] = [],
        seed: UInt64 = 7
    ) -> Plan {
        var generator = SplitMix64(seed: seed)
        return Scheduler.place(
            request, count: count,
            in: ClusterSnapshot(baseIndex: 3, clusterName: "c", instances: instances, tasks: tasks),
            using: &generator)
    }

    func hosts(_ plan: Plan) -> [String] {
        plan.placements.map { String($0.containerInstanceArn.dropFirst("arn:ci/".count)) }
    }

    @Test("binpack memory picks the instance with the least memory left, then fills it")
    func binpackMemory() {
        // Given three instances with 8, 2 and 4 GiB free
        let instances = [
            Fixture.instance("a", memory: 8192), Fixture.instance("b", memory: 2048),
            Fixture.instance("c", memory: 4096),
        ]
        // When five 1-GiB tasks are placed with binpack(memory)
        let plan = place(Fixture.request(memory: 1024, strategy: [.binpack(.memory)]), count: 5, on: instances)
        // Then b fills first (2 tasks), then c, and the plan carries the snapshot index
        #expect(hosts(plan) == ["b", "b", "c", "c", "c"])
        #expect(plan.baseIndex == 3)
    }

    @Test("binpack cpu picks the instance with the fewest CPU units left")
    func binpackCPU() {
        let instances = [
            Fixture.instance("a", cpu: 4096), Fixture.instance("b", cpu: 1024), Fixture.instance("c", cpu: 2048),
        ]
        let plan = place(Fixture.request(cpu: 512, strategy: [.binpack(.cpu)]), count: 3, on: instances)
        #expect(hosts(plan) == ["b", "b", "c"])
    }

    @Test("spread over zones balances, then binpack breaks ties inside a zone")
    func spreadThenBinpack() {
        // Given two instances in zone a (one fuller) and one in zone b, and one web task already in zone a
        let instances = [
            Fixture.instance("a1", memory: 8192, zone: "a"), Fixture.instance("a2", memory: 4096, zone: "a"),
            Fixture.instance("b1", memory: 8192, zone: "b"),
        ]
        let existing = [Fixture.task("t0", on: "a1")]
        // When three tasks are placed spreading over zones, then binpacking memory
        let plan = place(
            Fixture.request(strategy: [.spread(.attribute("ecs.availability-zone")), .binpack(.memory)]), count: 3,
            on: instances, tasks: existing)
        // Then zone b gets the first (it had none), then they alternate, choosing a2 (fuller) inside zone a
        #expect(hosts(plan) == ["b1", "a2", "b1"])
    }

    @Test("spread over instanceId puts one task per instance before doubling up")
    func spreadInstance() {
        let instances = (1...3).map { Fixture.instance("i\($0)") }
        let plan = place(Fixture.request(strategy: [.spread(.instanceId)]), count: 6, on: instances)
        #expect(hosts(plan) == ["i1", "i2", "i3", "i1", "i2", "i3"])
    }

    @Test("random draws from the generator: reproducible per seed, and it uses more than one instance")
    func random() {
        let instances = (1...5).map { Fixture.instance("i\($0)") }
        let first = place(Fixture.request(strategy: [.random]), count: 20, on: instances, seed: 11)
        let again = place(Fixture.request(strategy: [.random]), count: 20, on: instances, seed: 11)
        #expect(first == again)
        #expect(Set(hosts(first)).count > 2)
    }

    @Test("spread then random: random only breaks the spread ties")
    func spreadThenRandom() {
        let instances = (1...4).map { Fixture.instance("i\($0)", zone: $0 <= 2 ? "a" : "b") }
        let plan = place(
            Fixture.request(strategy: [.spread(.attribute("ecs.availability-zone")), .random]), count: 8, on: instances)
        let zones = hosts(plan).map { ["i1", "i2"].contains($0) ? "a" : "b" }
        for pair in stride(from: 0, to: 8, by: 2) { #expect(Set(zones[pair...pair + 1]) == ["a", "b"]) }
    }

    @Test("no strategy takes the first feasible instance in snapshot order")
    func noStrategy() {
        let plan = place(Fixture.request(memory: 4096), count: 3, on: [Fixture.instance("a"), Fixture.instance("b")])
        #expect(hosts(plan) == ["a", "a", "b"])
    }

    @Test("CPU and memory are never overcommitted; the rest is reported unplaced")
    func resources() throws {
        // Given 1 instance fitting exactly two tasks by CPU
        let plan = place(Fixture.request(cpu: 1024, memory: 100), count: 5, on: [Fixture.instance("a", cpu: 2048)])
        // Then two are placed and three come back unplaced for CPU
        #expect(plan.placements.count == 2)
        let failure = try #require(plan.unplaced.first)
        #expect(failure.count == 3)
        #expect(failure.rejections.first?.reasons == [.insufficientCPU])
    }

    @Test("a static host port conflicts per protocol; dynamic ports never do")
    func ports() {
        let instances = [Fixture.instance("a", ports: [HostPort(80)]), Fixture.instance("b")]
        // Static tcp/80: only b, once
        let staticPlan = place(Fixture.request(ports: [HostPort(80)]), count: 2, on: instances)
        #expect(hosts(staticPlan) == ["b"])
        #expect(
            staticPlan.unplaced.first?.rejections.map(\.reasons) == [
                [.portInUse(HostPort(80))], [.portInUse(HostPort(80))],
            ])
        // udp/80 does not conflict with tcp/80
        #expect(hosts(place(Fixture.request(ports: [HostPort(80, .udp)]), count: 1, on: instances)) == ["a"])
        // No static port (dynamic): as many as resources allow on one instance
        #expect(place(Fixture.request(), count: 10, on: [instances[0]]).placements.count == 10)
    }

    @Test(
        "DRAINING instances and disconnected agents never receive tasks",
        arguments: [
            (ContainerInstanceStatus.draining, true, PlacementRejection.draining),
            (ContainerInstanceStatus.active, false, PlacementRejection.agentDisconnected),
        ])
    func onlyActiveConnected(status: ContainerInstanceStatus, connected: Bool, reason: PlacementRejection) throws {
        let plan = place(Fixture.request(), count: 1, on: [Fixture.instance("a", status: status, connected: connected)])
        #expect(plan.placements.isEmpty)
        #expect(try #require(plan.unplaced.first).rejections.first?.reasons == [reason])
    }

    @Test("distinctInstance: one task of the group per instance, counting tasks already there")
    func distinctInstance() throws {
        let instances = (1...3).map { Fixture.instance("i\($0)") }
        let plan = place(
            Fixture.request(constraints: [.distinctInstance]), count: 3, on: instances,
            tasks: [Fixture.task("t", on: "i2"), Fixture.task("other", on: "i1", group: "service:db")])
        #expect(hosts(plan) == ["i1", "i3"])
        #expect(try #require(plan.unplaced.first).count == 1)
    }

    @Test(
        "memberOf filters instances by expression",
        arguments: [
            ("attribute:ecs.instance-type == t2.small", ["s"]),
            ("attribute:ecs.instance-type =~ m5.*", ["m"]),
            ("attribute:ecs.availability-zone in [b]", ["m"]),
            ("not attribute:ecs.instance-type == t2.small", ["m"]),
            ("task:group == service:db", ["s"]),
            ("runningTasksCount == 0", ["s", "m"]),
        ])
    func memberOf(expression: String, expected: [String]) throws {
        let instances = [
            Fixture.instance("s", zone: "a", type: "t2.small"), Fixture.instance("m", zone: "b", type: "m5.large"),
        ]
        let plan = place(
            Fixture.request(constraints: [try .memberOf(expression)], strategy: [.spread(.instanceId)]), count: 2,
            on: instances, tasks: [Fixture.task("db", on: "s", group: "service:db")])
        #expect(Set(hosts(plan)) == Set(expected))
    }

    @Test("task:group constraints see tasks placed earlier in the same plan")
    func taskGroupSeesPlanPlacements() throws {
        var generator = SplitMix64(seed: 1)
        var engine = PlacementEngine(instances: [Fixture.instance("a"), Fixture.instance("b")], tasks: [])
        let db = engine.place(
            Fixture.request(strategy: [.spread(.instanceId)], group: "service:db"), count: 1, using: &generator)
        let web = engine.place(
            Fixture.request(constraints: [try .memberOf("task:group == service:db")]), count: 3, using: &generator)
        #expect(Set(web.placements.map(\.containerInstanceArn)) == [db.placements[0].containerInstanceArn])
    }

    @Test(
        "the event quotes the closest matching instance in ECS's words",
        arguments: [
            (Fixture.request(memory: 6000), "has insufficient memory available"),
            (Fixture.request(cpu: 5000), "has insufficient CPU units available"),
            (Fixture.request(ports: [HostPort(22)]), "is already using a port required by your task"),
        ])
    func eventText(request: PlacementRequest, phrase: String) throws {
        // Given a draining instance and an active one that is short of one thing
        let instances = [
            Fixture.instance("drain", status: .draining),
            Fixture.instance("close", memory: 4096, ports: [HostPort(22)]),
        ]
        let failure = try #require(place(request, count: 1, on: instances).unplaced.first)
        // Then the event names the active instance and the one reason
        #expect(
            failure.eventMessage(serviceName: "web")
                == "(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance close) \(phrase). For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
        )
    }

    @Test("constraint failures and an empty cluster have their own wording")
    func otherEvents() throws {
        let constrained = try #require(
            place(
                Fixture.request(constraints: [try .memberOf("attribute:ecs.instance-type == x1")]), count: 1,
                on: [Fixture.instance("a")]
            ).unplaced.first)
        #expect(
            constrained.eventMessage(serviceName: "web").contains(
                "(container-instance a) did not match the placement constraint."))
        #expect(
            constrained.rejections[0].reasons.map(\.runTaskReason) == ["MemberOf placement constraint unsatisfied."])
        let empty = try #require(place(Fixture.request(), count: 1, on: []).unplaced.first)
        #expect(
            empty.eventMessage(serviceName: "web").contains(
                "Reason: No Container Instances were found in your cluster."))
    }

    @Test("requirements from a task definition: task-level values, bridge static ports only, host mode every port")
    func requirementsFromTaskDefinition() {
        let bridge = TaskDefinitionsFixture.definition(mode: .bridge, cpu: nil, memory: nil)
        #expect(TaskRequirements(bridge) == TaskRequirements(cpu: 384, memoryMiB: 768, hostPorts: [HostPort(8080)]))
        let host = TaskDefinitionsFixture.definition(mode: .host, cpu: "1024", memory: "2048")
        #expect(
            TaskRequirements(host)
                == TaskRequirements(
                    cpu: 1024, memoryMiB: 2048, hostPorts: [HostPort(8080), HostPort(9090), HostPort(53, .udp)]))
        #expect(
            TaskRequirements(TaskDefinitionsFixture.definition(mode: .awsvpc, cpu: nil, memory: nil)).hostPorts.isEmpty)
    }
}
