import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import Scheduler
import TaskDefinitions

/// The cluster changed between the snapshot and the write: the plan is discarded and made again.
struct StalePlanError: Error {
    var baseIndex: UInt64
    var currentIndex: UInt64
}

/// What one applied plan changed, for logs and metrics.
struct AppliedPlan: Sendable {
    struct Started: Sendable {
        var service: String?
        var taskArn: String
        var containerInstanceArn: String
    }

    struct Stopped: Sendable {
        var service: String?
        var taskArn: String
        var reason: String
        /// Stopped at once, or held while the task drains from its load balancers.
        var outcome: TaskStopOutcome
    }

    struct Event: Sendable {
        var service: String
        var message: String
    }

    var started: [Started] = []
    var stopped: [Stopped] = []
    var events: [Event] = []
    /// Services whose deletion finished (DRAINING → INACTIVE).
    var deleted: [String] = []
}

/// ECS's wording and throttling of the service events the reconciler adds to the scheduler's.
enum ServiceEvents {
    static let steadyStateSuffix = "has reached a steady state."
    /// An identical event (an unplaceable task) is not repeated within this long, as ECS throttles them.
    static let repeatInterval: TimeInterval = 300
    /// How many INACTIVE deployments a service keeps (hidden from DescribeServices) as circuit-breaker rollback targets.
    static let keptInactiveDeployments = 5

    static func started(_ service: String, _ tasks: [String]) -> String {
        "(service \(service)) has started \(tasks.count) tasks: \(tasks.map { "(task \(taskID($0)))" }.joined(separator: " "))."
    }

    static func stopped(_ service: String, _ tasks: [String]) -> String {
        "(service \(service)) has stopped \(tasks.count) running tasks: \(tasks.map { "(task \(taskID($0)))" }.joined(separator: " "))."
    }

    static func steadyState(_ service: String) -> String { "(service \(service)) \(steadyStateSuffix)" }

    static func taskID(_ arn: String) -> String { arn.split(separator: "/").last.map(String.init) ?? arn }
}

extension Database {
    /// Applies `plan` (computed on `state`) in the caller's transaction, or throws `StalePlanError` when anything
    /// the scheduler reads changed since `state` was read.
    ///
    /// Placements become tasks (PROVISIONING, desired RUNNING, on their instance: the store's triggers wake the
    /// agent), stops go through `stopTask` (desiredStatus STOPPED with ECS's stop code and reason, after draining
    /// from the service's load balancers when it has some), deployment updates and rollbacks
    /// change the service, and the service's event log gets ECS's events, newest first, throttled and capped.
    func apply(
        _ plan: Plan, to state: SchedulingState, now: Date,
        using generator: inout some RandomNumberGenerator
    ) throws -> AppliedPlan {
        let cluster = state.cluster
        let current = try changeIndex(of: cluster.clusterName)
        guard current == plan.baseIndex else { throw StalePlanError(baseIndex: plan.baseIndex, currentIndex: current) }
        var applied = AppliedPlan()
        var services = state.services

        // Stops.
        for stop in plan.stops {
            guard let task = try task(stop.taskArn, in: cluster) else { continue }
            let outcome = try stopTask(task, in: cluster, stopCode: stop.stopCode, reason: stop.stoppedReason, now: now)
            guard outcome != .alreadyStopping else { continue }
            applied.stopped.append(
                .init(service: stop.serviceName, taskArn: task.taskArn, reason: stop.stoppedReason, outcome: outcome))
        }

        // Placements.
        for placement in plan.placements {
            guard let definition = state.definitions[placement.taskDefinitionArn] else { continue }
            let task = TaskRules.makeTask(
                definition, cluster: cluster, instanceArn: placement.containerInstanceArn,
                startedBy: placement.deploymentId, group: placement.group, overrides: nil,
                lastStatus: .provisioning, now: now)
            try saveTask(task, cluster: cluster)
            applied.started.append(
                .init(
                    service: placement.serviceName, taskArn: task.taskArn,
                    containerInstanceArn: placement.containerInstanceArn))
        }

        // Deployments.
        for update in plan.deploymentUpdates {
            guard var service = services[update.serviceName],
                let index = service.deployments.firstIndex(where: { $0.id == update.deploymentId })
            else { continue }
            if let status = update.status { service.deployments[index].status = status }
            if let rollout = update.rolloutState { service.deployments[index].rolloutState = rollout }
            if let reason = update.rolloutStateReason { service.deployments[index].rolloutStateReason = reason }
            service.deployments[index].updatedAt = now
            if let target = update.rollbackToTaskDefinitionArn {
                // The failed deployment drains as ACTIVE; the rollback is the new PRIMARY, and takes over the live
                // tasks of the deployment it returns to (they run its task definition already): they keep serving,
                // and only what the failed deployment replaced is started again.
                service.deployments[index].status = .active
                let rollbackID = ServiceRules.deploymentID(&generator)
                if let previous = update.rollbackToDeploymentId {
                    try adoptLiveTasks(of: previous, into: rollbackID, service: update.serviceName, in: cluster)
                }
                service.deployments.insert(
                    Deployment(
                        id: rollbackID, status: .primary, taskDefinition: target,
                        desiredCount: service.desiredCount, pendingCount: 0, runningCount: 0, failedTasks: 0,
                        createdAt: now, updatedAt: now, launchType: service.launchType, rolloutState: .inProgress,
                        rolloutStateReason:
                            "ECS deployment circuit breaker: rolling back to the last completed deployment."), at: 0)
                service.taskDefinition = target
            }
            // INACTIVE deployments stay only as rollback targets: the newest few are enough.
            let retired = service.deployments.filter { $0.status == .inactive }.sorted { $0.createdAt > $1.createdAt }
            let dropped = Set(retired.dropFirst(ServiceEvents.keptInactiveDeployments).map(\.id))
            service.deployments.removeAll { dropped.contains($0.id) }
            services[update.serviceName] = service
        }

        // Events, in the order they happened; each is put first, so the newest ends up on top.
        var messages: [String: [String]] = [:]
        var stoppedByService: [String: [String]] = [:]
        for stop in applied.stopped {
            if let service = stop.service { stoppedByService[service, default: []].append(stop.taskArn) }
        }
        var startedByService: [String: [String]] = [:]
        for start in applied.started {
            if let service = start.service { startedByService[service, default: []].append(start.taskArn) }
        }
        for (service, tasks) in stoppedByService {
            messages[service, default: []].append(ServiceEvents.stopped(service, tasks))
        }
        for (service, tasks) in startedByService {
            messages[service, default: []].append(ServiceEvents.started(service, tasks))
        }
        for event in plan.events {
            messages[event.serviceName, default: []].append(event.message)
        }
        for name in state.servicesReachingSteadyState(under: plan)
        where messages[name]?.contains(where: { $0.hasSuffix(ServiceEvents.steadyStateSuffix) }) != true {
            messages[name, default: []].append(ServiceEvents.steadyState(name))
        }
        for (name, list) in messages {
            guard var service = services[name] else { continue }
            for message in list {
                // Started/stopped events name new tasks and never repeat; the others are throttled, except that a
                // service that settles again (after a deployment) says so unless it is the newest event already.
                let repeated =
                    message.hasSuffix(ServiceEvents.steadyStateSuffix)
                    ? service.events.first?.message == message
                    : service.events.contains {
                        $0.message == message && now.timeIntervalSince($0.createdAt) < ServiceEvents.repeatInterval
                    }
                guard !repeated else { continue }
                service.events.insert(ServiceEvent(id: ServiceRules.eventID(), createdAt: now, message: message), at: 0)
                applied.events.append(.init(service: name, message: message))
            }
            service.events = Array(service.events.prefix(ServiceRules.maxEvents))
            services[name] = service
        }

        for (name, service) in services where service != state.services[name] {
            try saveService(service, cluster: cluster)
        }

        // Deleted services become INACTIVE once none of their tasks is left running.
        for var service in try self.services(cluster: cluster.clusterName, statuses: [.draining]) {
            let live = try liveTaskCount(cluster: cluster.clusterName, service: service.serviceName)
            guard live == 0 else { continue }
            service.status = .inactive
            try saveService(service, cluster: cluster)
            applied.deleted.append(service.serviceName)
        }
        return applied
    }
}

extension SchedulingState {
    /// Whether applying `plan` changes nothing in the store: no task, deployment or event to write, no deleted
    /// service to retire. The reconciler then skips the write transaction.
    func isNoOp(_ plan: Plan) -> Bool {
        plan.isEmpty && plan.events.isEmpty && !hasDrainingServices && servicesReachingSteadyState(under: plan).isEmpty
    }

    /// Services that need nothing now and whose newest event does not say so yet: they get ECS's steady-state event.
    func servicesReachingSteadyState(under plan: Plan) -> [String] {
        snapshot.services.filter { isSteady($0, under: plan) }.map(\.serviceName).filter { name in
            services[name]?.events.first?.message.hasSuffix(ServiceEvents.steadyStateSuffix) != true
        }
    }

    /// Whether a service needs nothing: the plan changes nothing of it and exactly `desiredCount` tasks of its
    /// completed PRIMARY deployment run, all healthy. (An in-progress deployment's completion is the
    /// scheduler's to announce.)
    private func isSteady(_ service: ServiceSnapshot, under plan: Plan) -> Bool {
        let name = service.serviceName
        guard let primary = service.primaryDeployment, primary.rolloutState != .inProgress,
            !plan.placements.contains(where: { $0.serviceName == name }),
            !plan.stops.contains(where: { $0.serviceName == name }),
            !plan.unplaced.contains(where: { $0.serviceName == name }),
            !plan.deploymentUpdates.contains(where: { $0.serviceName == name })
        else { return false }
        let live = snapshot.tasks.filter { $0.group == service.group && $0.isLive }
        return live.count == service.desiredCount
            && live.allSatisfy { $0.isHealthy && $0.deploymentId == primary.id }
    }
}
