import Synchronization

/// Carries "something the scheduler reads has changed" from the store's commit hook to the reconciler.
///
/// The news carries no data: the reconciler is level-triggered and re-reads the store, so a burst of commits
/// collapses into one wake-up, and a missed one only delays the next pass to the periodic tick. Signals come from
/// GRDB's writer queue (synchronous code), hence a `Mutex` rather than an actor.
public final class StateChangeSignal: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A stream that yields once after any number of changes since it was last read (it buffers one element).
    ///
    /// The subscription ends when the stream's consumer stops iterating or is cancelled.
    public func subscribe() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Wakes every subscriber.
    public func signal() {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for continuation in subscribers { continuation.yield() }
    }
}
