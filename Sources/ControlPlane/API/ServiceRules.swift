import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

// MARK: - Rules

extension ServiceRules {
    static func deploymentID(_ generator: inout some RandomNumberGenerator) -> String {
        "ecs-svc/" + String((0..<19).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }

    static func eventID() -> String { UUID().uuidString.lowercased() }

    /// The event ECS writes when no instance can take a service's tasks.
    static func unableToPlaceEvent(service: String, reason: String, at now: Date) -> ServiceEvent {
        ServiceEvent(
            id: eventID(), createdAt: now,
            message:
                "(service \(service)) was unable to place a task because no container instance met all of its requirements. Reason: \(reason). For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
        )
    }
}

// MARK: - Rules over the store

extension Database {
    /// A service task that failed to start (an image the host lacks, a container that could not be created) puts an
    /// event naming the task and the agent's reason in its service's log; the reconciler replaces the task as usual.
    func recordStartFailure(of task: ECSTask, cluster: Cluster, now: Date) throws {
        guard task.lastStatus == .stopped, task.stopCode == StopCode.taskFailedToStart, let group = task.group,
            group.hasPrefix("service:"),
            var service = try service(String(group.dropFirst("service:".count)), in: cluster),
            let taskID = ARN.lastComponent(of: task.taskArn, kind: "task")
        else { return }
        let message =
            "(service \(service.serviceName)) (task \(taskID)) failed to start: \(task.stoppedReason ?? "no reason given")"
        service.events.insert(ServiceEvent(id: ServiceRules.eventID(), createdAt: now, message: message), at: 0)
        service.events = Array(service.events.prefix(ServiceRules.maxEvents))
        try saveService(service, cluster: cluster)
    }

    /// The service with its live task counts (and tags when asked), as DescribeServices shows it.
    ///
    /// Counts come from the tasks, never from stored numbers: `runningCount`/`pendingCount` are the service's tasks
    /// desired RUNNING by lastStatus; each deployment counts the tasks it started (`startedBy` is its id), and its
    /// `failedTasks` the ones that stopped failing (exited essential container, failed to start, unhealthy).
    /// INACTIVE deployments are kept in the store (the circuit breaker rolls back to them) but not shown, as ECS.
    func described(_ service: ECSService, cluster: Cluster, includeTags: Bool = false) throws -> ECSService {
        var service = service
        let rows = try serviceTaskTallies(cluster: cluster.clusterName, service: service.serviceName)
        struct Tally { var running = 0, pending = 0, failed = 0 }
        var byDeployment: [String: Tally] = [:]
        var total = Tally()
        let primaryID = service.deployments.first { $0.status == .primary }?.id
        for row in rows {
            let n = row.count
            let lastStatus = row.lastStatus
            let desiredStatus = row.desiredStatus
            // Tasks started before deployments were recorded on tasks belong to the deployment of their definition.
            let key =
                row.startedBy.flatMap { id in service.deployments.contains { $0.id == id } ? id : nil }
                ?? service.deployments.first { $0.taskDefinition == row.taskDefinitionArn }?.id ?? primaryID ?? ""
            var tally = byDeployment[key] ?? Tally()
            if desiredStatus == .running, lastStatus == .running {
                tally.running += n
                total.running += n
            }
            if desiredStatus == .running, lastStatus?.isPending == true {
                tally.pending += n
                total.pending += n
            }
            if lastStatus == .stopped {
                let stopCode = row.stopCode
                if stopCode == .essentialContainerExited || stopCode == .taskFailedToStart
                    || row.healthStatus == .unhealthy
                {
                    tally.failed += n
                }
            }
            byDeployment[key] = tally
        }
        service.runningCount = total.running
        service.pendingCount = total.pending
        if service.schedulingStrategy == "DAEMON", service.status == .active {
            // A DAEMON service wants one task per instance that takes tasks, as the reconciler plans it.
            service.desiredCount = try connectedActiveInstanceCount(cluster: cluster.clusterName)
        }
        service.deployments.removeAll { $0.status == .inactive }
        for index in service.deployments.indices {
            let tally = byDeployment[service.deployments[index].id] ?? Tally()
            service.deployments[index].runningCount = tally.running
            service.deployments[index].pendingCount = tally.pending
            service.deployments[index].failedTasks = tally.failed
            service.deployments[index].desiredCount =
                service.deployments[index].status == .primary
                ? service.desiredCount : tally.running + tally.pending
        }
        service.tags = includeTags ? try tags(of: service.serviceArn) : nil
        return service
    }

    func activeInstanceCount(in cluster: Cluster) throws -> Int {
        try instanceCount(cluster: cluster.clusterName, statuses: [.active])
    }

    /// A task definition a service or task may use: it must exist and be ACTIVE.
    func usableTaskDefinition(_ text: String) throws -> TaskDefinition {
        let reference = try TaskDefinitionReference(text)
        guard let definition = try taskDefinition(reference) else {
            throw ECSError.client("TaskDefinition not found.")
        }
        guard definition.registrationStatus == .active else { throw ECSError.client("TaskDefinition is inactive.") }
        return definition
    }
}
