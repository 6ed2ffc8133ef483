import FlotillaTestKit
import Foundation
import Logging
@testable import NodeAgent
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A temp data directory with the busybox image imported, a runtime with its own bridge, and the driver over them.
struct AgentDriverFixture {
    let root: String
    let networks: NetworkManager
    let runtime: ContainerRuntime
    let images: ImageStore
    let driver: RuntimeContainerDriver

    static let logger = Logger(label: "test.agent")

    /// A bridge, subnet and nftables table of the calling suite's own (`index` tells suites apart: they run in
    /// parallel and each removes its network at the end).
    static func networkConfiguration(_ index: Int) -> NetworkConfiguration {
        var configuration = NetworkConfiguration()
        configuration.bridgeName = "flagt\(index)"
        configuration.subnet = "172.31.\(210 + index).0/24"
        configuration.tablePrefix = "flagt\(index)"
        configuration.namespaceDirectory = "/run/flotilla-agent-tests-\(index)/netns"
        // Below the kernel's ephemeral range (32768-60999): no socket of another test can be given these ports.
        configuration.ephemeralPorts = (23000 + index * 100)...(23000 + index * 100 + 99)
        return configuration
    }

    let network: NetworkConfiguration

    init(root: String? = nil, network: NetworkConfiguration) throws {
        self.network = network
        let root =
            root
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-agent-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        self.root = root
        networks = try NetworkManager(
            stateDirectory: root + "/network", configuration: network,
            logger: Self.logger)
        runtime = try ContainerRuntime(dataDirectory: root, networks: networks, logger: Self.logger)
        images = try ImageStore(root: root + "/images", logger: Self.logger)
        if images.resolve("flotilla/busybox:1") == nil {
            try BusyboxImage.writeArchive(to: root + "/busybox.tar")
            _ = try images.importImage(from: root + "/busybox.tar")
        }
        driver = RuntimeContainerDriver(runtime: runtime, images: images)
    }

    /// The same data directory opened again, as a restarted agent opens it.
    func reopened() throws -> AgentDriverFixture {
        try AgentDriverFixture(root: root, network: network)
    }

    func cleanUp() async {
        for info in await runtime.list() { try? await runtime.delete(info.id, force: true) }
        try? networks.removeHostNetworking()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func definition(_ json: String) throws -> TaskDefinition {
        try TaskDefinition.decode(Data(json.utf8))
    }
}

@Suite(
    "The agent's runtime driver on the namespace runtime", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct AgentRuntimeDriverTests {
    let logger = Logger(label: "test.agent")

    @Test func aTaskDefinitionsContainerRunsWithItsLimitsEnvironmentAndBindings() async throws {
        let fixture = try AgentDriverFixture(network: AgentDriverFixture.networkConfiguration(0))
        do {
            // Given a bridge-mode task definition with limits, a ulimit, environment, workdir and a dynamic host port
            let definition = try AgentDriverFixture.definition(
                """
                {"family": "web", "networkMode": "bridge", "containerDefinitions": [{
                  "name": "web", "image": "flotilla/busybox:1", "cpu": 256, "memory": 64, "memoryReservation": 32,
                  "entryPoint": ["/bin/sh", "-c"],
                  "command": ["mkdir -p /www && echo hello-$GREETING > /www/index.html && exec httpd -f -p 8080 -h /www"],
                  "environment": [{"name": "GREETING", "value": "agent"}], "workingDirectory": "/tmp",
                  "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
                  "portMappings": [{"containerPort": 8080, "hostPort": 0}], "stopTimeout": 2}]}
                """)
            let supervisor = TaskSupervisor(
                taskID: "a1b2c3", definition: definition, driver: fixture.driver,
                clock: ContinuousClock(), logger: logger)
            var reader = ReportReader(supervisor.reports)
            async let finished: Void = supervisor.run()

            // When it runs / Then it is RUNNING with a dynamic host port binding for 8080
            let running = try #require(await reader.next { $0.lastStatus == .running || $0.lastStatus == .stopped })
            #expect(running.lastStatus == .running)
            let binding = try #require(running.containers.first?.networkBindings.first)
            #expect(
                binding.containerPort == 8080 && (23000...23099).contains(binding.hostPort) && binding.protocol == "tcp"
            )
            // And the runtime's container is named after the task and container, and httpd answers on the host port
            let info = try await fixture.runtime.state("a1b2c3-web")
            #expect(info.spec.limits == CgroupLimits(memoryLimitMiB: 64, memoryReservationMiB: 32, cpuShares: 256))
            #expect(
                await eventually(within: .seconds(10), every: .milliseconds(100)) {
                    await httpGet("http://127.0.0.1:\(binding.hostPort)/")
                } == "hello-agent\n")
            // And the ulimit, environment and working directory reach the process
            let probe = try await fixture.runtime.exec(
                "a1b2c3-web", arguments: ["sh", "-c", "ulimit -n; ulimit -Hn; pwd; echo $GREETING"])
            #expect(String(decoding: probe.standardOutput, as: UTF8.self) == "1024\n2048\n/tmp\nagent\n")
            // And the cgroup holds the memory limit
            let cgroup = try #require(Cgroup.open(name: info.id))
            let memory = try #require(cgroup.directory(for: "memory"))
            let limit = (try? readFile(memory + "/memory.max")) ?? (try? readFile(memory + "/memory.limit_in_bytes"))
            #expect(limit?.trimmingCharacters(in: .whitespacesAndNewlines) == String(64 << 20))

            // When the task is stopped / Then it ends STOPPED (SIGTERM exit 143) and the container is gone
            supervisor.desire(.stopped(.userInitiated, reason: "Task stopped by user"))
            let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
            await finished
            #expect(stopped.stopCode == .userInitiated)
            #expect(stopped.containers.first?.exitCode == 143)
            #expect(await fixture.runtime.list().isEmpty)
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }

    @Test func aMissingImageStopsTheTaskWithCannotPullContainerError() async throws {
        let fixture = try AgentDriverFixture(network: AgentDriverFixture.networkConfiguration(0))
        // Given a task whose image this host never imported
        let definition = try AgentDriverFixture.definition(
            """
            {"family": "nope", "containerDefinitions": [{"name": "app", "image": "flotilla/nope:1", "memory": 32}]}
            """)
        let supervisor = TaskSupervisor(
            taskID: "d4e5f6", definition: definition, driver: fixture.driver,
            clock: ContinuousClock(), logger: logger)
        var reader = ReportReader(supervisor.reports)
        // When it runs
        await supervisor.run()
        // Then it is STOPPED, TaskFailedToStart, in ECS's CannotPullContainerError words, and nothing was created
        let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
        let reason =
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            + "flotilla/nope:1: not found on this host (import it with ecs-agent runtime import)"
        #expect(stopped.stopCode == .taskFailedToStart)
        #expect(stopped.stoppedReason == reason)
        #expect(stopped.containers.first?.reason == reason)
        #expect(await fixture.runtime.list().isEmpty)
        await fixture.cleanUp()
    }

    @Test func aRestartedAgentAdoptsTheRunningContainerAndSeesItsExit() async throws {
        let fixture = try AgentDriverFixture(network: AgentDriverFixture.networkConfiguration(0))
        do {
            // Given a host-network task started by one supervisor, which then stops supervising (agent shutdown)
            let definition = try AgentDriverFixture.definition(
                """
                {"family": "sleeper", "networkMode": "host", "containerDefinitions": [{
                  "name": "app", "image": "flotilla/busybox:1", "memory": 32, "command": ["sleep", "1000"]}]}
                """)
            let first = TaskSupervisor(
                taskID: "aa11", definition: definition, driver: fixture.driver,
                clock: ContinuousClock(), logger: logger)
            var firstReader = ReportReader(first.reports)
            let supervising = Task { await first.run() }
            _ = try #require(await firstReader.next { $0.lastStatus == .running })
            supervising.cancel()
            await supervising.value
            let before = try await fixture.runtime.state("aa11-app")
            #expect(before.status == .running)

            // When a new runtime on the same data directory recovers and a new supervisor adopts the container
            let restarted = try fixture.reopened()
            let recovered = await restarted.runtime.recover()
            #expect(recovered.map(\.spec.name) == ["aa11-app"])
            let second = TaskSupervisor(
                taskID: "aa11", definition: definition, driver: restarted.driver,
                clock: ContinuousClock(), adopting: ["app": .running(bindings: [])],
                logger: logger)
            var reader = ReportReader(second.reports)
            async let finished: Void = second.run()
            // Then it reports RUNNING at once, and the same process still runs (nothing restarted)
            let running = try #require(await reader.next { _ in true })
            #expect(running.lastStatus == .running)
            #expect(try await restarted.runtime.state("aa11-app").pid == before.pid)

            // When the container's command is killed / Then the adopted task sees the exit: STOPPED, exit 137
            let initPid = try #require(before.pid)
            let command = try #require(ContainerRuntime.children(of: initPid).first)
            kill(command, SIGKILL)
            let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
            await finished
            #expect(stopped.stopCode == .essentialContainerExited)
            #expect(stopped.containers.first?.exitCode == 137)
            #expect(await restarted.runtime.list().isEmpty)
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }
}
