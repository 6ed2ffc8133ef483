import ECSVocabulary
import Foundation
import NodeAgent
import TaskDefinitions
import Testing

typealias Action = TaskStateMachine.Action
typealias Event = TaskStateMachine.Event

func container(
    _ name: String, essential: Bool? = nil, dependsOn: [(String, ContainerCondition)] = [],
    healthCheck: HealthCheck? = nil, stopTimeout: Int? = nil
) -> ContainerDefinition {
    ContainerDefinition(
        name: name, image: "flotilla/\(name):1", memory: 64, essential: essential,
        dependsOn: dependsOn.isEmpty
            ? nil : dependsOn.map { ContainerDependency(containerName: $0.0, condition: $0.1) },
        healthCheck: healthCheck, stopTimeout: stopTimeout)
}

func task(_ containers: ContainerDefinition...) -> TaskDefinition {
    TaskDefinition(family: "test", containerDefinitions: containers)
}

/// Drives a `TaskStateMachine` with events at a fixed time and keeps every action it returned.
struct MachineHarness {
    static let now = Date(timeIntervalSinceReferenceDate: 1_000_000)
    var machine: TaskStateMachine
    var actions: [Action] = []

    init(_ definition: TaskDefinition) {
        machine = TaskStateMachine(taskID: "t1", definition: definition)
    }

    @discardableResult
    mutating func send(_ events: Event...) -> [Action] {
        var produced: [Action] = []
        for event in events { produced += machine.handle(event, now: Self.now) }
        actions += produced
        return produced
    }

    @discardableResult
    mutating func desire(_ desired: TaskDesiredStatus) -> [Action] {
        let produced = machine.desire(desired, now: Self.now)
        actions += produced
        return produced
    }

    /// RUNNING desired, every image ready, every container created.
    @discardableResult
    mutating func bringUp() -> [Action] {
        desire(.running)
        let names = machine.report.containers.map(\.name)
        for name in names { send(.imageReady(container: name)) }
        var produced: [Action] = []
        for name in names { produced += send(.containerCreated(container: name, bindings: [])) }
        return produced
    }

    var started: [String] {
        actions.compactMap { if case .startContainer(let name) = $0 { name } else { nil } }
    }

    var stopped: [String] {
        actions.compactMap { if case .stopContainer(let name, _) = $0 { name } else { nil } }
    }

    var removed: [String] {
        actions.compactMap { if case .removeContainer(let name) = $0 { name } else { nil } }
    }

    var reportedStatuses: [TaskStatus] {
        actions.compactMap { if case .report(let report) = $0 { report.lastStatus } else { nil } }
            .reduce(into: []) { result, status in if result.last != status { result.append(status) } }
    }

    var status: TaskStatus { machine.status }
}

@Suite(.timeLimit(.minutes(10)))
struct TaskLifecycleStateMachineTests {
    @Test func singleContainerGoesFromProvisioningToRunning() {
        // Given a one-container task
        var harness = MachineHarness(task(container("web")))
        // When it is desired RUNNING / Then it reports PROVISIONING and PENDING and checks the image
        let first = harness.desire(.running)
        #expect(first.contains(.pullImage(container: "web", image: "flotilla/web:1")))
        #expect(harness.reportedStatuses == [.provisioning, .pending])
        // When the image is ready / Then it creates the container with its stopTimeout default of 30 s
        let created = harness.send(.imageReady(container: "web"))
        let spec = created.compactMap { if case .createContainer(let spec) = $0 { spec } else { nil } }.first
        #expect(spec?.containerID == "t1-web")
        #expect(spec?.stopTimeout == .seconds(30))
        // When it is created and started / Then the task is RUNNING with the container's bindings
        let binding = NetworkBinding(bindIP: "0.0.0.0", containerPort: 80, hostPort: 32768, protocol: "tcp")
        harness.send(.containerCreated(container: "web", bindings: [binding]))
        #expect(harness.started == ["web"])
        harness.send(.containerStarted(container: "web"))
        #expect(harness.status == .running)
        #expect(harness.reportedStatuses == [.provisioning, .pending, .activating, .running])
        #expect(harness.machine.container("web")?.networkBindings == [binding])
        #expect(harness.machine.container("web")?.lastStatus == .running)
    }

    struct ConditionCase: Sendable, CustomTestStringConvertible {
        var condition: ContainerCondition
        var initEssential: Bool
        var notYet: [Event]
        var satisfying: [Event]
        var testDescription: String { condition.rawValue }
    }

    @Test(arguments: [
        ConditionCase(
            condition: .start, initEssential: true, notYet: [], satisfying: [.containerStarted(container: "init")]),
        ConditionCase(
            condition: .complete, initEssential: false, notYet: [.containerStarted(container: "init")],
            satisfying: [.containerExited(container: "init", TaskContainerExit(exitCode: 3))]),
        ConditionCase(
            condition: .success, initEssential: false, notYet: [.containerStarted(container: "init")],
            satisfying: [.containerExited(container: "init", TaskContainerExit(exitCode: 0))]),
        ConditionCase(
            condition: .healthy, initEssential: true,
            notYet: [
                .containerStarted(container: "init"),
                .healthCheckFinished(container: "init", .exited(code: 1)),
            ],
            satisfying: [.healthCheckFinished(container: "init", .exited(code: 0))]),
    ])
    func dependentStartsOnlyWhenConditionIsMet(_ testCase: ConditionCase) {
        // Given app depends on init with the condition
        var harness = MachineHarness(
            task(
                container(
                    "init", essential: testCase.initEssential,
                    healthCheck: HealthCheck(command: ["CMD", "true"], retries: 3)),
                container("app", dependsOn: [("init", testCase.condition)])))
        // When both are created / Then only init starts
        harness.bringUp()
        #expect(harness.started == ["init"])
        // When the events that do not meet the condition happen / Then app still waits
        for event in testCase.notYet { harness.send(event) }
        #expect(harness.started == ["init"])
        #expect(harness.status == .activating)
        // When the condition is met / Then app starts, and once it runs the task is RUNNING
        for event in testCase.satisfying { harness.send(event) }
        #expect(harness.started == ["init", "app"])
        harness.send(.containerStarted(container: "app"))
        #expect(harness.status == .running)
        #expect(harness.machine.stopCode == nil)
    }

    @Test(arguments: [1, 2, 137])
    func failedSuccessDependencyStopsTaskWithTaskFailedToStart(exitCode: Int32) {
        // Given app depends on init exiting successfully
        var harness = MachineHarness(
            task(container("init", essential: false), container("app", dependsOn: [("init", .success)])))
        harness.bringUp()
        harness.send(.containerStarted(container: "init"))
        // When init exits non-zero
        harness.send(.containerExited(container: "init", TaskContainerExit(exitCode: exitCode)))
        // Then app never starts, the task fails to start with a reason naming both, and everything is removed
        #expect(harness.started == ["init"])
        #expect(harness.machine.stopCode == .taskFailedToStart)
        let reason = harness.machine.stoppedReason ?? ""
        #expect(reason.contains("app") && reason.contains("init") && reason.contains("SUCCESS"))
        #expect(reason.contains("exit code \(exitCode)"))
        #expect(harness.machine.container("app")?.lastStatus == .stopped)
        #expect(Set(harness.removed) == ["init", "app"])
        harness.send(.containerRemoved(container: "init"), .containerRemoved(container: "app"))
        #expect(harness.status == .stopped)
    }

    @Test func unhealthyHealthyDependencyStopsTask() {
        // Given app waits for init to be HEALTHY, init allows one failure
        var harness = MachineHarness(
            task(
                container("init", healthCheck: HealthCheck(command: ["CMD", "true"], retries: 1)),
                container("app", dependsOn: [("init", .healthy)])))
        harness.bringUp()
        harness.send(.containerStarted(container: "init"))
        // When init's check fails / Then the task fails to start and init is stopped
        harness.send(.healthCheckFinished(container: "init", .timedOut))
        #expect(harness.machine.stopCode == .taskFailedToStart)
        #expect(harness.stopped == ["init"])
    }

    @Test(arguments: [(true, true), (false, false)])
    func onlyEssentialExitStopsTheTask(essential: Bool, stops: Bool) {
        // Given a running task with web (essential) and a second container
        var harness = MachineHarness(task(container("web"), container("side", essential: essential)))
        harness.bringUp()
        harness.send(.containerStarted(container: "web"), .containerStarted(container: "side"))
        #expect(harness.status == .running)
        // When the second container exits with 2
        harness.send(.containerExited(container: "side", TaskContainerExit(exitCode: 2)))
        // Then the task stops (gracefully stopping web) only if it was essential
        #expect(harness.machine.container("side")?.exitCode == 2)
        #expect(harness.machine.container("side")?.lastStatus == .stopped)
        if stops {
            #expect(harness.machine.stopCode == .essentialContainerExited)
            #expect(harness.machine.stoppedReason == "Essential container in task exited")
            #expect(harness.actions.contains(.stopContainer(container: "web", timeout: .seconds(30))))
            #expect(harness.reportedStatuses.suffix(2) == [.deactivating, .stopping])
        } else {
            #expect(harness.status == .running)
            #expect(harness.stopped.isEmpty)
            #expect(harness.machine.stopCode == nil)
        }
    }

    @Test func outOfMemoryKillSetsTheContainerReason() {
        // Given a running task
        var harness = MachineHarness(task(container("web")))
        harness.bringUp()
        harness.send(.containerStarted(container: "web"))
        // When the OOM killer kills web
        harness.send(.containerExited(container: "web", .signaled(9, oomKilled: true)))
        // Then the container says why and the task stops because an essential container exited
        let web = harness.machine.container("web")
        #expect(web?.reason == "OutOfMemoryError: Container killed due to memory usage")
        #expect(web?.exitCode == 137)
        #expect(harness.machine.stopCode == .essentialContainerExited)
        #expect(harness.status == .deprovisioning)
        #expect(harness.removed == ["web"])
    }

    @Test func missingImageStopsTaskWithCannotPullContainerError() {
        // Given a two-container task being provisioned
        var harness = MachineHarness(task(container("web"), container("side")))
        harness.desire(.running)
        // When web's image is missing and side's later arrives
        harness.send(.imageMissing(container: "web", detail: "image flotilla/web:1 not found on this host"))
        harness.send(.imageReady(container: "side"))
        // Then nothing is created, the task is STOPPED with the pull error as stoppedReason and web's reason
        let reason = "CannotPullContainerError: image flotilla/web:1 not found on this host"
        #expect(!harness.actions.contains { if case .createContainer = $0 { true } else { false } })
        #expect(harness.status == .stopped)
        #expect(harness.machine.stopCode == .taskFailedToStart)
        #expect(harness.machine.stoppedReason == reason)
        #expect(harness.machine.container("web")?.reason == reason)
        #expect(harness.reportedStatuses == [.provisioning, .pending, .stopping, .deprovisioning, .stopped])
    }

    @Test func startFailureStopsTaskWithCannotStartContainerError() {
        // Given created containers / When web fails to start
        var harness = MachineHarness(task(container("web")))
        harness.bringUp()
        harness.send(.containerStartFailed(container: "web", error: "exec format error"))
        // Then the task failed to start and its container is removed
        #expect(harness.machine.stopCode == .taskFailedToStart)
        #expect(harness.machine.stoppedReason == "CannotStartContainerError: exec format error")
        #expect(harness.removed == ["web"])
    }

    @Test func stopGoesInReverseDependencyOrderWithEachStopTimeout() {
        // Given proxy → app → db (each depends on the next with START), stopTimeouts default, 20 s, 10 s
        var harness = MachineHarness(
            task(
                container("db", stopTimeout: 10),
                container("app", dependsOn: [("db", .start)], stopTimeout: 20),
                container("proxy", dependsOn: [("app", .start)])))
        harness.bringUp()
        for name in ["db", "app", "proxy"] {
            harness.send(.containerStarted(container: name))
        }
        #expect(harness.started == ["db", "app", "proxy"])
        #expect(harness.status == .running)
        // When the user stops the task / Then only proxy is stopped first, with the default 30 s
        harness.desire(.stopped(.userInitiated, reason: "Task stopped by user"))
        #expect(
            harness.actions.last { if case .stopContainer = $0 { true } else { false } }
                == .stopContainer(container: "proxy", timeout: .seconds(30)))
        #expect(harness.stopped == ["proxy"])
        // When each exits / Then the one it depended on is stopped next with its own timeout
        harness.send(.containerExited(container: "proxy", .signaled(15)))
        #expect(harness.actions.contains(.stopContainer(container: "app", timeout: .seconds(20))))
        #expect(harness.stopped == ["proxy", "app"])
        harness.send(.containerExited(container: "app", .signaled(15)))
        #expect(harness.actions.contains(.stopContainer(container: "db", timeout: .seconds(10))))
        harness.send(.containerExited(container: "db", TaskContainerExit(exitCode: 0)))
        // Then all are removed and the task is STOPPED, UserInitiated
        for name in ["db", "app", "proxy"] { harness.send(.containerRemoved(container: name)) }
        #expect(harness.status == .stopped)
        #expect(harness.machine.stopCode == .userInitiated)
        #expect(harness.machine.stoppedReason == "Task stopped by user")
        #expect(
            harness.reportedStatuses == [
                .provisioning, .pending, .activating, .running, .deactivating, .stopping, .deprovisioning, .stopped,
            ])
    }

    @Test func stopWhileACreateIsInFlightWaitsToRemoveIt() {
        // Given web waits for side to start, web is created and side's create is still in flight
        var harness = MachineHarness(task(container("web", dependsOn: [("side", .start)]), container("side")))
        harness.desire(.running)
        harness.send(.imageReady(container: "web"), .imageReady(container: "side"))
        harness.send(.containerCreated(container: "web", bindings: []))
        // When the scheduler stops it / Then web (created, never started) is removed but the task is not yet STOPPED
        harness.desire(.stopped(.serviceSchedulerInitiated, reason: "Scaling activity initiated by deployment"))
        #expect(harness.stopped.isEmpty)
        #expect(harness.removed == ["web"])
        harness.send(.containerRemoved(container: "web"))
        #expect(harness.status == .deprovisioning)
        // When side's create completes late / Then it is removed too, never started, and the task is STOPPED
        harness.send(.containerCreated(container: "side", bindings: []))
        #expect(harness.removed == ["web", "side"])
        harness.send(.containerRemoved(container: "side"))
        #expect(harness.started.isEmpty)
        #expect(harness.status == .stopped)
        #expect(harness.machine.stopCode == .serviceSchedulerInitiated)
    }

    @Test func stopTimeoutElapsedKillsAContainerStillRunning() {
        // Given a stopping task whose container has not exited
        var harness = MachineHarness(task(container("web")))
        harness.bringUp()
        harness.send(.containerStarted(container: "web"))
        harness.desire(.stopped(.serviceSchedulerInitiated, reason: "Scaling activity initiated by deployment"))
        // When its stop timeout elapses / Then it is stopped again without grace
        let kill = harness.send(.stopTimeoutElapsed(container: "web"))
        #expect(kill == [.stopContainer(container: "web", timeout: .zero)])
        // When it has exited / Then a late timeout does nothing
        harness.send(.containerExited(container: "web", .signaled(9)))
        let late = harness.send(.stopTimeoutElapsed(container: "web"))
        #expect(late.isEmpty)
    }

    @Test func healthChecksRunWhenDueWithTheShellCommand() {
        // Given a running container with a CMD-SHELL check every 10 s
        var harness = MachineHarness(
            task(
                container(
                    "web", healthCheck: HealthCheck(command: ["CMD-SHELL", "exit 0"], interval: 10, timeout: 3))))
        harness.bringUp()
        harness.send(.containerStarted(container: "web"))
        let now = MachineHarness.now
        // When the interval has not passed / Then no check runs
        #expect(harness.machine.nextHealthCheckDue == now.addingTimeInterval(10))
        let early = harness.machine.tick(now: now.addingTimeInterval(9))
        #expect(early.isEmpty)
        // When it has / Then the check runs with sh -c and its timeout
        let due = harness.machine.tick(now: now.addingTimeInterval(10))
        #expect(
            due == [.runHealthCheck(container: "web", arguments: ["/bin/sh", "-c", "exit 0"], timeout: .seconds(3))])
        // When it passes / Then the container and the task are HEALTHY and that is reported
        let actions = harness.send(.healthCheckFinished(container: "web", .exited(code: 0)))
        #expect(harness.machine.container("web")?.healthStatus == .healthy)
        #expect(
            actions.contains { if case .report(let report) = $0 { report.healthStatus == .healthy } else { false } })
    }

    @Test(arguments: [(nil, 0.25), ("0.5", 0.5), ("2", 2.0)] as [(String?, Double)])
    func duringTheStartPeriodTheFirstCheckIsDueAfterTheStartInterval(label: String?, seconds: Double) {
        // Given a container with a 10 s interval and a 5 s start period, its label setting the start interval or not
        var web = container(
            "web", healthCheck: HealthCheck(command: ["CMD-SHELL", "exit 0"], interval: 10, startPeriod: 5))
        web.dockerLabels = label.map { [ContainerDefinition.healthCheckStartIntervalLabel: $0] }
        var harness = MachineHarness(task(web))
        harness.bringUp()
        // When it starts / Then its first check is due after the label's interval, else the agent's 250 ms
        harness.send(.containerStarted(container: "web"))
        #expect(harness.machine.nextHealthCheckDue == MachineHarness.now.addingTimeInterval(seconds))
    }

    struct HealthCase: Sendable, CustomTestStringConvertible {
        var results: [String: HealthCheckResult]
        var expected: HealthStatus
        var testDescription: String { "\(results.keys.sorted()) → \(expected.rawValue)" }
    }

    @Test(arguments: [
        HealthCase(results: [:], expected: .unknown),
        HealthCase(results: ["a": .exited(code: 0)], expected: .unknown),
        HealthCase(results: ["a": .exited(code: 0), "b": .exited(code: 0)], expected: .healthy),
        HealthCase(results: ["a": .exited(code: 0), "b": .exited(code: 0), "side": .timedOut], expected: .healthy),
        HealthCase(results: ["a": .timedOut, "b": .exited(code: 0)], expected: .unhealthy),
        HealthCase(results: ["b": .exited(code: 1)], expected: .unhealthy),
    ])
    func taskHealthAggregatesEssentialContainersWithChecks(_ testCase: HealthCase) {
        // Given essential a and b with checks, non-essential side with a check, essential plain without one
        let check = HealthCheck(command: ["CMD", "true"], retries: 1)
        var harness = MachineHarness(
            task(
                container("a", healthCheck: check), container("b", healthCheck: check),
                container("side", essential: false, healthCheck: check), container("plain")))
        harness.bringUp()
        for name in ["a", "b", "side", "plain"] { harness.send(.containerStarted(container: name)) }
        // When the checks end as given
        for (name, result) in testCase.results { harness.send(.healthCheckFinished(container: name, result)) }
        // Then the task's health follows ECS's rule
        #expect(harness.machine.healthStatus == testCase.expected)
        #expect(harness.machine.report.healthStatus == testCase.expected)
    }
}
