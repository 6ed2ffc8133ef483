import ECSVocabulary
import Foundation

/// The next step of one service: which tasks to stop, how many to start, and what its deployments become.
///
/// Level-triggered: it compares the service's desired state with the live tasks in the snapshot and assumes
/// nothing about earlier plans. Each step keeps the service within its deployment bounds:
/// - live tasks after the step (stops done, starts pending) never exceed `maximumPercent` of `desiredCount`;
/// - a healthy task (``TaskSnapshot/isHealthy``: RUNNING, passing its container health checks and every load
///   balancer's) is stopped only while the healthy ones left stay at or above `minimumHealthyPercent`;
/// - a deployment completes, and a service is steady, only when every task is healthy in that sense.
struct ServiceReconciler {
    let service: ServiceSnapshot
    let tasks: [TaskSnapshot]
    let now: Date

    /// ECS's circuit-breaker threshold: half the desired count, at least 3, at most 200.
    static func failureThreshold(desiredCount: Int) -> Int {
        min(max((desiredCount + 1) / 2, 3), 200)
    }

    func reconcile(engine: inout PlacementEngine, plan: inout Plan, using generator: inout some RandomNumberGenerator) {
        let name = service.serviceName
        guard let primary = service.primaryDeployment else {
            // No deployment to run: nothing may keep running.
            for task in tasks where task.isLive {
                plan.stops.append(TaskStop(taskArn: task.taskArn, serviceName: name, reason: .scaledIn))
            }
            return
        }
        func isPrimary(_ task: TaskSnapshot) -> Bool {
            task.deploymentId.map { $0 == primary.id } ?? (task.taskDefinitionArn == primary.taskDefinitionArn)
        }
        func isDraining(_ task: TaskSnapshot) -> Bool {
            engine.indexByArn[task.containerInstanceArn].map { engine.instances[$0].status == .draining } ?? false
        }

        // 1. Tasks that are gone in all but name: agent lost, or unhealthy past the grace period.
        var kept: [TaskSnapshot] = []
        var failuresThisStep: [String: Int] = [:]
        let grace = TimeInterval(service.healthCheckGracePeriodSeconds)
        for task in tasks where task.isLive {
            let instance = engine.indexByArn[task.containerInstanceArn].map { engine.instances[$0] }
            if instance?.agentConnected != true {
                plan.stops.append(TaskStop(taskArn: task.taskArn, serviceName: name, reason: .agentDisconnected))
            } else if let failure = task.healthCheckFailure,
                now >= (task.startedAt ?? .distantPast).addingTimeInterval(grace)
            {
                let reason: StopReason =
                    switch failure {
                    case .container: .unhealthy
                    case .loadBalancer(let balancer): .failedLoadBalancerHealthChecks(balancer)
                    }
                plan.stops.append(TaskStop(taskArn: task.taskArn, serviceName: name, reason: reason))
                failuresThisStep[task.deploymentId ?? primary.id, default: 0] += 1
            } else {
                kept.append(task)
            }
        }

        // 2. Circuit breaker: enough failed tasks of an in-progress deployment fail it (and roll back).
        var mayStart = primary.rolloutState != .failed
        if primary.rolloutState == .inProgress, let breaker = service.deploymentConfiguration.deploymentCircuitBreaker,
            breaker.enable
        {
            let failures = tasks.filter { $0.isFailure && isPrimary($0) }.count + (failuresThisStep[primary.id] ?? 0)
            if failures >= Self.failureThreshold(desiredCount: service.desiredCount) {
                mayStart = false
                let target = breaker.rollback ? rollbackTarget(excluding: primary) : nil
                plan.deploymentUpdates.append(
                    DeploymentUpdate(
                        serviceName: name, deploymentId: primary.id, status: nil, rolloutState: .failed,
                        rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
                        rollbackToTaskDefinitionArn: target?.taskDefinitionArn, rollbackToDeploymentId: target?.id))
                plan.events.append(
                    ServiceEvent(
                        serviceName: name,
                        message:
                            "(service \(name)) (deployment \(primary.id)) deployment failed: tasks failed to start."))
                if let target {
                    plan.events.append(
                        ServiceEvent(
                            serviceName: name, message: "(service \(name)) rolling back to deployment \(target.id)."))
                }
            }
        }

        // 3. Rolling step.
        let desired = service.desiredCount
        let configuration = service.deploymentConfiguration
        let maximumTotal = desired * configuration.maximumPercent / 100
        let minimumHealthy = (desired * configuration.minimumHealthyPercent + 99) / 100

        let primaryKept = kept.filter { isPrimary($0) && !isDraining($0) }
        // A failed deployment starts nothing, so nothing is replaced either: the old tasks keep serving.
        var removals = mayStart ? kept.filter { !isPrimary($0) || isDraining($0) } : []
        removals.sort { rank($0, isDraining: isDraining) < rank($1, isDraining: isDraining) }
        if primaryKept.count > desired {
            removals += scaleInOrder(primaryKept, count: primaryKept.count - desired, engine: engine, using: &generator)
        }
        let missing = max(0, desired - primaryKept.count)
        let starts = mayStart ? min(missing, max(0, maximumTotal - kept.count)) : 0

        var healthy = kept.filter(\.isHealthy).count
        var stopped = 0
        for task in removals {
            if task.isHealthy {
                guard healthy - 1 >= minimumHealthy else { continue }
                healthy -= 1
            }
            stopped += 1
            let reason: StopReason = isDraining(task) ? .instanceDraining : .scaledIn
            plan.stops.append(
                TaskStop(taskArn: task.taskArn, serviceName: name, reason: reason, deploymentId: primary.id))
        }

        if starts > 0 {
            let request = PlacementRequest(
                group: service.group, taskDefinitionArn: primary.taskDefinitionArn,
                requirements: primary.requirements, constraints: service.placementConstraints,
                strategy: service.placementStrategy, serviceName: name, deploymentId: primary.id)
            let result = engine.place(request, count: starts, using: &generator)
            plan.placements += result.placements
            if let failure = result.failure {
                plan.unplaced.append(failure)
                plan.events.append(ServiceEvent(serviceName: name, message: failure.eventMessage(serviceName: name)))
            }
        }

        // 4. Steady state: exactly the desired primary tasks, all healthy, the replaced ones gone (not still
        // draining or stopping), nothing left to change.
        let replacedAreGone = tasks.allSatisfy { $0.isLive || $0.lastStatus == .stopped }
        let settled =
            removals.isEmpty && missing == 0 && stopped == 0 && kept.count == desired && kept.allSatisfy(\.isHealthy)
            && replacedAreGone && plan.stops.allSatisfy { $0.serviceName != name }
        if settled, primary.rolloutState == .inProgress {
            plan.deploymentUpdates.append(
                DeploymentUpdate(
                    serviceName: name, deploymentId: primary.id, status: nil, rolloutState: .completed,
                    rolloutStateReason: "ECS deployment \(primary.id) completed.", rollbackToTaskDefinitionArn: nil))
            for old in service.deployments where old.status == .active {
                plan.deploymentUpdates.append(
                    DeploymentUpdate(
                        serviceName: name, deploymentId: old.id, status: .inactive, rolloutState: nil,
                        rolloutStateReason: nil, rollbackToTaskDefinitionArn: nil))
            }
            plan.events.append(
                ServiceEvent(
                    serviceName: name, message: "(service \(name)) (deployment \(primary.id)) deployment completed."))
            plan.events.append(
                ServiceEvent(serviceName: name, message: "(service \(name)) has reached a steady state."))
        }
    }

    /// The deployment a failed one rolls back to: the newest COMPLETED one.
    private func rollbackTarget(excluding failed: DeploymentSnapshot) -> DeploymentSnapshot? {
        service.deployments.filter { $0.id != failed.id && $0.rolloutState == .completed }.max {
            $0.createdAt < $1.createdAt
        }
    }

    /// Order of removal: tasks that are not healthy first, then those on draining instances, then the rest.
    private func rank(_ task: TaskSnapshot, isDraining: (TaskSnapshot) -> Bool) -> Int {
        if task.healthCheckFailure != nil { return 0 }
        if !task.isHealthy { return 1 }
        return isDraining(task) ? 2 : 3
    }

    /// Picks `count` tasks to stop on scale-in: unhealthy, then pending, then the inverse of the placement strategy
    /// (spread: from the most crowded bucket; binpack: from the least packed instance; random: at random),
    /// newest first on ties.
    func scaleInOrder(
        _ pool: [TaskSnapshot], count: Int, engine: PlacementEngine,
        using generator: inout some RandomNumberGenerator
    ) -> [TaskSnapshot] {
        var remaining = pool.sorted {
            ($0.startedAt ?? .distantFuture, $0.taskArn) > ($1.startedAt ?? .distantFuture, $1.taskArn)
        }
        var chosen: [TaskSnapshot] = []
        func take(where predicate: (TaskSnapshot) -> Bool) {
            while chosen.count < count, let index = remaining.firstIndex(where: predicate) {
                chosen.append(remaining.remove(at: index))
            }
        }
        take { $0.healthCheckFailure != nil }
        take { $0.lastStatus != .running }
        let strategy = service.placementStrategy.first
        while chosen.count < count, !remaining.isEmpty {
            let index: Int
            switch strategy {
            case .spread(let field):
                var buckets: [String: Int] = [:]
                func bucket(_ task: TaskSnapshot) -> String {
                    switch field {
                    case .instanceId: return task.containerInstanceArn
                    case .attribute(let name):
                        let instance = engine.indexByArn[task.containerInstanceArn].map { engine.instances[$0] }
                        return (instance?.attributes[name] ?? nil) ?? ""
                    }
                }
                for task in remaining { buckets[bucket(task), default: 0] += 1 }
                let top = remaining.map { buckets[bucket($0)]! }.max()!
                index = remaining.firstIndex { buckets[bucket($0)]! == top }!
            case .binpack(let resource):
                func free(_ task: TaskSnapshot) -> Int {
                    guard let slot = engine.indexByArn[task.containerInstanceArn] else { return .max }
                    return resource == .cpu ? engine.remainingCPU[slot] : engine.remainingMemory[slot]
                }
                let most = remaining.map(free).max()!
                index = remaining.firstIndex { free($0) == most }!
            case .random:
                index = Int(generator.next(upperBound: UInt64(remaining.count)))
            case nil:
                index = 0
            }
            chosen.append(remaining.remove(at: index))
        }
        return chosen
    }
}
