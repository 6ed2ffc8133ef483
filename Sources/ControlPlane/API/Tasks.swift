import Foundation
import GRDB
import TaskDefinitions

// MARK: - Requests and responses

struct RunTaskRequest: Decodable {
    var cluster: String?
    var taskDefinition: String
    var count: Int?
    var startedBy: String?
    var group: String?
    var overrides: JSONValue?
    var launchType: String?
    var placementConstraints: [JSONValue]?
    var placementStrategy: [JSONValue]?
    var networkConfiguration: JSONValue?
    var tags: [ResourceTag]?
    var enableECSManagedTags: Bool?
    var propagateTags: String?
    var referenceId: String?
    var clientToken: String?
    var enableExecuteCommand: Bool?
}

struct StartTaskRequest: Decodable {
    var cluster: String?
    var taskDefinition: String
    var containerInstances: [String]
    var startedBy: String?
    var group: String?
    var overrides: JSONValue?
    var networkConfiguration: JSONValue?
    var tags: [ResourceTag]?
    var enableECSManagedTags: Bool?
    var propagateTags: String?
    var referenceId: String?
    var enableExecuteCommand: Bool?
}

struct TasksResponse: Encodable {
    var tasks: [ECSTask]
    var failures: [Failure]
}

struct StopTaskRequest: Decodable {
    var cluster: String?
    var task: String
    var reason: String?
}

struct TaskResponse: Encodable { var task: ECSTask }

struct DescribeTasksRequest: Decodable {
    var cluster: String?
    var tasks: [String]
    var include: [String]?
}

struct ListTasksRequest: Decodable {
    var cluster: String?
    var containerInstance: String?
    var family: String?
    var nextToken: String?
    var maxResults: Int?
    var startedBy: String?
    var serviceName: String?
    var desiredStatus: String?
    var launchType: String?
}

struct ListTasksResponse: Encodable {
    var taskArns: [String]
    var nextToken: String?
}

// MARK: - Rules

/// ECS task lifecycle states.
enum TaskStates {
    /// Accepted but not yet running.
    static let pending: Set<String> = ["PROVISIONING", "PENDING", "ACTIVATING"]
}

enum TaskRules {
    /// ECS places at most 10 tasks per RunTask/StartTask call.
    static let maxCount = 10

    static func checkStartedBy(_ startedBy: String?) throws(ECSError) {
        if let startedBy, startedBy.count > 128 {
            throw .invalidParameter("startedBy: must be at most 128 characters.")
        }
    }

    static func newID() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    /// A new task of `definition` in `cluster`, PENDING on `instance` and desired RUNNING: the agent takes it from here.
    static func makeTask(_ definition: TaskDefinition, cluster: Cluster, instance: ContainerInstance,
                         startedBy: String?, group: String?, overrides: JSONValue?, context: OperationContext) -> ECSTask {
        let id = newID()
        let arn = context.arn("task", "\(cluster.clusterName)/\(id)")
        return ECSTask(
            taskArn: arn, clusterArn: cluster.clusterArn, taskDefinitionArn: definition.taskDefinitionArn ?? "",
            containerInstanceArn: instance.containerInstanceArn, overrides: overrides ?? .object([:]),
            lastStatus: "PENDING", desiredStatus: "RUNNING",
            cpu: String(definition.cpuUnits ?? definition.requiredCPUUnits),
            memory: String(definition.memoryMiB ?? definition.requiredMemoryMiB),
            containers: definition.containerDefinitions.map { container in
                TaskContainer(
                    containerArn: context.arn("container", "\(cluster.clusterName)/\(id)/\(TaskRules.newID())"),
                    taskArn: arn, name: container.name, image: container.image, lastStatus: "PENDING",
                    healthStatus: "UNKNOWN", networkBindings: [],
                    cpu: container.cpu.map(String.init), memory: container.memory.map(String.init)
                )
            },
            startedBy: startedBy, group: group ?? "family:\(definition.family)", launchType: "EC2", version: 1,
            createdAt: context.now, healthStatus: "UNKNOWN"
        )
    }
}

// MARK: - Store access

extension Database {
    func task(_ identifier: String, in cluster: Cluster) throws -> ECSTask? {
        guard let id = ARN.lastComponent(of: identifier, kind: "task") else { return nil }
        return try document(ECSTask.self, "SELECT document FROM task WHERE cluster = ? AND id = ?", [cluster.clusterName, id])
    }

    func saveTask(_ task: ECSTask, cluster: Cluster) throws {
        var stored = task
        stored.tags = nil
        let id = task.taskArn.split(separator: "/").last.map(String.init) ?? task.taskArn
        let family = task.taskDefinitionArn.split(separator: "/").last?.split(separator: ":").first.map(String.init) ?? ""
        let serviceName = task.group.flatMap { $0.hasPrefix("service:") ? String($0.dropFirst("service:".count)) : nil }
        let instanceID = task.containerInstanceArn.flatMap { $0.split(separator: "/").last.map(String.init) }
        try execute(
            sql: """
                INSERT INTO task (cluster, id, arn, family, serviceName, containerInstanceId, startedBy, desiredStatus, lastStatus, document)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(cluster, id) DO UPDATE SET desiredStatus = excluded.desiredStatus, lastStatus = excluded.lastStatus,
                    containerInstanceId = excluded.containerInstanceId, document = excluded.document
                """,
            arguments: [cluster.clusterName, id, task.taskArn, family, serviceName, instanceID, task.startedBy,
                        task.desiredStatus, task.lastStatus, try Documents.encode(stored)]
        )
    }

    /// Places `count` tasks first-fit on ACTIVE instances with the CPU, memory and static host ports free.
    ///
    /// A stand-in until the reconciler drives `Scheduler`: it never over-commits an instance, and every task it
    /// cannot place becomes an ECS `failures` entry instead of a task that pretends to run.
    func placeTasks(_ definition: TaskDefinition, count: Int, cluster: Cluster, startedBy: String?, group: String?,
                    overrides: JSONValue?, tags: [ResourceTag], context: OperationContext) throws -> TasksResponse {
        var response = TasksResponse(tasks: [], failures: [])
        var instances = try documents(
            ContainerInstance.self,
            "SELECT document FROM containerInstance WHERE cluster = ? AND status = 'ACTIVE' ORDER BY id",
            [cluster.clusterName]
        ).map { try described($0, cluster: cluster) }
        guard !instances.isEmpty else {
            response.failures = [Failure(arn: cluster.clusterArn, reason: "No Container Instances were found in your cluster.")]
            return response
        }
        let cpu = definition.cpuUnits ?? definition.requiredCPUUnits
        let memory = definition.memoryMiB ?? definition.requiredMemoryMiB
        let ports = Set(definition.staticHostPorts.map { String($0.port) })
        for _ in 0..<count {
            var reason = "RESOURCE:CPU"
            let chosen = instances.firstIndex { instance in
                let remaining = instance.remaining
                guard remaining.cpu >= cpu else { reason = "RESOURCE:CPU"; return false }
                guard remaining.memory >= memory else { reason = "RESOURCE:MEMORY"; return false }
                guard remaining.usedPorts.isDisjoint(with: ports) else { reason = "RESOURCE:PORTS"; return false }
                return true
            }
            guard let chosen else {
                response.failures.append(Failure(arn: instances.first?.containerInstanceArn, reason: reason))
                continue
            }
            let task = TaskRules.makeTask(definition, cluster: cluster, instance: instances[chosen], startedBy: startedBy,
                                          group: group, overrides: overrides, context: context)
            try saveTask(task, cluster: cluster)
            try putTags(tags, on: task.taskArn)
            instances[chosen] = try described(instances[chosen], cluster: cluster)
            var answer = task
            answer.tags = tags
            response.tasks.append(answer)
        }
        return response
    }
}

// MARK: - Operations

extension ECSAPI {
    static let taskOperations: [String: ECSOperation] = [
        "RunTask": ECSOperation { (request: RunTaskRequest, context) in
            let count = request.count ?? 1
            guard (1...TaskRules.maxCount).contains(count) else {
                throw ECSError.invalidParameter("count: must be between 1 and \(TaskRules.maxCount), got \(count).")
            }
            try TaskRules.checkStartedBy(request.startedBy)
            try TagRules.check(request.tags)
            try PlacementRules.check(constraints: request.placementConstraints, strategy: request.placementStrategy)
            if let launchType = request.launchType, !["EC2", "EXTERNAL"].contains(launchType) {
                throw ECSError.invalidParameter("launchType: must be EC2 or EXTERNAL; Flotilla runs tasks on its own hosts.")
            }
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let definition = try db.usableTaskDefinition(request.taskDefinition)
                return try db.placeTasks(definition, count: count, cluster: cluster, startedBy: request.startedBy,
                                         group: request.group, overrides: request.overrides, tags: request.tags ?? [],
                                         context: context)
            }
        },
        "StartTask": ECSOperation { (request: StartTaskRequest, context) in
            guard (1...TaskRules.maxCount).contains(request.containerInstances.count) else {
                throw ECSError.invalidParameter("containerInstances: give 1 to \(TaskRules.maxCount) container instances, got \(request.containerInstances.count).")
            }
            try TaskRules.checkStartedBy(request.startedBy)
            try TagRules.check(request.tags)
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let definition = try db.usableTaskDefinition(request.taskDefinition)
                var response = TasksResponse(tasks: [], failures: [])
                for identifier in request.containerInstances {
                    guard let instance = try db.containerInstance(identifier, in: cluster), instance.status == "ACTIVE" else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                        continue
                    }
                    let task = TaskRules.makeTask(definition, cluster: cluster, instance: instance, startedBy: request.startedBy,
                                                  group: request.group, overrides: request.overrides, context: context)
                    try db.saveTask(task, cluster: cluster)
                    try db.putTags(request.tags ?? [], on: task.taskArn)
                    response.tasks.append(task)
                }
                return response
            }
        },
        "StopTask": ECSOperation { (request: StopTaskRequest, context) in
            if let reason = request.reason, reason.count > 255 {
                throw ECSError.invalidParameter("reason: must be at most 255 characters.")
            }
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var task = try db.task(request.task, in: cluster) else {
                    throw ECSError.invalidParameter("The referenced task was not found.")
                }
                if task.desiredStatus != "STOPPED" {
                    task.desiredStatus = "STOPPED"
                    task.stoppedReason = request.reason ?? "Task stopped by user"
                    task.stopCode = "UserInitiated"
                    task.stoppingAt = context.now
                    task.version += 1
                    try db.saveTask(task, cluster: cluster)
                }
                return TaskResponse(task: task)
            }
        },
        "DescribeTasks": ECSOperation { (request: DescribeTasksRequest, context) in
            guard (1...100).contains(request.tasks.count) else {
                throw ECSError.invalidParameter("tasks: give 1 to 100 tasks, got \(request.tasks.count).")
            }
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = TasksResponse(tasks: [], failures: [])
                for identifier in request.tasks {
                    if var task = try db.task(identifier, in: cluster) {
                        task.tags = includeTags ? try db.tags(of: task.taskArn) : nil
                        response.tasks.append(task)
                    } else {
                        let arn = identifier.hasPrefix("arn:") ? identifier : context.arn("task", "\(cluster.clusterName)/\(identifier)")
                        response.failures.append(Failure(arn: arn, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "ListTasks": ECSOperation { (request: ListTasksRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let desiredStatus = request.desiredStatus ?? "RUNNING"
            guard ["RUNNING", "PENDING", "STOPPED"].contains(desiredStatus) else {
                throw ECSError.invalidParameter("desiredStatus: must be RUNNING, PENDING or STOPPED.")
            }
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                // ECS: PENDING lists tasks desired RUNNING that have not reached RUNNING yet.
                var sql = desiredStatus == "PENDING"
                    ? "SELECT id, arn FROM task WHERE cluster = ? AND desiredStatus = 'RUNNING' AND lastStatus IN ('PROVISIONING', 'PENDING', 'ACTIVATING')"
                    : "SELECT id, arn FROM task WHERE cluster = ? AND desiredStatus = ?"
                var arguments: StatementArguments = desiredStatus == "PENDING" ? [cluster.clusterName] : [cluster.clusterName, desiredStatus]
                if let family = request.family {
                    sql += " AND family = ?"
                    arguments += [family]
                }
                if let serviceName = request.serviceName {
                    sql += " AND serviceName = ?"
                    arguments += [ARN.lastComponent(of: serviceName, kind: "service") ?? serviceName]
                }
                if let startedBy = request.startedBy {
                    sql += " AND startedBy = ?"
                    arguments += [startedBy]
                }
                if let instance = request.containerInstance {
                    sql += " AND containerInstanceId = ?"
                    arguments += [ARN.lastComponent(of: instance, kind: "container-instance") ?? instance]
                }
                return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments)
                    .map { (id: $0["id"] as String, arn: $0["arn"] as String) }
            }
            let page = try Pagination.page(rows, key: \.id, nextToken: request.nextToken, limit: limit)
            return ListTasksResponse(taskArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
    ]
}
