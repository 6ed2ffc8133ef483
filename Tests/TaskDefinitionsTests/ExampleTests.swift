import Foundation
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ExampleTests {
    /// What each file in `examples/taskdefs/invalid/` must be refused for: malformed or invalid, and the first
    /// issue's path and message start.
    static let expectations: [String: (malformed: Bool, path: String, message: String)] = [
        "absurd-memory": (
            false, "containerDefinitions[0].memory",
            "Invalid 'memory' setting for container 'app'. Must be between 6 MiB and 4194304 MiB"
        ),
        "awsvpc-host-port-mismatch": (
            false, "containerDefinitions[0].portMappings[0].hostPort",
            "When networkMode=awsvpc, the host ports and container ports"
        ),
        "container-port-out-of-range": (
            false, "containerDefinitions[0].portMappings[0].containerPort",
            "Invalid 'containerPort' setting for container 'app'."
        ),
        "dependency-cycle": (
            false, "containerDefinitions[0].dependsOn", "Container dependencies should not have a cycle: a -> b -> a."
        ),
        "depends-on-unknown-container": (
            false, "containerDefinitions[0].dependsOn[0].containerName",
            "Cannot depend on container 'db' because it does not exist."
        ),
        "duplicate-container-names": (
            false, "containerDefinitions[1].name", "Container names must be unique within a Task Definition."
        ),
        "empty-container-list": (false, "containerDefinitions", "Container list cannot be empty."),
        "health-check-command-form": (
            false, "containerDefinitions[0].healthCheck.command",
            "Invalid 'healthCheck' setting for container 'app'. The command must be"
        ),
        "health-check-interval-out-of-range": (
            false, "containerDefinitions[0].healthCheck.interval",
            "Invalid 'healthCheck' setting for container 'app'. 'interval' must be between 5 and 300"
        ),
        "host-port-mapped-twice": (
            false, "containerDefinitions[1].portMappings[0].hostPort",
            "TCP host port '8080' is mapped multiple times in task."
        ),
        "invalid-family-name": (false, "family", "Family contains invalid characters."),
        "memory-not-a-number": (true, "containerDefinitions[0].memory", "expected a number, got a string"),
        "memory-reservation-above-memory": (
            false, "containerDefinitions[0].memoryReservation",
            "Invalid setting for container 'app'. 'memoryReservation' (128)"
        ),
        "missing-image": (false, "containerDefinitions[0].image", "Container.image should not be null or empty."),
        "missing-memory": (
            false, "containerDefinitions[0].memory",
            "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified."
        ),
        "no-essential-container": (
            false, "containerDefinitions", "Task definition doesn't have any essential container."
        ),
        "protocol-not-tcp-or-udp": (
            false, "containerDefinitions[0].portMappings[0].protocol", "Invalid 'protocol' setting for container 'app'."
        ),
        "success-dependency-on-essential": (
            false, "containerDefinitions[1].dependsOn[0].condition",
            "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container."
        ),
        "task-cpu-below-containers": (
            false, "cpu", "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."
        ),
        "task-memory-below-containers": (
            false, "memory",
            "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."
        ),
        "too-many-containers": (false, "containerDefinitions", "Too many containers."),
        "ulimit-soft-above-hard": (
            false, "containerDefinitions[0].ulimits[0].softLimit",
            "Invalid 'ulimits' setting for container 'app'. 'softLimit' (8192)"
        ),
        "unknown-network-mode": (true, "networkMode", "must be one of bridge, host, awsvpc, none, got 'overlay'"),
    ]

    static func jsonFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0) }
    }

    static let validFiles = jsonFiles(in: Fixture.examples).map(\.lastPathComponent)
    static let invalidFiles = jsonFiles(in: Fixture.examples.appendingPathComponent("invalid")).map(\.lastPathComponent)

    @Test("the examples directory holds the three documented task definitions")
    func inventory() {
        #expect(Set(Self.validFiles).isSuperset(of: ["web.json", "worker.json", "web-with-sidecar.json"]))
        // Every invalid example has an expectation, and every expectation a file
        #expect(Set(Self.invalidFiles.map { String($0.dropLast(5)) }) == Set(Self.expectations.keys))
    }

    @Test("every valid example decodes without issues and round-trips unchanged", arguments: validFiles)
    func valid(_ name: String) throws {
        let data = try Data(contentsOf: Fixture.examples.appendingPathComponent(name))
        let definition = try TaskDefinition.decode(data)
        #expect(definition.containerDefinitions.allSatisfy { $0.image == "flotilla/busybox:1" })
        let before = try JSONDecoder().decode(JSONValue.self, from: data)
        let after = try JSONDecoder().decode(JSONValue.self, from: definition.encodedJSON())
        #expect(after == before)
    }

    @Test("every invalid example is refused at the field it names", arguments: invalidFiles)
    func invalid(_ name: String) throws {
        let expected = try #require(Self.expectations[String(name.dropLast(5))])
        let data = try Data(contentsOf: Fixture.examples.appendingPathComponent("invalid").appendingPathComponent(name))
        let error = try #require(Fixture.error(decoding: data))
        if case .malformed = error { #expect(expected.malformed) } else { #expect(!expected.malformed) }
        let first = try #require(error.issues.first)
        #expect(first.path.description == expected.path)
        #expect(first.message.hasPrefix(expected.message), "\(first.message)")
    }

    @Test("the examples' resources are what the scheduler will reserve")
    func resources() throws {
        func load(_ name: String) throws -> TaskDefinition {
            try TaskDefinition.decode(Data(contentsOf: Fixture.examples.appendingPathComponent(name)))
        }
        let web = try load("web.json")
        #expect(web.requiredCPUUnits == 128)
        #expect(web.requiredMemoryMiB == 64)
        #expect(web.staticHostPorts == [])
        let worker = try load("worker.json")
        #expect(worker.requiredMemoryMiB == 32)
        #expect(worker.containerDefinitions[0].portMappings == nil)
        let sidecar = try load("web-with-sidecar.json")
        #expect(sidecar.containerStartOrder() == ["content", "web"])
        #expect(sidecar.requiredCPUUnits == 128)
        #expect(sidecar.requiredMemoryMiB == 96)
    }
}
