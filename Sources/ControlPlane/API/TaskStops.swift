import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import Logging
import Metrics

/// What `Database.stopTask(_:in:stopCode:reason:now:)` did.
enum TaskStopOutcome: Equatable, Sendable {
    /// desiredStatus STOPPED; the agent hears it at its next poll.
    case stopped
    /// lastStatus DEACTIVATING, desiredStatus STOPPED: the task left its balancers' target sets and its agent keeps
    /// it running until the stop is released, at the latest after `delay` seconds.
    case deregistering(delay: TimeInterval)
    /// The task was already desired STOPPED; nothing changed.
    case alreadyStopping
}

/// A service task waiting out its balancers' deregistration delay (`task.deregisteringSince` is set).
struct DeregisteringTask: Hashable, Sendable {
    var cluster: String
    var serviceName: String?
    var taskArn: String
    /// When deregistration began: stored, so a restarted control plane goes on waiting from here.
    var since: Date
    /// The balancers the task's service is attached to (names).
    var loadBalancers: [String]
    /// The longest deregistration delay of those balancers, in seconds (0 when none is left).
    var delay: TimeInterval

    func isDelayOver(at now: Date) -> Bool { now.timeIntervalSince(since) >= delay }
}

/// Why a held stop was released to the agent.
enum DeregistrationRelease: String, Sendable {
    /// Every embedded balancer of the task reports no open connection to it.
    case drained
    /// The longest deregistration delay of its balancers has passed since deregistration began.
    case delay
}

/// One stop released to its agent.
struct ReleasedStop: Sendable {
    var task: DeregisteringTask
    var cause: DeregistrationRelease
    /// Seconds between the start of deregistration and the release.
    var waited: TimeInterval
}

// MARK: - The one way the control plane stops a task

extension Database {
    /// Stops `task` as ECS does; every stop the control plane decides goes through here (the reconciler's plans:
    /// deployment replacement, scale-in, circuit-breaker rollback, draining instances; StopTask; DeleteService; the
    /// embedded balancers' health verdicts).
    ///
    /// A RUNNING task of a service attached to load balancers whose longest deregistration delay is above zero is
    /// not stopped at once: it becomes lastStatus DEACTIVATING with desiredStatus STOPPED, which takes it out of
    /// every balancer's target set (new connections go elsewhere) and out of the scheduler's live tasks (its
    /// replacement may start at once), while `PollDesiredTasks` goes on telling its agent RUNNING, so connections
    /// already open finish. The start of deregistration is stored (`task.deregisteringSince`, migration "v6"), and
    /// `releaseDeregistrations(now:drained:)` hands the stop to the agent later. Any other task (no balancer, never
    /// reached RUNNING, already exited) is desired STOPPED at once.
    func stopTask(
        _ task: ECSTask, in cluster: Cluster, stopCode: StopCode, reason: String, now: Date
    ) throws -> TaskStopOutcome {
        guard task.desiredStatus != .stopped else { return .alreadyStopping }
        var stopped = task
        stopped.desiredStatus = .stopped
        stopped.stopCode = WireValue(stopCode)
        stopped.stoppedReason = reason
        stopped.stoppingAt = task.stoppingAt ?? now
        stopped.version += 1
        var delay: TimeInterval = 0
        if task.lastStatus == .running, let service = task.serviceName {
            delay = try deregistrationDelay(cluster: cluster.clusterName, service: service)
        }
        if delay > 0 { stopped.lastStatus = .deactivating }
        try saveTask(stopped, cluster: cluster)
        guard delay > 0 else { return .stopped }
        try holdStop(of: task.taskArn, cluster: cluster.clusterName, since: now)
        return .deregistering(delay: delay)
    }

    /// The longest deregistration delay of the balancers `service` is attached to (0 without balancers).
    func deregistrationDelay(cluster: String, service: String) throws -> TimeInterval {
        let names = Set(try loadBalancerAttachments(cluster: cluster, service: service).map(\.loadBalancerName))
        guard !names.isEmpty else { return 0 }
        return try loadBalancerDefinitions().filter { names.contains($0.loadBalancerName) }.map(
            \.deregistrationDelaySeconds
        ).max() ?? 0
    }

    // MARK: - Held stops

    /// Every task whose stop waits for its balancers to drain, with its service's current balancers and delay.
    func deregisteringTasks() throws -> [DeregisteringTask] {
        let held = try heldStops()
        guard !held.isEmpty else { return [] }
        let attachments = try loadBalancerAttachments()
        let delays = Dictionary(
            try loadBalancerDefinitions().map { ($0.loadBalancerName, $0.deregistrationDelaySeconds) },
            uniquingKeysWith: { first, _ in first })
        return held.map { task in
            let names = Set(
                attachments.filter { $0.cluster == task.cluster && $0.serviceName == task.serviceName }.map(
                    \.loadBalancerName))
            return DeregisteringTask(
                cluster: task.cluster, serviceName: task.serviceName, taskArn: task.taskArn, since: task.since,
                loadBalancers: names.sorted(), delay: names.compactMap { delays[$0] }.max() ?? 0)
        }
    }

    /// Releases the held stops whose delay is over at `now`, and those of the tasks in `drained` (every embedded
    /// balancer of the task reported no open connection to it): their agents are told STOPPED (the store's trigger
    /// wakes their polls). Tasks released, or stopped, since the caller looked are left alone.
    func releaseDeregistrations(now: Date, drained: Set<String> = []) throws -> [ReleasedStop] {
        var released: [ReleasedStop] = []
        for task in try deregisteringTasks() {
            let cause: DeregistrationRelease
            if task.isDelayOver(at: now) {
                cause = .delay
            } else if drained.contains(task.taskArn) {
                cause = .drained
            } else {
                continue
            }
            try releaseStop(of: task.taskArn, cluster: task.cluster)
            released.append(ReleasedStop(task: task, cause: cause, waited: max(0, now.timeIntervalSince(task.since))))
        }
        return released
    }
}

extension ECSTask {
    /// The service that runs this task (its group is `service:<name>`), nil for standalone tasks.
    var serviceName: String? {
        guard let group, group.hasPrefix("service:") else { return nil }
        return String(group.dropFirst("service:".count))
    }
}

// MARK: - Logging

/// The operator's view of deregistration: one log line when it begins and one when the stop is released.
enum TaskDeregistrationLog {
    static func started(cluster: String, service: String?, task: String, delay: TimeInterval, logger: Logger) {
        logger.info(
            "task deregistering from its load balancers; stop held until drained",
            metadata: [
                "cluster": "\(cluster)", "service": "\(service ?? "")", "task": "\(task)",
                "lb.deregistration_delay": "\(delay)",
            ])
        Counter(label: "flotilla_controlplane_deregistrations_started_total").increment()
    }

    static func released(_ stops: [ReleasedStop], logger: Logger) {
        for stop in stops {
            logger.info(
                "task stop released to its agent",
                metadata: [
                    "cluster": "\(stop.task.cluster)", "service": "\(stop.task.serviceName ?? "")",
                    "task": "\(stop.task.taskArn)",
                    "deregistration.cause": "\(stop.cause.rawValue)", "deregistration.waited": "\(stop.waited)",
                    "lb.names": "\(stop.task.loadBalancers.joined(separator: ","))",
                ])
            Counter(
                label: "flotilla_controlplane_deregistrations_released_total",
                dimensions: [("cause", stop.cause.rawValue)]
            )
            .increment()
        }
    }
}
