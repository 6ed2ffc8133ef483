import AgentProtocol
import ECSVocabulary
import Foundation
import Logging
@testable import NodeAgent
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `AgentTaskTable.adoptRecovered` on the real runtime: the task records of a previous agent mapped back to the
/// runtime's containers after a restart.
@Suite("Agent re-adoption of recorded tasks", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct AgentReadoptionTests {
    static let definition = try! TaskDefinition.decode(
        Data(
            """
            {"family": "app", "networkMode": "host", "containerDefinitions": [{
              "name": "app", "image": "flotilla/busybox:1", "memory": 32, "command": ["sleep", "1000"], "stopTimeout": 2}]}
            """.utf8))

    /// A runtime container named as the agent names task containers, started with `arguments`.
    static func startContainer(
        _ name: String, _ arguments: [String], fixture: AgentDriverFixture
    ) async throws -> ContainerInfo {
        let image = try #require(fixture.images.resolve("flotilla/busybox:1"))
        let info = try await fixture.runtime.create(
            ContainerSpec(
                name: name, image: "flotilla/busybox:1",
                layerDirectories: image.layerDirectories,
                arguments: arguments))
        return try await fixture.runtime.start(info.id)
    }

    static func record(_ taskID: String) -> TaskRecord {
        TaskRecord(
            taskArn: "arn:aws:ecs:us-east-1:000000000000:task/default/\(taskID)",
            taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/app:1",
            definition: definition, containerIDs: ["app": "\(taskID)-app"], group: "service:app", final: nil)
    }

    @Test func runningContainersAreAdoptedExitsReportedAndOrphansRemoved() async throws {
        let fixture = try AgentDriverFixture(network: AgentDriverFixture.networkConfiguration(1))
        do {
            // Given a previous agent's records of a running task and of a task whose container exited (code 3)
            // meanwhile, and a running container no record claims
            let running = try await Self.startContainer("aaa111-app", ["sleep", "1000"], fixture: fixture)
            let exited = try await Self.startContainer("bbb222-app", ["sh", "-c", "exit 3"], fixture: fixture)
            _ = try await fixture.runtime.wait(exited.id)
            let orphan = try await Self.startContainer("stray", ["sleep", "1000"], fixture: fixture)
            let files = try AgentStateFiles(directory: fixture.root + "/agent")
            try files.save(Self.record("aaa111"))
            try files.save(Self.record("bbb222"))

            // When a restarted agent (a new runtime on the same directory) adopts what is recorded
            let restarted = try fixture.reopened()
            let table = AgentTaskTable(
                cluster: "default", cgroupParent: "flotilla", runtime: restarted.runtime,
                images: restarted.images, files: files, healthStartInterval: .milliseconds(250),
                logger: AgentDriverFixture.logger)
            await table.adoptRecovered()
            table.finishLaunches()
            var launches: [String: AgentTaskTable.Launch] = [:]
            for await launch in table.launches { launches[launch.taskID] = launch }

            // Then the orphan is gone, and both recorded tasks have a supervisor
            #expect(await restarted.runtime.list().map(\.spec.name).sorted() == ["aaa111-app", "bbb222-app"])
            #expect(!processIsAlive(try #require(orphan.pid)))
            let adopted = try #require(launches["aaa111"]?.supervisor)
            let ended = try #require(launches["bbb222"]?.supervisor)

            // And the running one is RUNNING at once on the same process
            var adoptedReports = ReportReader(adopted.reports)
            async let adoptedRun: Void = adopted.run()
            #expect(await adoptedReports.next { _ in true }?.lastStatus == .running)
            #expect(try await restarted.runtime.state("aaa111-app").pid == running.pid)
            // And the exited one ends STOPPED with its exit code and the essential-exit stop code, its container removed
            var endedReports = ReportReader(ended.reports)
            await ended.run()
            let stopped = try #require(await endedReports.next { $0.lastStatus == .stopped })
            #expect(stopped.containers.first?.exitCode == 3)
            #expect(stopped.stopCode == .essentialContainerExited)
            #expect(await restarted.runtime.list().map(\.spec.name) == ["aaa111-app"])

            adopted.desire(.stopped(.userInitiated, reason: "Task stopped by user"))
            await adoptedRun
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }

    @Test func aTaskWithSecretsThatNeverStartedIsLeftToTheNextPollWhichBringsItsValues() async throws {
        let fixture = try AgentDriverFixture(network: AgentDriverFixture.networkConfiguration(1))
        do {
            // Given a previous agent's records of two tasks none of whose containers started, one with secrets
            let files = try AgentStateFiles(directory: fixture.root + "/agent")
            var withSecrets = Self.record("ccc333")
            withSecrets.definition.containerDefinitions[0].secrets = [Secret(name: "TOKEN", valueFrom: "/app/token")]
            try files.save(withSecrets)
            try files.save(Self.record("ddd444"))
            // When a restarted agent adopts what is recorded
            let restarted = try fixture.reopened()
            let table = AgentTaskTable(
                cluster: "default", cgroupParent: "flotilla", runtime: restarted.runtime,
                images: restarted.images, files: files, healthStartInterval: .milliseconds(250),
                logger: AgentDriverFixture.logger)
            await table.adoptRecovered()
            // Then the one without secrets starts afresh; the other's record is dropped (its values are not on disk)
            #expect(files.loadRecords().records.map(\.taskID) == ["ddd444"])
            // When the next poll hands it over again, with its values
            func desired(_ record: TaskRecord, secrets: [String: [String: String]]?) -> DesiredTask {
                DesiredTask(
                    taskArn: record.taskArn, desiredStatus: WireValue(.running), lastStatus: WireValue(.pending),
                    version: 1, taskDefinitionArn: record.taskDefinitionArn, taskDefinition: record.definition,
                    containers: [], group: record.group, secretEnvironment: secrets)
            }
            await table.apply(
                PollDesiredTasksResponse(
                    index: 2, containerInstanceStatus: WireValue(.active),
                    tasks: [
                        desired(withSecrets, secrets: ["app": ["TOKEN": "poll-secret-5c2"]]),
                        desired(Self.record("ddd444"), secrets: nil),
                    ]),
                receivedAt: .now)
            table.finishLaunches()
            var launched: Set<String> = []
            for await launch in table.launches { launched.insert(launch.taskID) }
            // Then both are launched, and the new record names the secret, never its value
            #expect(launched == ["ccc333", "ddd444"])
            let record = try #require(files.loadRecords().records.first { $0.taskID == "ccc333" })
            let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            #expect(record.definition.containerDefinitions[0].secrets?.first?.valueFrom == "/app/token")
            #expect(!text.contains("poll-secret-5c2"))
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }
}

/// Whether the process `pid` exists (and is not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    RuntimeContainerDriver.isAlive(pid, startTime: nil)
}
