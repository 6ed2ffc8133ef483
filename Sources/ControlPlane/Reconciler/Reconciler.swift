public import Foundation
public import Logging
import ECSVocabulary
import Metrics
import Scheduler
import Synchronization

/// The control plane's reconciler: reads each cluster, asks the scheduler what to change, and applies the answer.
///
/// Level-triggered: a pass compares desired and observed state as they are in the store and assumes nothing about
/// earlier passes, so a missed wake-up, a crash between passes or a restart costs nothing but time. A pass per
/// cluster: read a `ClusterSnapshot` at the cluster's change index (one read transaction), `Scheduler.plan` it, and
/// apply the whole plan in one write transaction that first checks the index has not moved; if it has, the plan is
/// thrown away and made again on a fresh snapshot. Tasks are only ever created inside that transaction, so a plan
/// is applied whole or not at all and never twice.
public final class Reconciler: Sendable {
    let store: ControlPlaneStore
    let now: @Sendable () -> Date
    let logger: Logger
    /// The scheduler's randomness (the `random` strategy, scale-in ties): seeded, so a run can be replayed.
    private let generator: Mutex<SplitMix64>
    private let passes = Atomic<Int>(0)
    /// Per cluster, the change index at which a pass found nothing to do and nothing time could change (no
    /// unhealthy task waiting out its grace period): until the index moves, later passes skip the cluster.
    private let idleAt = Mutex<[String: UInt64]>([:])
    /// Per cluster, the services skipped for unusable stored data and why, as last logged: each problem is logged
    /// once, not on every pass.
    private let reportedSkips = Mutex<[String: [String: String]]>([:])
    /// How often a pass re-plans a cluster whose index moved under it before leaving it to the next pass.
    static let maxAttempts = 3

    /// - Parameters:
    ///   - now: the clock the scheduler's time rules (grace periods) are checked against; tests inject one.
    ///   - seed: seeds the scheduler's random choices; nil takes one from the system.
    public init(
        store: ControlPlaneStore, now: @escaping @Sendable () -> Date = { Date() }, seed: UInt64? = nil,
        logger: Logger
    ) {
        self.store = store
        self.now = now
        self.logger = logger
        var system = SystemRandomNumberGenerator()
        generator = Mutex(SplitMix64(seed: seed ?? system.next()))
    }

    /// How many passes have finished since this reconciler was made.
    public var completedPasses: Int { passes.load(ordering: .relaxed) }

    /// What one pass did.
    public struct PassSummary: Sendable, Equatable {
        /// Tasks created, over every cluster.
        public var placements = 0
        /// Tasks asked to stop.
        public var stops = 0
        /// Events added to service logs.
        public var events = 0
        /// Plans discarded because their cluster changed under them.
        public var conflicts = 0
        /// Clusters whose pass failed (logged).
        public var failures = 0
        /// Held stops released because their deregistration delay was over.
        public var releasedStops = 0
    }

    /// Reconciles every ACTIVE cluster once. Never throws: failures are logged, counted and retried next pass.
    @discardableResult
    public func reconcileOnce() async -> PassSummary {
        let started = ContinuousClock.now
        var summary = PassSummary()
        do {
            let clusters = try await store.read { db in try db.activeClusterNames() }
            for cluster in clusters { await reconcile(cluster: cluster, into: &summary) }
            await releaseExpiredDeregistrations(into: &summary)
        } catch {
            summary.failures += 1
            store.health.logFailure(error, "reconciler pass failed", metadata: [:], logger: logger)
        }
        Counter(label: "flotilla_reconciler_passes_total").increment()
        passes.add(1, ordering: .relaxed)
        Metrics.Timer(label: "flotilla_reconciler_pass_duration_seconds").record(
            duration: ContinuousClock.now - started)
        return summary
    }

    /// Hands the agents the stops held for load-balancer draining whose longest deregistration delay is over. The
    /// embedded balancers release drained tasks sooner; with them off (`--no-embedded-load-balancer`) this is the
    /// only release, after the full delay.
    private func releaseExpiredDeregistrations(into summary: inout PassSummary) async {
        do {
            let held = try await store.read { db in try db.deregisteringTasks() }
            guard !held.isEmpty else { return }
            let now = now()
            guard held.contains(where: { $0.isDelayOver(at: now) }) else { return }
            let released = try await store.write { db in try db.releaseDeregistrations(now: now) }
            summary.releasedStops += released.count
            TaskDeregistrationLog.released(released, logger: logger)
        } catch {
            summary.failures += 1
            Counter(label: "flotilla_reconciler_failures_total").increment()
            store.health.logFailure(error, "held task stops not released", metadata: [:], logger: logger)
        }
    }

    private func reconcile(cluster name: String, into summary: inout PassSummary) async {
        guard let skipped = await plan(cluster: name, into: &summary) else { return }
        await report(skipped: skipped, cluster: name, into: &summary)
    }

    /// Plans and applies one cluster; answers the services it skipped, or nil when it read nothing (idle, gone).
    private func plan(cluster name: String, into summary: inout PassSummary) async -> [String: String]? {
        for _ in 0..<Self.maxAttempts {
            do {
                let index = try await store.read { db in try db.changeIndex(of: name) }
                if idleAt.withLock({ $0[name] }) == index { return nil }
                let state = try await store.read { db -> SchedulingState? in
                    guard let cluster = try db.cluster(name), cluster.status == .active else { return nil }
                    return try db.schedulingState(of: cluster)
                }
                guard let state else { return nil }
                let now = now()
                let plan = generator.withLock { Scheduler.plan(state.snapshot, now: now, using: &$0) }
                // Nothing to write: no write transaction, so an idle cluster never takes the store's write lock.
                if state.isNoOp(plan) {
                    let waitsOnTime = state.snapshot.tasks.contains { $0.isLive && $0.healthCheckFailure != nil }
                    idleAt.withLock { $0[name] = waitsOnTime ? nil : state.snapshot.baseIndex }
                    return state.skippedServices
                }
                let seed = generator.withLock { $0.next() }
                let applied = try await store.write { db in
                    var generator = SplitMix64(seed: seed)
                    return try db.apply(plan, to: state, now: now, using: &generator)
                }
                record(applied, plan: plan, cluster: name, into: &summary)
                return state.skippedServices
            } catch let error as StalePlanError {
                summary.conflicts += 1
                Counter(label: "flotilla_reconciler_plan_conflicts_total").increment()
                logger.debug(
                    "plan discarded: cluster changed since its snapshot",
                    metadata: [
                        "cluster": "\(name)", "plan.base_index": "\(error.baseIndex)",
                        "store.index": "\(error.currentIndex)",
                    ])
            } catch {
                summary.failures += 1
                Counter(label: "flotilla_reconciler_failures_total").increment()
                store.health.logFailure(
                    error, "cluster reconciliation failed", metadata: ["cluster": "\(name)"], logger: logger)
                return nil
            }
        }
        return nil
    }

    /// Tells about services left out for unusable stored data: ECS's "was unable to" event on each (throttled as the
    /// scheduler's events are) and one error log per service and problem, however many passes skip it.
    private func report(skipped: [String: String], cluster name: String, into summary: inout PassSummary) async {
        let newlyReported = reportedSkips.withLock { reported in
            let previous = reported[name] ?? [:]
            reported[name] = skipped.isEmpty ? nil : skipped
            return skipped.filter { previous[$0.key] != $0.value }
        }
        Gauge(label: "flotilla_reconciler_skipped_services", dimensions: [("cluster", name)]).record(skipped.count)
        guard !skipped.isEmpty else { return }
        for (service, problem) in newlyReported.sorted(by: { $0.key < $1.key }) {
            logger.error(
                "service skipped: its stored configuration cannot be used",
                metadata: [
                    "cluster": "\(name)", "service": "\(service)", "error": "\(problem)",
                ])
        }
        do {
            let now = now()
            let recorded = try await store.write { db in try db.recordSkippedServices(skipped, cluster: name, now: now)
            }
            summary.events += recorded.count
        } catch {
            summary.failures += 1
            Counter(label: "flotilla_reconciler_failures_total").increment()
            store.health.logFailure(
                error, "skipped-service events not written", metadata: ["cluster": "\(name)"], logger: logger)
        }
    }

    private func record(_ applied: AppliedPlan, plan: Plan, cluster: String, into summary: inout PassSummary) {
        summary.placements += applied.started.count
        summary.stops += applied.stopped.count
        summary.events += applied.events.count
        if !applied.started.isEmpty {
            Counter(label: "flotilla_reconciler_placements_total").increment(by: applied.started.count)
        }
        for stop in applied.stopped {
            Counter(label: "flotilla_reconciler_stops_total").increment()
            logger.info(
                "task stop requested",
                metadata: [
                    "cluster": "\(cluster)", "service": "\(stop.service ?? "")", "task": "\(stop.taskArn)",
                    "task.stopped_reason": "\(stop.reason)",
                ])
            if case .deregistering(let delay) = stop.outcome {
                TaskDeregistrationLog.started(
                    cluster: cluster, service: stop.service, task: stop.taskArn, delay: delay, logger: logger)
            }
        }
        for start in applied.started {
            logger.info(
                "task placed",
                metadata: [
                    "cluster": "\(cluster)", "service": "\(start.service ?? "")", "task": "\(start.taskArn)",
                    "instance.arn": "\(start.containerInstanceArn)",
                ])
        }
        for failure in plan.unplaced where applied.events.contains(where: { $0.service == failure.serviceName }) {
            logger.notice(
                "tasks could not be placed",
                metadata: [
                    "cluster": "\(cluster)", "service": "\(failure.serviceName ?? "")",
                    "task.count": "\(failure.count)",
                    "placement.closest": "\(failure.closestMatch?.containerInstanceArn ?? "none")",
                ])
        }
        for service in applied.deleted {
            logger.info("service deleted", metadata: ["cluster": "\(cluster)", "service": "\(service)"])
        }
    }
}

/// A small seedable generator (Steele, Lea, Flood: SplitMix64), so the scheduler's random choices can be replayed.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
