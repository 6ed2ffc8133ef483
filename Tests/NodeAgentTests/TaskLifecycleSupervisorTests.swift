import ECSVocabulary
import Foundation
import Logging
import FlotillaTestKit
import NodeAgent
import TaskDefinitions
import Testing

/// Reads a supervisor's reports until one matches.
struct ReportReader {
    var iterator: AsyncStream<TaskStateReport>.Iterator
    var seen: [TaskStateReport] = []

    init(_ stream: AsyncStream<TaskStateReport>) { iterator = stream.makeAsyncIterator() }

    /// The first report from now on that matches, or nil if the stream ended first.
    mutating func next(where predicate: (TaskStateReport) -> Bool) async -> TaskStateReport? {
        while let report = await iterator.next() {
            seen.append(report)
            if predicate(report) { return report }
        }
        return nil
    }

    var statuses: [TaskStatus] {
        seen.map(\.lastStatus).reduce(into: []) { result, status in if result.last != status { result.append(status) } }
    }
}

@Suite(.timeLimit(.minutes(10)))
struct TaskLifecycleSupervisorTests {
    let logger = Logger(label: "test")

    @Test func fullRunFromProvisioningToStoppedThroughTheDriver() async throws {
        // Given web (with a port binding) and a sidecar that starts after it, on a fake runtime
        let driver = FakeContainerDriver()
        let binding = NetworkBinding(bindIP: "0.0.0.0", containerPort: 80, hostPort: 32800, protocol: "tcp")
        await driver.setBindings([binding], for: "t1-web")
        let supervisor = TaskSupervisor(
            taskID: "t1",
            definition: task(container("web", stopTimeout: 5), container("side", dependsOn: [("web", .start)])),
            driver: driver, clock: ManualClock(), logger: logger)
        var reader = ReportReader(supervisor.reports)
        async let finished: Void = supervisor.run()

        // When it runs / Then the task reaches RUNNING with web's binding
        let running = try #require(await reader.next { $0.lastStatus == .running })
        #expect(running.containers.map(\.lastStatus) == [.running, .running])
        #expect(running.containers.first?.networkBindings == [binding])

        // When the user stops it / Then it ends STOPPED, UserInitiated, having passed through every status
        supervisor.desire(.stopped(.userInitiated, reason: "Task stopped by user"))
        let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
        await finished
        #expect(stopped.stopCode == .userInitiated)
        #expect(stopped.containers.map(\.exitCode) == [143, 143])
        #expect(
            reader.statuses == [
                .provisioning, .pending, .activating, .running, .deactivating, .stopping, .deprovisioning, .stopped,
            ])
        // And the runtime saw: images, creates, web started before side, side stopped before web, both removed
        let calls = await driver.calls
        #expect(Set(calls.prefix(2)) == [.prepareImage("flotilla/web:1"), .prepareImage("flotilla/side:1")])
        let order = calls.filter {
            if case .create = $0 { false } else if case .prepareImage = $0 { false } else { true }
        }
        #expect(
            Array(order.prefix(4)) == [
                .start("t1-web"), .start("t1-side"), .stop("t1-side", timeout: .seconds(30)),
                .stop("t1-web", timeout: .seconds(5)),
            ])
        #expect(Set(order.suffix(2)) == [.remove("t1-web"), .remove("t1-side")])
    }

    @Test func essentialExitStopsTheTask() async throws {
        // Given a running task of web and a non-essential side
        let driver = FakeContainerDriver()
        let supervisor = TaskSupervisor(
            taskID: "t2", definition: task(container("web"), container("side", essential: false)),
            driver: driver, clock: ManualClock(), logger: logger)
        var reader = ReportReader(supervisor.reports)
        async let finished: Void = supervisor.run()
        _ = try #require(await reader.next { $0.lastStatus == .running })

        // When side exits / Then the task keeps running
        await driver.exit("t2-side", with: TaskContainerExit(exitCode: 1))
        let sideStopped = try #require(await reader.next { $0.containers.last?.lastStatus == .stopped })
        #expect(sideStopped.lastStatus == .running)

        // When web is OOM-killed / Then the task stops with ECS's stopCode and reasons
        await driver.exit("t2-web", with: .signaled(9, oomKilled: true))
        let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
        await finished
        #expect(stopped.stopCode == .essentialContainerExited)
        #expect(stopped.stoppedReason == "Essential container in task exited")
        #expect(stopped.containers.first?.reason == "OutOfMemoryError: Container killed due to memory usage")
        #expect(stopped.containers.map(\.exitCode) == [137, 1])
    }

    @Test func missingImageEndsStoppedWithCannotPullContainerError() async throws {
        // Given a host without the image / When the task runs
        let driver = FakeContainerDriver(missingImages: ["flotilla/web:1"])
        let supervisor = TaskSupervisor(
            taskID: "t3", definition: task(container("web")), driver: driver,
            clock: ManualClock(), logger: logger)
        var reader = ReportReader(supervisor.reports)
        await supervisor.run()
        // Then it is STOPPED with the pull error and nothing was created
        let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
        #expect(stopped.stopCode == .taskFailedToStart)
        #expect(stopped.stoppedReason == "CannotPullContainerError: image flotilla/web:1 not found on this host")
        #expect(await driver.calls == [.prepareImage("flotilla/web:1")])
    }

    @Test func startFailureEndsStoppedAndRemovesTheContainer() async throws {
        // Given a runtime that cannot start web / When the task runs
        let driver = FakeContainerDriver()
        await driver.failStart(of: "t5-web", message: "exec: \"/httpd\": no such file")
        let supervisor = TaskSupervisor(
            taskID: "t5", definition: task(container("web")), driver: driver,
            clock: ManualClock(), logger: logger)
        var reader = ReportReader(supervisor.reports)
        await supervisor.run()
        // Then it is STOPPED, TaskFailedToStart, and the created container is removed
        let stopped = try #require(await reader.next { $0.lastStatus == .stopped })
        #expect(stopped.stopCode == .taskFailedToStart)
        #expect(stopped.stoppedReason == "CannotStartContainerError: exec: \"/httpd\": no such file")
        #expect(await driver.calls.last == .remove("t5-web"))
    }

    @Test func healthChecksRunOnTheClockAndSetTaskHealth() async throws {
        // Given a running container with a check every 5 s, 2 retries, on a manual clock
        let driver = FakeContainerDriver()
        let clock = ManualClock()
        let check = HealthCheck(command: ["CMD-SHELL", "wget -q http://127.0.0.1/"], interval: 5, retries: 2)
        let supervisor = TaskSupervisor(
            taskID: "t4", definition: task(container("web", healthCheck: check)),
            driver: driver, clock: clock, logger: logger)
        var reader = ReportReader(supervisor.reports)
        async let finished: Void = supervisor.run()
        _ = try #require(await reader.next { $0.lastStatus == .running })

        // When 5 s pass and the check passes / Then web and the task are HEALTHY
        await clock.waitForSleeper(until: clock.now.advanced(by: .seconds(5)))
        clock.advance(by: .seconds(5))
        let healthy = try #require(await reader.next { $0.healthStatus == .healthy })
        #expect(healthy.containers.first?.healthStatus == .healthy)
        #expect(
            await driver.calls.contains(.exec("t4-web", arguments: ["/bin/sh", "-c", "wget -q http://127.0.0.1/"])))

        // When the next two checks fail, one interval apart / Then after the second the task is UNHEALTHY
        await driver.setExecOutcome(.exited(code: 1), for: "t4-web")
        for _ in 0..<2 {
            // (Each time once the check loop sleeps its interval again: while a check runs, its timeout is a sleeper
            // too, and time moved then would not count for the next check.)
            await clock.waitForSleeper(until: clock.now.advanced(by: .seconds(5)))
            clock.advance(by: .seconds(5))
        }
        let unhealthy = try #require(await reader.next { $0.healthStatus == .unhealthy })
        #expect(unhealthy.lastStatus == .running)

        supervisor.desire(.stopped(.serviceSchedulerInitiated, reason: "Task failed container health checks"))
        _ = try #require(await reader.next { $0.lastStatus == .stopped })
        await finished
    }
}
