public import Foundation
public import Logging
import Metrics
public import TaskDefinitions

/// Owns one task's `TaskStateMachine`, performs its actions through a `ContainerDriver`, runs health checks when
/// due on the injected clock, and publishes every observed state change on `reports`.
///
/// Usage: create it, call `run()` (it returns once the task is STOPPED), call `desire(.stopped(...))` from anywhere
/// to stop it, and read `reports`.
public actor TaskSupervisor<C: Clock> where C.Duration == Duration {
    private enum Input: Sendable {
        case event(TaskStateMachine.Event)
        case desire(TaskDesiredStatus)
        /// The clock reached the wake scheduled for `due`.
        case wake(Date)
    }

    /// Every observed state change, in order; finishes when the task is STOPPED.
    public nonisolated let reports: AsyncStream<TaskStateReport>
    private let reportContinuation: AsyncStream<TaskStateReport>.Continuation
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation

    private var machine: TaskStateMachine
    private let driver: any ContainerDriver
    private let clock: C
    private let originInstant: C.Instant
    private let originDate: Date
    private let logger: Logger
    private var wakeScheduled: Date?
    /// Containers a previous agent started, to adopt instead of starting the task.
    private let adopting: [String: AdoptedContainer]?

    /// A supervisor for a task of `definition`. `startDate` is the wall time matching `clock.now`; the machine's
    /// `now` advances with `clock` from there.
    ///
    /// With `adopting`, the task's containers are running already (a previous agent started them): `run()` adopts
    /// them (`TaskStateMachine.adopt`) instead of starting the task.
    ///
    /// `secrets` are the values of the containers' `secrets` (container name → variable → value), which the
    /// containers get in their environment; held in memory only.
    public init(
        taskID: String, definition: TaskDefinition, driver: any ContainerDriver, clock: C,
        startDate: Date = Date(), adopting: [String: AdoptedContainer]? = nil,
        secrets: [String: [String: String]] = [:],
        healthStartInterval: Duration = HealthCheckStateMachine.defaultStartInterval, logger: Logger
    ) {
        machine = TaskStateMachine(
            taskID: taskID, definition: definition, secrets: secrets, healthStartInterval: healthStartInterval)
        self.adopting = adopting
        self.driver = driver
        self.clock = clock
        originInstant = clock.now
        originDate = startDate
        var logger = logger
        logger[metadataKey: "task"] = "\(taskID)"
        self.logger = logger
        (reports, reportContinuation) = AsyncStream.makeStream()
        (inputs, inputContinuation) = AsyncStream.makeStream()
    }

    /// The latest observed state.
    public var state: TaskStateReport { machine.report }

    /// Asks for the task to stop (or, before `run()`, not to start). Safe to call from any task.
    public nonisolated func desire(_ status: TaskDesiredStatus) {
        inputContinuation.yield(.desire(status))
    }

    /// Starts the task and drives it until it is STOPPED.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            if let adopting {
                perform(machine.adopt(adopting, now: now()), in: &group)
            } else {
                perform(machine.desire(.running, now: now()), in: &group)
            }
            for await input in inputs {
                let actions: [TaskStateMachine.Action]
                switch input {
                case .event(let event):
                    actions = machine.handle(event, now: now())
                case .desire(let desired):
                    actions = machine.desire(desired, now: now())
                case .wake(let due):
                    wakeScheduled = nil
                    // At least `due`: the clock deadline was rounded to the millisecond.
                    actions = machine.tick(now: max(now(), due))
                }
                perform(actions, in: &group)
                if machine.status == .stopped { break }
            }
            group.cancelAll()
        }
        reportContinuation.finish()
    }

    // MARK: - Performing actions

    private func perform(_ actions: [TaskStateMachine.Action], in group: inout TaskGroup<Void>) {
        let driver = driver
        let inputs = inputContinuation
        let logger = logger
        for action in actions {
            switch action {
            case .report(let report):
                logger.info("Task state changed", metadata: ["task.status": "\(report.lastStatus.rawValue)"])
                Counter(
                    label: "flotilla_agent_task_transitions_total",
                    dimensions: [("status", report.lastStatus.rawValue)]
                ).increment()
                reportContinuation.yield(report)
            case .pullImage(let name, let image):
                group.addTask {
                    do {
                        try await driver.prepareImage(image)
                        inputs.yield(.event(.imageReady(container: name)))
                    } catch {
                        inputs.yield(.event(.imageMissing(container: name, detail: "\(error)")))
                    }
                }
            case .createContainer(let spec):
                group.addTask {
                    do {
                        let bindings = try await driver.create(spec)
                        inputs.yield(.event(.containerCreated(container: spec.definition.name, bindings: bindings)))
                    } catch {
                        inputs.yield(.event(.containerCreateFailed(container: spec.definition.name, error: "\(error)")))
                    }
                }
            case .startContainer(let name):
                let id = containerID(name)
                group.addTask {
                    do {
                        try await driver.start(containerID: id)
                    } catch {
                        inputs.yield(.event(.containerStartFailed(container: name, error: "\(error)")))
                        return
                    }
                    inputs.yield(.event(.containerStarted(container: name)))
                    do {
                        let exit = try await driver.wait(containerID: id)
                        inputs.yield(.event(.containerExited(container: name, exit)))
                    } catch {
                        // Cancelled: the owner stops supervising and leaves the container running.
                        if Task.isCancelled { return }
                        logger.error(
                            "Waiting for container failed",
                            metadata: [
                                "container.name": "\(name)", "error": "\(error)",
                            ])
                        inputs.yield(.event(.containerExited(container: name, TaskContainerExit(exitCode: 255))))
                    }
                }
            case .watchContainer(let name):
                let id = containerID(name)
                group.addTask {
                    do {
                        let exit = try await driver.wait(containerID: id)
                        inputs.yield(.event(.containerExited(container: name, exit)))
                    } catch {
                        // Cancelled: the owner stops supervising and leaves the container running.
                        if Task.isCancelled { return }
                        logger.error(
                            "Waiting for container failed",
                            metadata: [
                                "container.name": "\(name)", "error": "\(error)",
                            ])
                        inputs.yield(.event(.containerExited(container: name, TaskContainerExit(exitCode: 255))))
                    }
                }
            case .stopContainer(let name, let timeout):
                let id = containerID(name)
                let clock = clock
                group.addTask {
                    do {
                        try await driver.stop(containerID: id, timeout: timeout)
                    } catch {
                        logger.error(
                            "Stopping container failed",
                            metadata: [
                                "container.name": "\(name)", "error": "\(error)",
                            ])
                    }
                }
                if timeout > .zero {
                    // Safety net: if no exit is seen a little after the runtime's SIGKILL, the machine kills again.
                    group.addTask {
                        guard (try? await clock.sleep(for: timeout + .seconds(5))) != nil else { return }
                        inputs.yield(.event(.stopTimeoutElapsed(container: name)))
                    }
                }
            case .runHealthCheck(let name, let arguments, let timeout):
                let id = containerID(name)
                group.addTask {
                    let result: HealthCheckResult
                    do {
                        switch try await driver.exec(containerID: id, arguments: arguments, timeout: timeout) {
                        case .exited(let code): result = .exited(code: code)
                        case .timedOut: result = .timedOut
                        }
                    } catch {
                        result = .couldNotRun("\(error)")
                    }
                    let passed = if case .exited(code: 0) = result { true } else { false }
                    Counter(
                        label: "flotilla_agent_health_checks_total", dimensions: [("result", passed ? "pass" : "fail")]
                    )
                    .increment()
                    inputs.yield(.event(.healthCheckFinished(container: name, result)))
                }
            case .removeContainer(let name):
                let id = containerID(name)
                group.addTask {
                    do {
                        try await driver.remove(containerID: id)
                    } catch {
                        // Reported removed anyway: a task must reach STOPPED; the runtime's recovery cleans up.
                        logger.error(
                            "Removing container failed",
                            metadata: [
                                "container.name": "\(name)", "error": "\(error)",
                            ])
                    }
                    inputs.yield(.event(.containerRemoved(container: name)))
                }
            }
        }
        scheduleWake(in: &group)
    }

    private func scheduleWake(in group: inout TaskGroup<Void>) {
        guard let due = machine.nextHealthCheckDue, wakeScheduled.map({ due < $0 }) ?? true else { return }
        wakeScheduled = due
        let milliseconds = Int64((due.timeIntervalSince(originDate) * 1000).rounded())
        let deadline = originInstant.advanced(by: .milliseconds(milliseconds))
        let clock = clock
        let inputs = inputContinuation
        group.addTask {
            guard (try? await clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
            inputs.yield(.wake(due))
        }
    }

    private func containerID(_ name: String) -> String {
        machine.spec(of: name)?.containerID ?? name
    }

    private func now() -> Date {
        originDate.addingTimeInterval(originInstant.duration(to: clock.now).timeInterval)
    }
}
