import AgentProtocol
import ECSProtocol
import ECSVocabulary
import Foundation

extension TaskStateMerge {
    enum Outcome: Equatable {
        case updated(ECSTask)
        case unchanged
        case stale(String)
    }

    /// `task` with `change` applied at `now`, or why not. `change` passed `validate`: its words are known.
    ///
    /// Forward only: a task the control plane holds DEACTIVATING while it drains from its load balancers
    /// (`Database.stopTask`) ignores its agent's RUNNING reports as stale, so the wait never moves it back to RUNNING.
    static func apply(_ change: TaskStateChange, to task: ECSTask, now: Date) -> Outcome {
        let reported = change.lastStatus.word ?? .provisioning
        guard reported >= task.lastStatus else {
            return .stale("lastStatus: \(task.lastStatus) cannot go back to \(change.lastStatus).")
        }
        var merged = task
        merged.lastStatus = reported
        if let health = change.healthStatus?.word, task.lastStatus != .stopped { merged.healthStatus = health }
        merged.pullStartedAt = task.pullStartedAt ?? change.pullStartedAt
        merged.pullStoppedAt = task.pullStoppedAt ?? change.pullStoppedAt
        merged.startedAt =
            task.startedAt ?? change.startedAt ?? (reported >= .running && reported < .stopped ? now : nil)
        merged.stoppingAt = task.stoppingAt ?? change.stoppingAt
        merged.executionStoppedAt = task.executionStoppedAt ?? change.executionStoppedAt
        merged.stopCode = task.stopCode ?? change.stopCode
        merged.stoppedReason = task.stoppedReason ?? change.stoppedReason
        if reported == .stopped {
            // A stopped task stays stopped: ECS sets desiredStatus too, and the reconciler replaces it.
            merged.desiredStatus = .stopped
            merged.stoppedAt = task.stoppedAt ?? change.stoppedAt ?? now
            merged.executionStoppedAt = merged.executionStoppedAt ?? merged.stoppedAt
        }
        for containerChange in change.containers ?? [] {
            guard let index = merged.containers.firstIndex(where: { $0.name == containerChange.name }) else { continue }
            var container = merged.containers[index]
            let was = container.lastStatus?.word ?? .pending
            let now = containerChange.lastStatus?.word ?? was
            guard now >= was else { continue }
            container.lastStatus = WireValue(now)
            if container.exitCode == nil { container.exitCode = containerChange.exitCode }
            if container.reason == nil { container.reason = containerChange.reason }
            if let health = containerChange.healthStatus, was < .stopped { container.healthStatus = health }
            if let bindings = containerChange.networkBindings, was < .stopped { container.networkBindings = bindings }
            merged.containers[index] = container
        }
        if change.healthStatus == nil, merged.lastStatus != .stopped {
            merged.healthStatus = taskHealth(of: merged.containers)
        }
        guard merged != task else { return .unchanged }
        merged.version = task.version + 1
        return .updated(merged)
    }

    /// A task's health from its containers', as ECS derives it when the agent reports only containers: UNHEALTHY
    /// if any container is, HEALTHY if every container that reports health is and at least one does, else UNKNOWN.
    static func taskHealth(of containers: [TaskContainer]) -> HealthStatus {
        let reported = containers.compactMap { $0.healthStatus?.word }.filter { $0 != .unknown }
        if reported.contains(.unhealthy) { return .unhealthy }
        return reported.isEmpty ? .unknown : .healthy
    }
}
