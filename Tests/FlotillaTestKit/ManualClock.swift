public import Foundation
import Synchronization

/// The one test clock: time moves only when a test calls `advance`, so grace periods, timeouts and intervals pass
/// without sleeping.
///
/// It is a Swift `Clock` (code that sleeps on a clock, like the agent's task supervisor, wakes when the test advances
/// past its deadline) and it tells the wall-clock `date` the control plane compares with (pass `{ clock.date }`).
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
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

    /// The date at offset zero.
    public let start: Date
    private let state = Mutex(State())

    /// A clock whose `date` starts at `start` (by default 2023-11-14T22:13:20Z, the tests' `testNow`).
    public init(start: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        self.start = start
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// The wall-clock time: `start` plus how far the clock has been advanced.
    public var date: Date {
        let offset = now.offset.components
        return start.addingTimeInterval(Double(offset.seconds) + Double(offset.attoseconds) / 1e18)
    }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, waiters) = state.withLock {
                    state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
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
    public func waitForSleeper() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyAsleep = state.withLock { state in
                if !state.sleepers.isEmpty { return true }
                state.sleeperWaiters.append(continuation)
                return false
            }
            if alreadyAsleep { continuation.resume() }
        }
    }

    /// Suspends until some task sleeps on this clock until exactly `deadline`: a loop waiting for its next interval,
    /// not just any sleeper (a timeout raced against work in flight is one too, and advancing past that one alone
    /// would leave the loop's next sleep, not yet begun, behind).
    public func waitForSleeper(until deadline: Instant) async {
        while true {
            var present = false
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                present = state.withLock { state in
                    if state.sleepers.contains(where: { $0.deadline == deadline }) { return true }
                    state.sleeperWaiters.append(continuation)
                    return false
                }
                if present { continuation.resume() }
            }
            if present { return }
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time forward by `seconds` (fractions allowed).
    public func advance(seconds: TimeInterval) {
        advance(by: .nanoseconds(Int64((seconds * 1e9).rounded())))
    }
}
