public import Foundation
public import Logging
public import ServiceLifecycle

/// Runs the ``Reconciler`` for the life of the control plane: a pass after every commit that changes what the
/// scheduler reads, and at least one every `interval` for the rules that depend on time alone (health-check grace
/// periods, agents that went silent).
///
/// Commits arriving during a pass collapse into one more pass. A pass that fails is logged and counted; the loop
/// goes on.
///
/// - Important: Run it in the control plane's `ServiceGroup` after the store is open; it ends on graceful shutdown
///   once the pass in flight is done (a pass's writes are single transactions, so stopping between them is safe).
public struct ReconcilerService: Service {
    /// The reconciler this service drives (tests call `reconcileOnce()` on it directly).
    public let reconciler: Reconciler
    let interval: Duration

    /// - Parameters:
    ///   - interval: the longest time between passes when nothing is written (≤ 1 s keeps grace periods honest).
    ///   - now: the clock of the scheduler's time rules.
    ///   - seed: seeds the scheduler's random choices; nil takes one from the system.
    public init(
        store: ControlPlaneStore, interval: Duration = .seconds(1), now: @escaping @Sendable () -> Date = { Date() },
        seed: UInt64? = nil, logger: Logger
    ) {
        reconciler = Reconciler(store: store, now: now, seed: seed, logger: logger)
        self.interval = interval
    }

    public func run() async throws {
        let wakeups = reconciler.store.schedulingStateChanges.subscribe()
        let interval = interval
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    for await _ in wakeups { tick.yield() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        tick.yield()
                        try? await Task.sleep(for: interval)
                    }
                }
                for await _ in ticks {
                    if Task.isCancelled { break }
                    await reconciler.reconcileOnce()
                }
                group.cancelAll()
            }
        }
        reconciler.logger.debug("reconciler stopped")
    }
}
