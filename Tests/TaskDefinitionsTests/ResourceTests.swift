import Foundation
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ResourceTests {
    @Test(
        "task-level cpu as ECS accepts it",
        arguments: [
            ("256", 256), ("1024", 1024), ("1 vCPU", 1024), ("0.5 vcpu", 512), ("0.25vCPU", 256), ("2 VCPU", 2048),
            (" 512 ", 512), ("4 vCPUs", 4096),
            ("1.5", nil), ("0.3 vCPU", nil), ("abc", nil), ("", nil), ("-256", nil), ("1e3", nil), ("1 core", nil),
            ("1..5 vCPU", nil), ("99999999999999999999999", nil),
        ] as [(String, Int?)])
    func cpu(_ text: String, _ units: Int?) {
        #expect(TaskDefinition.parseCPUUnits(text) == units)
        #expect(TaskDefinition(family: "t", cpu: text, containerDefinitions: []).cpuUnits == units)
    }

    @Test(
        "task-level memory as ECS accepts it",
        arguments: [
            ("512", 512), ("1 GB", 1024), ("0.5GB", 512), ("2 gb", 2048), ("1 GiB", 1024), ("2048 MiB", 2048),
            ("300 MB", 300), ("1.5 GB", 1536),
            ("0.3 GB", nil), ("1 TB", nil), ("lots", nil), ("", nil), ("GB", nil), ("12.5", nil),
        ] as [(String, Int?)])
    func memory(_ text: String, _ mib: Int?) {
        #expect(TaskDefinition.parseMemoryMiB(text) == mib)
        #expect(TaskDefinition(family: "t", memory: text, containerDefinitions: []).memoryMiB == mib)
    }

    @Test("task-level sizes win over the containers' sums")
    func taskLevel() {
        let definition = TaskDefinition(
            family: "t", cpu: "1 vCPU", memory: "0.5 GB",
            containerDefinitions: [
                ContainerDefinition(name: "a", image: "i", cpu: 100, memory: 64)
            ])
        #expect(definition.requiredCPUUnits == 1024)
        #expect(definition.requiredMemoryMiB == 512)
    }

    @Test("without task-level sizes, containers add up: reservation where set, else memory")
    func containerSums() {
        let definition = TaskDefinition(
            family: "t",
            containerDefinitions: [
                ContainerDefinition(name: "a", image: "i", cpu: 100, memory: 256, memoryReservation: 64),
                ContainerDefinition(name: "b", image: "i", cpu: 28, memory: 128),
                ContainerDefinition(name: "c", image: "i", memoryReservation: 32),
            ])
        #expect(definition.requiredCPUUnits == 128)
        #expect(definition.requiredMemoryMiB == 64 + 128 + 32)
    }

    @Test("static host ports per network mode")
    func hostPorts() {
        let mappings = [
            PortMapping(containerPort: 80, hostPort: 0),
            PortMapping(containerPort: 443, hostPort: 8443),
            PortMapping(containerPort: 53, protocol: "udp"),
            PortMapping(containerPort: 53, hostPort: 5353, protocol: "udp"),
        ]
        func ports(_ mode: NetworkMode?) -> [HostPort] {
            TaskDefinition(
                family: "t", networkMode: mode,
                containerDefinitions: [
                    ContainerDefinition(name: "a", image: "i", memory: 64, portMappings: mappings)
                ]
            ).staticHostPorts
        }
        // bridge: only non-zero host ports are fixed; the others are dynamic
        #expect(
            ports(nil) == [
                HostPort(port: 8443, transportProtocol: .tcp), HostPort(port: 5353, transportProtocol: .udp),
            ])
        #expect(ports(.bridge) == ports(nil))
        // host: every mapping binds its host port, the container port when absent or 0
        #expect(
            ports(.host) == [
                HostPort(port: 80), HostPort(port: 8443), HostPort(port: 53, transportProtocol: .udp),
                HostPort(port: 5353, transportProtocol: .udp),
            ])
        // awsvpc and none: the task's own namespace, nothing bound on the host
        #expect(ports(.awsvpc) == [])
        #expect(ports(NetworkMode.none) == [])
        #expect(HostPort(port: 80).description == "80/tcp")
    }

    @Test("defaults are computed, not stored")
    func defaults() throws {
        let definition = try TaskDefinition.decode(
            Data(
                Fixture.task(
                    Fixture.container(
                        "a",
                        #","healthCheck":{"command":["CMD","true"],"retries":5},"portMappings":[{"containerPort":80}]"#)
                ).utf8))
        let container = try #require(definition.containerDefinitions.first)
        #expect(definition.networkMode == nil)
        #expect(definition.resolvedNetworkMode == .bridge)
        #expect(container.essential == nil)
        #expect(container.isEssential)
        #expect(container.portMappings?.first?.protocol == nil)
        #expect(container.portMappings?.first?.transportProtocol == .tcp)
        let check = try #require(container.healthCheck)
        #expect(
            [check.resolvedInterval, check.resolvedTimeout, check.resolvedRetries, check.resolvedStartPeriod] as [Int]
                == [30, 5, 5, 0])
        #expect(check.interval == nil)
        // And encoding writes back only what the user sent
        let encoded = try JSONDecoder().decode(JSONValue.self, from: definition.encodedJSON())
        #expect(encoded["networkMode"] == nil)
        #expect(encoded["containerDefinitions"]?.arrayValue?.first?["essential"] == nil)
    }

    @Test("containers start after their dependencies")
    func startOrder() {
        func definition(_ dependencies: [(String, String)]) -> TaskDefinition {
            TaskDefinition(
                family: "t",
                containerDefinitions: ["a", "b", "c"].map { name in
                    ContainerDefinition(
                        name: name, image: "i", memory: 64,
                        dependsOn: dependencies.filter { $0.0 == name }
                            .map { ContainerDependency(containerName: $0.1, condition: .start) })
                })
        }
        #expect(definition([]).containerStartOrder() == ["a", "b", "c"])
        #expect(definition([("a", "c"), ("b", "a")]).containerStartOrder() == ["c", "a", "b"])
        #expect(definition([("a", "b"), ("b", "a")]).containerStartOrder() == nil)
        #expect(definition([("a", "x")]).containerStartOrder() == nil)
    }
}
