public import Foundation
public import Scheduler

/// A fake fleet of agents that carries out plans instantly and in memory: the cluster state a real control plane
/// and its agents would converge to, with no processes. Stopped tasks stay visible (as ECS keeps them) so the
/// circuit breaker can count them.
public struct FakeAgentFleet: Sendable {
    public private(set) var snapshot: ClusterSnapshot
    /// Task definitions whose tasks exit as soon as they start (circuit-breaker tests).
    public var failingTaskDefinitions: Set<String> = []
    private var reserved: [String: TaskRequirements] = [:]
    private var nextTask = 0
    private var nextDeployment = 0

    public init(snapshot: ClusterSnapshot) {
        self.snapshot = snapshot
        for task in snapshot.tasks where task.isLive {
            if let service = snapshot.services.first(where: { $0.group == task.group }),
               let deployment = service.deployments.first(where: { $0.id == task.deploymentId }) {
                reserved[task.taskArn] = deployment.requirements
            }
        }
    }

    /// Applies a plan as the control plane would, then bumps the index.
    public mutating func apply(_ plan: Plan, now: Date) {
        precondition(plan.baseIndex == snapshot.baseIndex, "plan computed on a stale snapshot")
        for stop in plan.stops { stopTask(stop.taskArn, code: .serviceSchedulerInitiated) }
        for placement in plan.placements {
            nextTask += 1
            let arn = "arn:aws:ecs:local:000000000000:task/\(snapshot.clusterName)/\(nextTask)"
            let requirements = requirements(of: placement)
            guard let slot = snapshot.instances.firstIndex(where: { $0.containerInstanceArn == placement.containerInstanceArn }) else { continue }
            snapshot.instances[slot].remainingCPU -= requirements.cpu
            snapshot.instances[slot].remainingMemoryMiB -= requirements.memoryMiB
            for port in requirements.hostPorts { snapshot.instances[slot].portsInUse.insert(port) }
            snapshot.instances[slot].runningTasksCount += 1
            reserved[arn] = requirements
            snapshot.tasks.append(TaskSnapshot(taskArn: arn, containerInstanceArn: placement.containerInstanceArn,
                                               group: placement.group, taskDefinitionArn: placement.taskDefinitionArn,
                                               deploymentId: placement.deploymentId, lastStatus: .pending,
                                               healthStatus: .unknown, createdAt: now))
        }
        for update in plan.deploymentUpdates { applyDeploymentUpdate(update, now: now) }
        snapshot.baseIndex += 1
    }

    /// Agents report: pending tasks start (healthy), or exit at once if their task definition is failing.
    public mutating func advance(now: Date) {
        for index in snapshot.tasks.indices where snapshot.tasks[index].isLive && snapshot.tasks[index].lastStatus == .pending {
            if failingTaskDefinitions.contains(snapshot.tasks[index].taskDefinitionArn) {
                stopTask(snapshot.tasks[index].taskArn, code: .essentialContainerExited)
            } else {
                snapshot.tasks[index].lastStatus = .running
                snapshot.tasks[index].healthStatus = .healthy
                snapshot.tasks[index].startedAt = now
            }
        }
        snapshot.baseIndex += 1
    }

    /// Changes the cluster as an operator or a host would (drain an instance, lose an agent, change a service).
    public mutating func mutate(_ change: (inout ClusterSnapshot) -> Void) {
        change(&snapshot)
        snapshot.baseIndex += 1
    }

    private func requirements(of placement: TaskPlacement) -> TaskRequirements {
        let service = snapshot.services.first { $0.serviceName == placement.serviceName }
        return service?.deployments.first { $0.id == placement.deploymentId }?.requirements ?? TaskRequirements(cpu: 0, memoryMiB: 0)
    }

    private mutating func stopTask(_ arn: String, code: StopCode) {
        guard let index = snapshot.tasks.firstIndex(where: { $0.taskArn == arn }), snapshot.tasks[index].lastStatus != .stopped else { return }
        snapshot.tasks[index].desiredStatus = .stopped
        snapshot.tasks[index].lastStatus = .stopped
        snapshot.tasks[index].stopCode = code
        if let requirements = reserved.removeValue(forKey: arn),
           let slot = snapshot.instances.firstIndex(where: { $0.containerInstanceArn == snapshot.tasks[index].containerInstanceArn }) {
            snapshot.instances[slot].remainingCPU += requirements.cpu
            snapshot.instances[slot].remainingMemoryMiB += requirements.memoryMiB
            for port in requirements.hostPorts { snapshot.instances[slot].portsInUse.remove(port) }
            snapshot.instances[slot].runningTasksCount -= 1
        }
    }

    private mutating func applyDeploymentUpdate(_ update: DeploymentUpdate, now: Date) {
        guard let serviceIndex = snapshot.services.firstIndex(where: { $0.serviceName == update.serviceName }),
              let index = snapshot.services[serviceIndex].deployments.firstIndex(where: { $0.id == update.deploymentId }) else { return }
        if let status = update.status { snapshot.services[serviceIndex].deployments[index].status = status }
        if let state = update.rolloutState { snapshot.services[serviceIndex].deployments[index].rolloutState = state }
        if let arn = update.rollbackToTaskDefinitionArn,
           let target = snapshot.services[serviceIndex].deployments.first(where: { $0.taskDefinitionArn == arn }) {
            nextDeployment += 1
            snapshot.services[serviceIndex].deployments[index].status = .active
            snapshot.services[serviceIndex].deployments.append(DeploymentSnapshot(
                id: "ecs-svc/rollback-\(nextDeployment)", status: .primary, taskDefinitionArn: arn,
                requirements: target.requirements, rolloutState: .inProgress, createdAt: now))
        }
    }
}
