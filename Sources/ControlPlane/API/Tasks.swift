import AgentProtocol
import ECSVocabulary
import Foundation
import ECSProtocol
import GRDB
import Scheduler
import TaskDefinitions

// MARK: - Requests and responses

struct TasksResponse: Encodable {
    var tasks: [ECSTask]
    var failures: [Failure]
}

struct TaskResponse: Encodable { var task: ECSTask }

struct ListTasksResponse: Encodable {
    var taskArns: [String]
    var nextToken: String?
}

// MARK: - Rules

extension TaskRules {
    static func newID() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    /// A new task of `definition` in `cluster` on `instanceArn`, desired RUNNING: the agent takes it from here.
    ///
    /// RunTask and StartTask create tasks PENDING; the reconciler creates service tasks PROVISIONING (as ECS shows them).
    static func makeTask(
        _ definition: TaskDefinition, cluster: Cluster, instanceArn: String, startedBy: String?,
        group: String?, overrides: JSONValue?, lastStatus: TaskStatus, now: Date
    ) -> ECSTask {
        let id = newID()
        let clusterARN = ARN(cluster.clusterArn)
        func arn(_ kind: String, _ resource: String) -> String {
            ARN(
                region: clusterARN?.region ?? "us-east-1", account: clusterARN?.account ?? "000000000000", kind: kind,
                resource: resource
            ).description
        }
        let taskArn = arn("task", "\(cluster.clusterName)/\(id)")
        return ECSTask(
            taskArn: taskArn, clusterArn: cluster.clusterArn, taskDefinitionArn: definition.taskDefinitionArn ?? "",
            containerInstanceArn: instanceArn, overrides: overrides ?? .object([:]),
            lastStatus: lastStatus, desiredStatus: .running,
            cpu: String(definition.cpuUnits ?? definition.requiredCPUUnits),
            memory: String(definition.memoryMiB ?? definition.requiredMemoryMiB),
            containers: definition.containerDefinitions.map { container in
                TaskContainer(
                    containerArn: arn("container", "\(cluster.clusterName)/\(id)/\(TaskRules.newID())"),
                    taskArn: taskArn, name: container.name, image: container.image, lastStatus: .init(.pending),
                    healthStatus: .init(.unknown), networkBindings: [],
                    cpu: container.cpu.map(String.init), memory: container.memory.map(String.init)
                )
            },
            startedBy: startedBy, group: group ?? "family:\(definition.family)", launchType: "EC2", version: 1,
            createdAt: now, healthStatus: .unknown
        )
    }

    /// ECS's RunTask/StartTask `failures` for tasks the scheduler could not place: one entry per instance with the
    /// reason that kept it out (`RESOURCE:MEMORY`, `DRAINING`, ...), or the cluster's when it has no instance.
    static func failures(_ failure: PlacementFailure, cluster: Cluster) -> [Failure] {
        guard !failure.rejections.isEmpty else {
            return [Failure(arn: cluster.clusterArn, reason: "No Container Instances were found in your cluster.")]
        }
        return failure.rejections.compactMap { rejection in
            // The first check the instance failed, as ECS reports it.
            rejection.reasons.first.map { Failure(arn: rejection.containerInstanceArn, reason: $0.runTaskReason) }
        }
    }
}

// MARK: - Rules over the store

extension Database {
    /// Places `count` tasks of `definition` with the scheduler, on the cluster as it is inside this transaction.
    ///
    /// Every task that fits nowhere becomes an ECS `failures` entry instead of a task that pretends to run.
    func placeTasks(
        _ definition: TaskDefinition, count: Int, cluster: Cluster, startedBy: String?, group: String?,
        overrides: JSONValue?, tags: [ResourceTag], placement: PlacementSettings, now: Date,
        using generator: inout some RandomNumberGenerator
    ) throws -> TasksResponse {
        var response = TasksResponse(tasks: [], failures: [])
        let state = try schedulingState(of: cluster)
        guard !state.snapshot.instances.isEmpty else {
            response.failures = [
                Failure(arn: cluster.clusterArn, reason: "No Container Instances were found in your cluster.")
            ]
            return response
        }
        let request = PlacementRequest(
            group: group ?? "family:\(definition.family)", taskDefinitionArn: definition.taskDefinitionArn ?? "",
            requirements: TaskRequirements(definition), constraints: placement.constraints, strategy: placement.strategy
        )
        let plan = Scheduler.place(request, count: count, in: state.snapshot, using: &generator)
        for placed in plan.placements {
            let task = TaskRules.makeTask(
                definition, cluster: cluster, instanceArn: placed.containerInstanceArn,
                startedBy: startedBy, group: group, overrides: overrides, lastStatus: .pending, now: now)
            try saveTask(task, cluster: cluster)
            try putTags(tags, on: task.taskArn)
            var answer = task
            answer.tags = tags
            response.tasks.append(answer)
        }
        for failure in plan.unplaced { response.failures += TaskRules.failures(failure, cluster: cluster) }
        return response
    }
}

// MARK: - Operations

extension ECSAPI {
    static let taskOperations: [String: OperationHandler] = [
        "RunTask": OperationHandler { (request: RunTaskRequest, context) in
            let count = request.count ?? 1
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let definition = try db.usableTaskDefinition(request.taskDefinition)
                var generator = SystemRandomNumberGenerator()
                return try db.placeTasks(
                    definition, count: count, cluster: cluster, startedBy: request.startedBy,
                    group: request.group, overrides: request.overrides, tags: request.tags ?? [],
                    placement: PlacementSettings(
                        constraints: request.placementConstraints,
                        strategy: request.placementStrategy),
                    now: context.now, using: &generator)
            }
        },
        "StartTask": OperationHandler { (request: StartTaskRequest, context) in
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let definition = try db.usableTaskDefinition(request.taskDefinition)
                var response = TasksResponse(tasks: [], failures: [])
                let requirements = TaskRequirements(definition)
                for identifier in request.containerInstances {
                    // The named instance alone, as it is after the tasks this call already started: the scheduler
                    // checks its status, agent, CPU, memory and ports as it would for RunTask.
                    var snapshot = try db.schedulingState(of: cluster).snapshot
                    guard let instance = try db.containerInstance(identifier, in: cluster),
                        let only = snapshot.instances.first(where: {
                            $0.containerInstanceArn == instance.containerInstanceArn
                        })
                    else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                        continue
                    }
                    snapshot.instances = [only]
                    var generator = SystemRandomNumberGenerator()
                    let plan = Scheduler.place(
                        PlacementRequest(
                            group: request.group ?? "family:\(definition.family)",
                            taskDefinitionArn: definition.taskDefinitionArn ?? "", requirements: requirements),
                        count: 1, in: snapshot, using: &generator)
                    guard !plan.placements.isEmpty else {
                        for failure in plan.unplaced {
                            response.failures += TaskRules.failures(failure, cluster: cluster)
                        }
                        continue
                    }
                    let task = TaskRules.makeTask(
                        definition, cluster: cluster, instanceArn: instance.containerInstanceArn,
                        startedBy: request.startedBy, group: request.group,
                        overrides: request.overrides, lastStatus: .pending, now: context.now)
                    try db.saveTask(task, cluster: cluster)
                    try db.putTags(request.tags ?? [], on: task.taskArn)
                    response.tasks.append(task)
                }
                return response
            }
        },
        "StopTask": OperationHandler { (request: StopTaskRequest, context) in
            let (outcome, clusterName, response) = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard let task = try db.task(request.task, in: cluster) else {
                    throw ECSError.invalidParameter("The referenced task was not found.")
                }
                let outcome = try db.stopTask(
                    task, in: cluster, stopCode: .userInitiated,
                    reason: request.reason ?? "Task stopped by user", now: context.now)
                return (
                    outcome, cluster.clusterName, TaskResponse(task: try db.task(task.taskArn, in: cluster) ?? task)
                )
            }
            if case .deregistering(let delay) = outcome {
                TaskDeregistrationLog.started(
                    cluster: clusterName, service: response.task.serviceName, task: response.task.taskArn,
                    delay: delay, logger: context.logger)
            }
            return response
        },
        "DescribeTasks": OperationHandler { (request: DescribeTasksRequest, context) in
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = TasksResponse(tasks: [], failures: [])
                for identifier in request.tasks {
                    if var task = try db.task(identifier, in: cluster) {
                        task.tags = includeTags ? try db.tags(of: task.taskArn) : nil
                        response.tasks.append(task)
                    } else {
                        let arn =
                            identifier.hasPrefix("arn:")
                            ? identifier : context.arn("task", "\(cluster.clusterName)/\(identifier)")
                        response.failures.append(Failure(arn: arn, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "ListTasks": OperationHandler { (request: ListTasksRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            guard let desiredStatus = request.desiredStatusOrDefault else {
                throw ECSError.invalidParameter("desiredStatus: must be RUNNING, PENDING or STOPPED.")
            }
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                // ECS: PENDING lists tasks desired RUNNING that have not reached RUNNING yet.
                let selection =
                    desiredStatus == .pending
                    ? TaskSelection(
                        cluster: cluster.clusterName, desiredStatus: .running, lastStatuses: TaskStatus.pendingStatuses)
                    : TaskSelection(cluster: cluster.clusterName, desiredStatus: desiredStatus)
                var filtered = selection
                filtered.family = request.family
                filtered.serviceName = request.serviceName.map { ARN.lastComponent(of: $0, kind: "service") ?? $0 }
                filtered.startedBy = request.startedBy
                filtered.containerInstanceID = request.containerInstance.map {
                    ARN.lastComponent(of: $0, kind: "container-instance") ?? $0
                }
                return try db.taskIdentifiers(filtered)
            }
            let page = try Pagination.page(rows, key: \.id, nextToken: request.nextToken, limit: limit)
            return ListTasksResponse(taskArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
    ]
}
