import Foundation
import NodeAgent
import TaskDefinitions
import Testing

/// `TaskStateMachine.adopt`: a restarted agent takes over containers a previous agent started.
@Suite(.timeLimit(.minutes(10)))
struct TaskLifecycleAdoptionTests {
    static let binding = NetworkBinding(bindIP: "0.0.0.0", containerPort: 80, hostPort: 32801, protocol: "tcp")

    @Test func runningContainersAreWatchedNotRestartedAndTheTaskIsRunning() {
        // Given a two-container task whose containers both still run
        var machine = TaskStateMachine(taskID: "t1", definition: task(container("web"), container("side")))
        // When the agent adopts them
        let actions = machine.adopt(
            ["web": .running(bindings: [Self.binding]), "side": .running(bindings: [])],
            now: MachineHarness.now)
        // Then both are watched, nothing is pulled, created or started, and RUNNING is reported with the binding
        #expect(
            Set(actions.filter { if case .watchContainer = $0 { true } else { false } })
                == [.watchContainer(container: "web"), .watchContainer(container: "side")])
        #expect(
            !actions.contains { action in
                switch action {
                case .pullImage, .createContainer, .startContainer: true
                default: false
                }
            })
        #expect(machine.status == .running)
        #expect(machine.container("web")?.networkBindings == [Self.binding])
        let reports = actions.compactMap { if case .report(let report) = $0 { report } else { nil } }
        #expect(reports.map(\.lastStatus) == [.running])

        // When the user stops it afterwards / Then both get the graceful stop
        let stopping = machine.desire(.stopped(.userInitiated, reason: "Task stopped by user"), now: MachineHarness.now)
        #expect(stopping.filter { if case .stopContainer = $0 { true } else { false } }.count == 2)
    }

    @Test func anAdoptedContainerKeepsItsLastKnownHealthUntilItsNextCheck() {
        // Given a health-checked container that a previous agent knew HEALTHY
        let check = HealthCheck(command: ["CMD", "true"], interval: 5, retries: 2)
        var machine = TaskStateMachine(taskID: "t1", definition: task(container("web", healthCheck: check)))
        // When the restarted agent adopts it
        let actions = machine.adopt(["web": .running(bindings: [], health: .healthy)], now: MachineHarness.now)
        // Then the first report already says HEALTHY (no balancer or reconciler sees a change), and the next check is
        // one interval away
        let reports = actions.compactMap { if case .report(let report) = $0 { report } else { nil } }
        #expect(reports.map(\.healthStatus) == [.healthy])
        #expect(machine.healthStatus == .healthy)
        #expect(machine.nextHealthCheckDue == MachineHarness.now.addingTimeInterval(5))
        // And checks move it as usual: two failures make it UNHEALTHY (no start period applies again)
        for offset in [5.0, 10.0] {
            let at = MachineHarness.now.addingTimeInterval(offset)
            _ = machine.tick(now: at)
            _ = machine.handle(.healthCheckFinished(container: "web", .exited(code: 1)), now: at)
        }
        #expect(machine.healthStatus == .unhealthy)
    }

    @Test func anEssentialContainerThatExitedMeanwhileStopsTheTaskWithItsExitCode() {
        // Given web exited (code 3) while the agent was away, side still runs
        var machine = TaskStateMachine(
            taskID: "t1", definition: task(container("web"), container("side", essential: false)))
        // When adopted
        let actions = machine.adopt(
            [
                "web": .exited(TaskContainerExit(exitCode: 3), bindings: []),
                "side": .running(bindings: []),
            ], now: MachineHarness.now)
        // Then web is STOPPED with exit 3, the task stops (EssentialContainerExited), side is stopped, web removed
        #expect(machine.container("web")?.lastStatus == .stopped)
        #expect(machine.container("web")?.exitCode == 3)
        #expect(machine.stopCode == .essentialContainerExited)
        #expect(actions.contains { if case .stopContainer("side", _) = $0 { true } else { false } })
        #expect(!actions.contains { if case .stopContainer("web", _) = $0 { true } else { false } })

        // When side's exit arrives / Then both are removed and the task is STOPPED
        var more = machine.handle(.containerExited(container: "side", .signaled(15)), now: MachineHarness.now)
        #expect(more.contains(.removeContainer(container: "web")) && more.contains(.removeContainer(container: "side")))
        more = machine.handle(.containerRemoved(container: "web"), now: MachineHarness.now)
        more += machine.handle(.containerRemoved(container: "side"), now: MachineHarness.now)
        #expect(machine.status == .stopped)
    }

    @Test func aMissingEssentialContainerStopsTheTaskAndNothingIsRemovedForIt() {
        // Given a one-container task whose container the runtime no longer has
        var machine = TaskStateMachine(taskID: "t1", definition: task(container("web")))
        // When adopted
        let actions = machine.adopt([:], now: MachineHarness.now)
        // Then the task is STOPPED at once, the container STOPPED with the restart reason and no exit code
        #expect(machine.status == .stopped)
        #expect(machine.container("web")?.exitCode == nil)
        #expect(machine.container("web")?.reason == "Container not found when the agent restarted")
        #expect(!actions.contains { if case .removeContainer = $0 { true } else { false } })
    }

    @Test func adoptionOnlyAppliesToAFreshMachine() {
        // Given a machine already started the normal way / When adopt is called / Then it does nothing
        var machine = TaskStateMachine(taskID: "t1", definition: task(container("web")))
        _ = machine.desire(.running, now: MachineHarness.now)
        #expect(machine.adopt(["web": .running(bindings: [])], now: MachineHarness.now).isEmpty)
        #expect(machine.status == .pending)
    }
}
