public import ECSVocabulary
public import Foundation
public import TaskDefinitions

/// One ECS task's lifecycle: takes the desired status and what happened to its containers, returns what to do.
///
/// No I/O, no clock (`now` is an input). The owner (`TaskSupervisor`) performs the actions and feeds their outcomes
/// back as events. ECS semantics: containers start in `dependsOn` order (START, COMPLETE, SUCCESS, HEALTHY); an
/// essential container's exit stops the task; stopping goes in reverse dependency order with each container's
/// stopTimeout; every change of observed state yields a `.report`.
public struct TaskStateMachine: Sendable {
    /// Something for the owner to do.
    public enum Action: Hashable, Sendable {
        /// Make sure the image is on the host; answer with `.imageReady` or `.imageMissing`.
        case pullImage(container: String, image: String)
        /// Answer with `.containerCreated` or `.containerCreateFailed`.
        case createContainer(TaskContainerSpec)
        /// Answer with `.containerStarted` (then watch for its exit) or `.containerStartFailed`.
        case startContainer(container: String)
        /// The container is running already (adopted after an agent restart): answer with `.containerExited` when
        /// it ends.
        case watchContainer(container: String)
        /// SIGTERM, then SIGKILL after `timeout`; the exit arrives as `.containerExited`.
        case stopContainer(container: String, timeout: Duration)
        /// Run `arguments` in the container, give up after `timeout`; answer with `.healthCheckFinished`.
        case runHealthCheck(container: String, arguments: [String], timeout: Duration)
        /// Answer with `.containerRemoved`.
        case removeContainer(container: String)
        /// The observed state changed: tell the control plane.
        case report(TaskStateReport)
    }

    /// What happened, as the owner observed it.
    public enum Event: Hashable, Sendable {
        case imageReady(container: String)
        /// The host lacks the image; `detail` becomes part of the CannotPullContainerError reason.
        case imageMissing(container: String, detail: String)
        case containerCreated(container: String, bindings: [NetworkBinding])
        case containerCreateFailed(container: String, error: String)
        case containerStarted(container: String)
        case containerStartFailed(container: String, error: String)
        case containerExited(container: String, TaskContainerExit)
        case healthCheckFinished(container: String, HealthCheckResult)
        /// A stop request's timeout passed and the container is still reported running: kill it now.
        case stopTimeoutElapsed(container: String)
        case containerRemoved(container: String)
    }

    static let essentialExitReason = "Essential container in task exited"
    static let outOfMemoryReason = "OutOfMemoryError: Container killed due to memory usage"

    private struct Slot: Sendable {
        var spec: TaskContainerSpec
        var state: TaskContainerState
        var imageReady = false
        var createRequested = false
        var createInFlight = false
        var created = false
        var startRequested = false
        var started = false
        var stopRequested = false
        var removeRequested = false
        var removed = false
        var health: HealthCheckStateMachine?

        var name: String { spec.definition.name }
        var isStopped: Bool { state.lastStatus == .stopped }
    }

    public let taskID: String
    public private(set) var status: TaskStatus = .provisioning
    public private(set) var desired: TaskDesiredStatus = .running
    public private(set) var stopCode: StopCode?
    public private(set) var stoppedReason: String?
    private var slots: [Slot]
    private var lastReport: TaskStateReport?
    private let healthStartInterval: Duration

    /// A task of `definition` that has not started yet (PROVISIONING); `secrets` are its containers' secret values
    /// by container name (`TaskContainerSpec.secrets`). `healthStartInterval` is how often a container's health check
    /// runs during its start period unless its `flotilla.healthCheck.startInterval` label says otherwise.
    public init(
        taskID: String, definition: TaskDefinition, secrets: [String: [String: String]] = [:],
        healthStartInterval: Duration = HealthCheckStateMachine.defaultStartInterval
    ) {
        self.taskID = taskID
        self.healthStartInterval = healthStartInterval
        slots = definition.containerDefinitions.map { container in
            var spec = TaskContainerSpec(
                taskID: taskID, definition: container,
                networkMode: definition.resolvedNetworkMode)
            spec.secrets = secrets[container.name] ?? [:]
            return Slot(
                spec: spec,
                state: TaskContainerState(
                    name: container.name, containerID: spec.containerID, lastStatus: .pending, exitCode: nil,
                    reason: nil, healthStatus: .unknown, networkBindings: []))
        }
    }

    // MARK: - Observed state

    /// The task's observed state as ECS describes it.
    public var report: TaskStateReport {
        let desiredStatus: TaskStatus = if case .running = desired { .running } else { .stopped }
        return TaskStateReport(
            taskID: taskID, lastStatus: status, desiredStatus: desiredStatus,
            healthStatus: healthStatus, stopCode: stopCode, stoppedReason: stoppedReason,
            containers: slots.map(\.state))
    }

    /// UNHEALTHY if an essential container with a health check is unhealthy, HEALTHY if all such are healthy,
    /// otherwise (or with no such container) UNKNOWN.
    public var healthStatus: HealthStatus {
        let checked = slots.filter { $0.spec.definition.isEssential && $0.spec.definition.healthCheck != nil }
        if checked.contains(where: { $0.state.healthStatus == .unhealthy }) { return .unhealthy }
        if !checked.isEmpty && checked.allSatisfy({ $0.state.healthStatus == .healthy }) { return .healthy }
        return .unknown
    }

    /// One container's observed state.
    public func container(_ name: String) -> TaskContainerState? {
        slots.first { $0.name == name }?.state
    }

    /// The spec of the container named `name`.
    public func spec(of name: String) -> TaskContainerSpec? {
        slots.first { $0.name == name }?.spec
    }

    /// The container's own start interval (its label), else the agent's.
    private func startInterval(of container: ContainerDefinition) -> Duration {
        container.healthCheckStartInterval ?? healthStartInterval
    }

    /// When the next health check is due; nil if none is scheduled.
    public var nextHealthCheckDue: Date? {
        slots.compactMap { $0.isStopped ? nil : $0.health?.nextCheckDue }.min()
    }

    // MARK: - Adoption

    /// Takes over a task whose containers a previous agent started (the agent restarted): running containers are
    /// watched (never restarted), the ones that exited meanwhile count as exited with their code, missing ones as
    /// exited without one. The task is RUNNING, or stopping if an essential container is gone.
    ///
    /// - Important: only for a PROVISIONING task, instead of `desire(.running)`; `found` names containers by their
    ///   definition name. A task none of whose containers ever started should be run afresh instead.
    public mutating func adopt(_ found: [String: AdoptedContainer], now: Date) -> [Action] {
        guard status == .provisioning, case .running = desired else { return [] }
        var actions: [Action] = []
        status = .running
        var essentialEnded = false
        for index in slots.indices {
            slots[index].imageReady = true
            slots[index].createRequested = true
            slots[index].startRequested = true
            switch found[slots[index].name] ?? .missing {
            case .running(let bindings, let health):
                slots[index].created = true
                slots[index].started = true
                slots[index].state.lastStatus = .running
                slots[index].state.networkBindings = bindings
                if let check = slots[index].spec.definition.healthCheck {
                    slots[index].health = HealthCheckStateMachine(
                        check: check, startedAt: now, lastKnown: health,
                        startInterval: startInterval(of: slots[index].spec.definition))
                    slots[index].state.healthStatus = health
                }
                actions.append(.watchContainer(container: slots[index].name))
                continue
            case .exited(let exit, let bindings):
                slots[index].created = true
                slots[index].started = true
                slots[index].state.networkBindings = bindings
                slots[index].state.exitCode = exit.exitCode
                if exit.oomKilled { slots[index].state.reason = Self.outOfMemoryReason }
            case .missing:
                slots[index].state.reason = Self.missingAfterRestartReason
            }
            slots[index].state.lastStatus = .stopped
            if slots[index].spec.definition.isEssential { essentialEnded = true }
        }
        if essentialEnded {
            beginStop(.essentialContainerExited, reason: Self.essentialExitReason, into: &actions)
        }
        advance(into: &actions)
        reportIfChanged(into: &actions)
        return actions
    }

    static let missingAfterRestartReason = "Container not found when the agent restarted"

    // MARK: - Inputs

    /// Sets what the control plane wants. RUNNING starts a PROVISIONING task; STOPPED stops it gracefully.
    public mutating func desire(_ newDesired: TaskDesiredStatus, now: Date) -> [Action] {
        var actions: [Action] = []
        reportIfChanged(into: &actions)
        switch newDesired {
        case .running:
            guard status == .provisioning, case .running = desired else { return actions }
            setStatus(.pending, into: &actions)
            for slot in slots {
                actions.append(.pullImage(container: slot.name, image: slot.spec.definition.image))
            }
        case .stopped(let code, let reason):
            beginStop(code, reason: reason, into: &actions)
        }
        reportIfChanged(into: &actions)
        return actions
    }

    /// Starts the health checks that are due at `now`.
    public mutating func tick(now: Date) -> [Action] {
        guard status < .deactivating else { return [] }
        var actions: [Action] = []
        for index in slots.indices where slots[index].state.lastStatus == .running {
            if slots[index].health?.startCheckIfDue(now: now) == true, let health = slots[index].health {
                actions.append(
                    .runHealthCheck(
                        container: slots[index].name, arguments: health.arguments,
                        timeout: health.timeout))
            }
        }
        return actions
    }

    /// Feeds back what happened.
    public mutating func handle(_ event: Event, now: Date) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .imageReady(let name):
            guard let index = index(of: name) else { return [] }
            slots[index].imageReady = true
            if status == .pending, slots.allSatisfy(\.imageReady) {
                setStatus(.activating, into: &actions)
                for index in slots.indices {
                    slots[index].createRequested = true
                    slots[index].createInFlight = true
                    actions.append(.createContainer(slots[index].spec))
                }
            }
        case .imageMissing(let name, let detail):
            guard let index = index(of: name) else { return [] }
            let reason = "CannotPullContainerError: \(detail)"
            slots[index].state.reason = reason
            beginStop(.taskFailedToStart, reason: reason, into: &actions)
        case .containerCreated(let name, let bindings):
            guard let index = index(of: name) else { return [] }
            slots[index].createInFlight = false
            slots[index].created = true
            slots[index].state.networkBindings = bindings
        case .containerCreateFailed(let name, let error):
            guard let index = index(of: name) else { return [] }
            slots[index].createInFlight = false
            let reason = "CannotCreateContainerError: \(error)"
            slots[index].state.reason = reason
            slots[index].state.lastStatus = .stopped
            beginStop(.taskFailedToStart, reason: reason, into: &actions)
        case .containerStarted(let name):
            guard let index = index(of: name), !slots[index].isStopped else { return [] }
            slots[index].started = true
            slots[index].state.lastStatus = .running
            if let check = slots[index].spec.definition.healthCheck {
                slots[index].health = HealthCheckStateMachine(
                    check: check, startedAt: now, startInterval: startInterval(of: slots[index].spec.definition))
            }
        case .containerStartFailed(let name, let error):
            guard let index = index(of: name) else { return [] }
            let reason = "CannotStartContainerError: \(error)"
            slots[index].state.reason = reason
            slots[index].state.lastStatus = .stopped
            beginStop(.taskFailedToStart, reason: reason, into: &actions)
        case .containerExited(let name, let exit):
            guard let index = index(of: name), !slots[index].isStopped else { return [] }
            slots[index].state.lastStatus = .stopped
            slots[index].state.exitCode = exit.exitCode
            if exit.oomKilled { slots[index].state.reason = Self.outOfMemoryReason }
            if slots[index].spec.definition.isEssential {
                beginStop(.essentialContainerExited, reason: Self.essentialExitReason, into: &actions)
            }
        case .healthCheckFinished(let name, let result):
            guard let index = index(of: name), !slots[index].isStopped,
                let changed = slots[index].health?.finished(result, now: now)
            else { break }
            slots[index].state.healthStatus = changed
        case .stopTimeoutElapsed(let name):
            guard let index = index(of: name), slots[index].started, !slots[index].isStopped else { return [] }
            actions.append(.stopContainer(container: name, timeout: .zero))
        case .containerRemoved(let name):
            guard let index = index(of: name) else { return [] }
            slots[index].removed = true
        }
        advance(into: &actions)
        reportIfChanged(into: &actions)
        return actions
    }

    // MARK: - Progress

    private func index(of name: String) -> Int? {
        slots.firstIndex { $0.name == name }
    }

    private enum DependencyState { case satisfied, waiting, impossible(String) }

    private func dependencyState(of slot: Slot) -> DependencyState {
        var waiting = false
        for dependency in slot.spec.definition.dependsOn ?? [] {
            guard let other = slots.first(where: { $0.name == dependency.containerName }) else {
                return .impossible("Container \(slot.name) depends on unknown container \(dependency.containerName)")
            }
            let condition = dependency.condition.rawValue
            let failed = "Container \(slot.name) cannot start: dependency \(other.name) did not reach \(condition)"
            switch dependency.condition {
            case .start:
                if !other.started { waiting = true }
            case .complete:
                if !(other.started && other.isStopped) { waiting = true }
            case .success:
                if other.started && other.isStopped {
                    if other.state.exitCode != 0 {
                        return .impossible("\(failed) (exit code \(other.state.exitCode.map(String.init) ?? "none"))")
                    }
                } else {
                    waiting = true
                }
            case .healthy:
                if other.state.healthStatus == .unhealthy { return .impossible("\(failed) (UNHEALTHY)") }
                if other.isStopped && other.state.healthStatus != .healthy { return .impossible("\(failed) (exited)") }
                if other.state.healthStatus != .healthy { waiting = true }
            }
        }
        return waiting ? .waiting : .satisfied
    }

    private mutating func advance(into actions: inout [Action]) {
        if status == .activating || status == .running {
            for index in slots.indices where slots[index].created && !slots[index].startRequested {
                switch dependencyState(of: slots[index]) {
                case .waiting:
                    continue
                case .satisfied:
                    slots[index].startRequested = true
                    actions.append(.startContainer(container: slots[index].name))
                case .impossible(let reason):
                    slots[index].state.reason = reason
                    beginStop(.taskFailedToStart, reason: reason, into: &actions)
                    return
                }
            }
            if status == .activating, slots.allSatisfy({ $0.started }),
                slots.contains(where: { $0.state.lastStatus == .running })
            {
                setStatus(.running, into: &actions)
            }
        }
        if status == .stopping { stopEligible(into: &actions) }
        if status == .deprovisioning { removeStopped(into: &actions) }
    }

    private mutating func beginStop(_ code: StopCode, reason: String, into actions: inout [Action]) {
        guard stopCode == nil, status < .deactivating else { return }
        desired = .stopped(code, reason: reason)
        stopCode = code
        stoppedReason = reason
        if status == .running { setStatus(.deactivating, into: &actions) }
        for index in slots.indices where !slots[index].startRequested {
            slots[index].state.lastStatus = .stopped
        }
        setStatus(.stopping, into: &actions)
        stopEligible(into: &actions)
        if status == .deprovisioning { removeStopped(into: &actions) }
    }

    /// Stops running containers whose dependents have all stopped (reverse dependency order).
    private mutating func stopEligible(into actions: inout [Action]) {
        for index in slots.indices {
            let slot = slots[index]
            guard slot.state.lastStatus == .running, !slot.stopRequested else { continue }
            let dependents = slots.filter { other in
                other.spec.definition.dependsOn?.contains { $0.containerName == slot.name } ?? false
            }
            guard dependents.allSatisfy(\.isStopped) else { continue }
            slots[index].stopRequested = true
            actions.append(.stopContainer(container: slot.name, timeout: slot.spec.stopTimeout))
        }
        if slots.allSatisfy(\.isStopped) { setStatus(.deprovisioning, into: &actions) }
    }

    /// Removes created containers; STOPPED once every created container is gone and no create is in flight.
    private mutating func removeStopped(into actions: inout [Action]) {
        for index in slots.indices where slots[index].created && !slots[index].removeRequested {
            slots[index].removeRequested = true
            actions.append(.removeContainer(container: slots[index].name))
        }
        if slots.allSatisfy({ !$0.createInFlight && (!$0.created || $0.removed) }) {
            setStatus(.stopped, into: &actions)
        }
    }

    private mutating func setStatus(_ newStatus: TaskStatus, into actions: inout [Action]) {
        guard newStatus != status else { return }
        status = newStatus
        reportIfChanged(into: &actions)
    }

    private mutating func reportIfChanged(into actions: inout [Action]) {
        let current = report
        guard current != lastReport else { return }
        lastReport = current
        actions.append(.report(current))
    }
}
