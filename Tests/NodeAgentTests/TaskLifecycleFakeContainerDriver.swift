import Foundation
import NodeAgent
import Synchronization

// Lives here rather than in FlotillaTestKit: FlotillaTestKit does not depend on NodeAgent (Package.swift), so it
// cannot see `ContainerDriver`. Move it there once FlotillaTestKit lists NodeAgent.

/// A fake container runtime: records every call, keeps containers "running" until a test makes them exit, and
/// answers health check execs with what the test set. No processes.
actor FakeContainerDriver: ContainerDriver {
    enum Call: Hashable, Sendable {
        case prepareImage(String)
        case create(String)
        case start(String)
        case stop(String, timeout: Duration)
        case exec(String, arguments: [String])
        case remove(String)
    }

    struct FakeDriverError: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var calls: [Call] = []
    private var missingImages: Set<String>
    private var startFailures: [String: String] = [:]
    private var execOutcomes: [String: ContainerExecOutcome] = [:]
    private var bindings: [String: [NetworkBinding]] = [:]
    private var exits: [String: TaskContainerExit] = [:]
    private var exitWaiters: [String: [CheckedContinuation<TaskContainerExit, Never>]] = [:]

    init(missingImages: Set<String> = []) {
        self.missingImages = missingImages
    }

    // MARK: - Test controls

    /// The container's main process exits with `exit`.
    func exit(_ containerID: String, with exit: TaskContainerExit) {
        guard exits[containerID] == nil else { return }
        exits[containerID] = exit
        for waiter in exitWaiters.removeValue(forKey: containerID) ?? [] { waiter.resume(returning: exit) }
    }

    func failStart(of containerID: String, message: String) { startFailures[containerID] = message }

    /// What health check execs in `containerID` return from now on (default: exit 0).
    func setExecOutcome(_ outcome: ContainerExecOutcome, for containerID: String) {
        execOutcomes[containerID] = outcome
    }

    func setBindings(_ value: [NetworkBinding], for containerID: String) { bindings[containerID] = value }

    // MARK: - ContainerDriver

    func prepareImage(_ image: String) async throws {
        calls.append(.prepareImage(image))
        if missingImages.contains(image) {
            throw FakeDriverError(description: "image \(image) not found on this host")
        }
    }

    func create(_ spec: TaskContainerSpec) async throws -> [NetworkBinding] {
        calls.append(.create(spec.containerID))
        return bindings[spec.containerID] ?? []
    }

    func start(containerID: String) async throws {
        calls.append(.start(containerID))
        if let message = startFailures[containerID] { throw FakeDriverError(description: message) }
    }

    func wait(containerID: String) async throws -> TaskContainerExit {
        if let exit = exits[containerID] { return exit }
        return await withCheckedContinuation { continuation in
            exitWaiters[containerID, default: []].append(continuation)
        }
    }

    /// A fake process dies of the SIGTERM at once.
    func stop(containerID: String, timeout: Duration) async throws {
        calls.append(.stop(containerID, timeout: timeout))
        exit(containerID, with: .signaled(15))
    }

    func exec(containerID: String, arguments: [String], timeout: Duration) async throws -> ContainerExecOutcome {
        calls.append(.exec(containerID, arguments: arguments))
        return execOutcomes[containerID] ?? .exited(code: 0)
    }

    func remove(containerID: String) async throws {
        calls.append(.remove(containerID))
    }
}

/// A clock that moves only when a test calls `advance(by:)`.
final class ManualTestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var sleeperWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, waiters) = state.withLock { state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    defer { state.sleeperWaiters.removeAll() }
                    return (nil, state.sleeperWaiters)
                }
                if let outcome { continuation.resume(with: outcome) }
                for waiter in waiters { waiter.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Suspends until some task sleeps on this clock.
    func waitForSleeper() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyAsleep = state.withLock { state in
                if !state.sleepers.isEmpty { return true }
                state.sleeperWaiters.append(continuation)
                return false
            }
            if alreadyAsleep { continuation.resume() }
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
