public import Foundation

/// Placement, service reconciliation and scaling arithmetic: pure functions from a cluster snapshot to a plan.
///
/// Nothing here reads a clock, a file or a global, or logs: time and randomness are arguments, explanations go
/// into the plan as ECS service events. See the documentation catalog for the pipeline.
public enum Scheduler {
    /// Decides placements, stops and deployment changes for every service in `snapshot`. Never applies them.
    ///
    /// Services are planned in name order against one ``PlacementEngine``, so later services see the capacity
    /// earlier ones took.
    public static func plan(
        _ snapshot: ClusterSnapshot, now: Date,
        using generator: inout some RandomNumberGenerator
    ) -> Plan {
        var plan = Plan(baseIndex: snapshot.baseIndex)
        var engine = PlacementEngine(snapshot)
        var tasksByGroup: [String: [TaskSnapshot]] = [:]
        for task in snapshot.tasks { tasksByGroup[task.group, default: []].append(task) }
        for service in snapshot.services.sorted(by: { $0.serviceName < $1.serviceName }) {
            let reconciler = ServiceReconciler(service: service, tasks: tasksByGroup[service.group] ?? [], now: now)
            reconciler.reconcile(engine: &engine, plan: &plan, using: &generator)
        }
        return plan
    }

    /// Places `count` standalone tasks (RunTask / StartTask) on `snapshot`; unplaceable ones come back in
    /// ``Plan/unplaced`` with every instance's reasons (ECS's RunTask `failures`).
    public static func place(
        _ request: PlacementRequest, count: Int, in snapshot: ClusterSnapshot,
        using generator: inout some RandomNumberGenerator
    ) -> Plan {
        var plan = Plan(baseIndex: snapshot.baseIndex)
        var engine = PlacementEngine(snapshot)
        let result = engine.place(request, count: count, using: &generator)
        plan.placements = result.placements
        if let failure = result.failure { plan.unplaced.append(failure) }
        return plan
    }
}
