import Metrics
import Synchronization

/// Wakes agents' blocking `PollDesiredTasks` calls when their instance's desired-state index changes.
///
/// The index lives in the store (`containerInstance.desiredIndex`, bumped by triggers); this notifier only carries
/// the news from a commit to the waiting polls. A waiter holds the index its agent holds and is woken by a signal
/// with any other index, so spurious signals are harmless. Signals come from the store's commit hook (synchronous
/// code on GRDB's writer queue), hence a `Mutex` rather than an actor.
public final class DesiredStateNotifier: Sendable {
    /// One container instance.
    struct Key: Hashable, Sendable {
        var cluster: String
        var instanceID: String
    }

    /// How a wait ended.
    enum Outcome: Sendable {
        /// The instance's index moved away from the one the waiter holds.
        case changed
        /// The waiting task was cancelled (the client went away, or the poll timed out).
        case cancelled
        /// The control plane is shutting down; polls answer what they have.
        case shutDown
        /// This instance already has the maximum of concurrent polls.
        case busy
    }

    private struct Waiter {
        var index: Int64
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct State {
        var latest: [Key: Int64] = [:]
        var waiters: [Key: [UInt64: Waiter]] = [:]
        var nextID: UInt64 = 0
        var isShutDown = false
    }

    private let state = Mutex(State())
    /// At most this many polls of one instance wait at once; more answer `busy`.
    let maxWaitersPerInstance: Int

    init(maxWaitersPerInstance: Int = 4) {
        self.maxWaitersPerInstance = maxWaitersPerInstance
    }

    /// Records that `key`'s index is now `index` and wakes every waiter holding another one.
    func signal(_ key: Key, index: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            state.latest[key] = index
            guard var waiters = state.waiters[key] else { return [] }
            let stale = waiters.filter { $0.value.index != index }
            for id in stale.keys { waiters[id] = nil }
            state.waiters[key] = waiters.isEmpty ? nil : waiters
            return stale.values.map(\.continuation)
        }
        recordWaiting()
        for continuation in woken { continuation.resume(returning: .changed) }
    }

    /// Suspends until `key`'s index differs from `index`, the calling task is cancelled, or `shutdown()`.
    ///
    /// Returns `.changed` at once when a signal already recorded another index (a commit that landed between the
    /// caller's read of the store and this call).
    func waitForChange(of key: Key, from index: Int64) async -> Outcome {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let immediate = state.withLock { state -> Outcome? in
                    if state.isShutDown { return .shutDown }
                    if Task.isCancelled { return .cancelled }
                    if let latest = state.latest[key], latest != index { return .changed }
                    if state.waiters[key, default: [:]].count >= maxWaitersPerInstance { return .busy }
                    state.waiters[key, default: [:]][id] = Waiter(index: index, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) } else { recordWaiting() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                let waiter = state.waiters[key]?.removeValue(forKey: id)
                if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
                return waiter
            }
            recordWaiting()
            waiter?.continuation.resume(returning: .cancelled)
        }
    }

    /// Ends every wait with `.shutDown`, now and from now on: a stopping server must not hold polls open.
    func shutdown() {
        let all = state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            state.isShutDown = true
            let all = state.waiters.values.flatMap { $0.values.map(\.continuation) }
            state.waiters = [:]
            return all
        }
        recordWaiting()
        for continuation in all { continuation.resume(returning: .shutDown) }
    }

    private func recordWaiting() {
        Gauge(label: "flotilla_controlplane_agent_polls_waiting").record(waiterCount)
    }

    /// How many polls wait now (tests and metrics).
    public var waiterCount: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }
}
