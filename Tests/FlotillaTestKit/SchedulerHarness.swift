public import Foundation
public import Scheduler

/// Runs the scheduler against a ``FakeAgentFleet`` step by step and records every plan instead of just applying it,
/// so tests can check each intermediate state.
public struct SchedulerHarness: Sendable {
    public var fleet: FakeAgentFleet
    public private(set) var plans: [Plan] = []
    public var now: Date
    private var generator: SplitMix64

    public init(snapshot: ClusterSnapshot, now: Date, seed: UInt64 = 1) {
        fleet = FakeAgentFleet(snapshot: snapshot)
        self.now = now
        generator = SplitMix64(seed: seed)
    }

    /// Plans once, records the plan, applies it, then lets the agents report (pending tasks start).
    @discardableResult
    public mutating func step(advancing seconds: TimeInterval = 10) -> Plan {
        let plan = Scheduler.plan(fleet.snapshot, now: now, using: &generator)
        plans.append(plan)
        fleet.apply(plan, now: now)
        now += seconds
        fleet.advance(now: now)
        return plan
    }

    /// Steps until a plan changes nothing (or `limit` steps); returns how many steps ran.
    @discardableResult
    public mutating func runUntilStable(limit: Int = 50) -> Int {
        for count in 1...limit where step().isEmpty { return count }
        return limit
    }
}
