import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import Scheduler

/// Which tasks `taskIdentifiers` lists: ListTasks' filters.
struct TaskSelection: Sendable {
    var cluster: String
    var desiredStatus: TaskStatus
    /// Only tasks with one of these lastStatuses (nil: any).
    var lastStatuses: [TaskStatus]?
    var family: String?
    var serviceName: String?
    var startedBy: String?
    var containerInstanceID: String?

    init(cluster: String, desiredStatus: TaskStatus, lastStatuses: [TaskStatus]? = nil) {
        self.cluster = cluster
        self.desiredStatus = desiredStatus
        self.lastStatuses = lastStatuses
    }
}

/// A task as the scheduler reads it, with the CPU and memory its document records (task-level sizes).
struct SchedulingTaskRow: Sendable {
    var snapshot: TaskSnapshot
    var cpu: Int?
    var memory: Int?
}

/// One group of a service's tasks that share what DescribeServices counts them by.
struct ServiceTaskTally: Sendable {
    var startedBy: String?
    var taskDefinitionArn: String?
    var desiredStatus: TaskStatus?
    var lastStatus: TaskStatus?
    var stopCode: StopCode?
    var healthStatus: HealthStatus?
    var count: Int
}

/// The `task` table: one row per task, the ECS document in `document`, with the columns the queries filter on
/// (desiredStatus, lastStatus, serviceName, containerInstanceId, startedBy) and `deregisteringSince` (a held stop).
extension Database {
    func task(_ identifier: String, in cluster: Cluster) throws -> ECSTask? {
        guard let id = ARN.lastComponent(of: identifier, kind: "task") else { return nil }
        return try document(
            ECSTask.self, "SELECT document FROM task WHERE cluster = ? AND id = ?", [cluster.clusterName, id])
    }

    func saveTask(_ task: ECSTask, cluster: Cluster) throws {
        var stored = task
        stored.tags = nil
        let id = task.taskArn.split(separator: "/").last.map(String.init) ?? task.taskArn
        let family =
            task.taskDefinitionArn.split(separator: "/").last?.split(separator: ":").first.map(String.init) ?? ""
        let instanceID = task.containerInstanceArn.flatMap { $0.split(separator: "/").last.map(String.init) }
        // A task reported STOPPED has nothing left to drain: its held stop (if any) is over.
        try execute(
            sql: """
                INSERT INTO task (cluster, id, arn, family, serviceName, containerInstanceId, startedBy, desiredStatus, lastStatus, document)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(cluster, id) DO UPDATE SET desiredStatus = excluded.desiredStatus, lastStatus = excluded.lastStatus,
                    containerInstanceId = excluded.containerInstanceId, startedBy = excluded.startedBy, document = excluded.document,
                    deregisteringSince = CASE WHEN excluded.lastStatus = ? THEN NULL ELSE deregisteringSince END
                """,
            arguments: [
                cluster.clusterName, id, task.taskArn, family, task.serviceName, instanceID, task.startedBy,
                task.desiredStatus, task.lastStatus, try Documents.encode(stored), TaskStatus.stopped,
            ]
        )
    }

    /// The (id, ARN) of the tasks `selection` names, by id.
    func taskIdentifiers(_ selection: TaskSelection) throws -> [(id: String, arn: String)] {
        var statement = FilteredStatement(
            sql: "SELECT id, arn FROM task WHERE cluster = ? AND desiredStatus = ?",
            arguments: [selection.cluster, selection.desiredStatus])
        if let statuses = selection.lastStatuses {
            statement.sql += " AND lastStatus IN (\(databaseQuestionMarks(count: statuses.count)))"
            statement.arguments += StatementArguments(statuses)
        }
        statement.equal("family", selection.family)
        statement.equal("serviceName", selection.serviceName)
        statement.equal("startedBy", selection.startedBy)
        statement.equal("containerInstanceId", selection.containerInstanceID)
        return try Row.fetchAll(self, sql: statement.sql + " ORDER BY id", arguments: statement.arguments)
            .map { (id: $0["id"] as String, arn: $0["arn"] as String) }
    }

    /// How many of the cluster's tasks have one of `lastStatuses`.
    func taskCount(cluster: String, lastStatuses: [TaskStatus]) throws -> Int {
        try count(
            "SELECT COUNT(*) FROM task WHERE cluster = ? AND lastStatus IN (\(databaseQuestionMarks(count: lastStatuses.count)))",
            [cluster] + StatementArguments(lastStatuses))
    }

    /// How many tasks of the cluster (of one service, or on one instance, when given) are not yet reported STOPPED.
    func liveTaskCount(cluster: String, service: String? = nil, instanceID: String? = nil) throws -> Int {
        var statement = FilteredStatement(sql: "SELECT COUNT(*) FROM task WHERE cluster = ?", arguments: [cluster])
        statement.equal("serviceName", service)
        statement.equal("containerInstanceId", instanceID)
        return try count(statement.sql + " AND lastStatus != ?", statement.arguments + [TaskStatus.stopped])
    }

    /// The service's tasks not yet desired STOPPED.
    func tasksNotDesiredStopped(cluster: String, service: String) throws -> [ECSTask] {
        try documents(
            ECSTask.self, "SELECT document FROM task WHERE cluster = ? AND serviceName = ? AND desiredStatus != ?",
            [cluster, service, TaskStatus.stopped])
    }

    /// The tasks of a deployment (`startedBy`) of a service that are desired RUNNING.
    func tasksDesiredRunning(cluster: String, service: String, startedBy: String) throws -> [ECSTask] {
        try documents(
            ECSTask.self,
            "SELECT document FROM task WHERE cluster = ? AND serviceName = ? AND startedBy = ? AND desiredStatus = ?",
            [cluster, service, startedBy, TaskStatus.running])
    }

    /// Moves the live tasks of deployment `previous` to deployment `next` (their `startedBy`, as ECS records a
    /// service task's deployment): a circuit-breaker rollback takes over the tasks of the deployment it returns to.
    func adoptLiveTasks(of previous: String, into next: String, service: String, in cluster: Cluster) throws {
        for var task in try tasksDesiredRunning(cluster: cluster.clusterName, service: service, startedBy: previous) {
            task.startedBy = next
            try saveTask(task, cluster: cluster)
        }
    }

    /// The tasks on an instance that occupy it: desired RUNNING, or not yet reported STOPPED.
    func tasksOccupying(instanceID: String, cluster: String) throws -> [ECSTask] {
        try documents(
            ECSTask.self,
            "SELECT document FROM task WHERE cluster = ? AND containerInstanceId = ? AND (desiredStatus = ? OR lastStatus != ?)",
            [cluster, instanceID, TaskStatus.running, TaskStatus.stopped])
    }

    /// Desires STOPPED every task on a deregistered instance, with the reason ECS gives.
    func stopTasks(onInstance instanceID: String, cluster: String) throws {
        try execute(
            sql: """
                UPDATE task SET desiredStatus = ?1,
                    document = json_set(document, '$.desiredStatus', ?1, '$.stoppedReason', 'Container instance deregistered')
                WHERE cluster = ?2 AND containerInstanceId = ?3 AND desiredStatus != ?1
                """,
            arguments: [TaskStatus.stopped, cluster, instanceID])
    }

    /// A service's tasks grouped by what DescribeServices counts: deployment, definition, statuses, stop code, health.
    func serviceTaskTallies(cluster: String, service: String) throws -> [ServiceTaskTally] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT startedBy, json_extract(document, '$.taskDefinitionArn') AS taskDefinitionArn, desiredStatus, lastStatus,
                    json_extract(document, '$.stopCode') AS stopCode, json_extract(document, '$.healthStatus') AS healthStatus,
                    COUNT(*) AS n
                FROM task WHERE cluster = ? AND serviceName = ?
                GROUP BY 1, 2, 3, 4, 5, 6
                """,
            arguments: [cluster, service]
        ).map { row in
            ServiceTaskTally(
                startedBy: row["startedBy"], taskDefinitionArn: row["taskDefinitionArn"],
                desiredStatus: TaskStatus(rawValue: row["desiredStatus"]),
                lastStatus: TaskStatus(rawValue: row["lastStatus"]),
                stopCode: (row["stopCode"] as String?).flatMap(StopCode.init(rawValue:)),
                healthStatus: (row["healthStatus"] as String?).flatMap(HealthStatus.init(rawValue:)), count: row["n"])
        }
    }

    /// The tasks of an instance its agent must hear of (all but those both desired and reported STOPPED), by id,
    /// each with whether its stop is held while it drains (`deregisteringSince` set).
    func agentTasks(instanceID: String, cluster: String) throws -> [(task: ECSTask, held: Bool)] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT document, deregisteringSince IS NOT NULL AS held FROM task
                WHERE cluster = ?1 AND containerInstanceId = ?2 AND NOT (desiredStatus = ?3 AND lastStatus = ?3) ORDER BY id
                """,
            arguments: [cluster, instanceID, TaskStatus.stopped]
        ).map { row in (task: try Documents.decode(ECSTask.self, from: row["document"]), held: row["held"] as Bool) }
    }

    // MARK: - Held stops (`deregisteringSince`, migration "v6")

    /// Records that `taskArn`'s stop is held from `since` while it drains from its balancers.
    func holdStop(of taskArn: String, cluster: String, since: Date) throws {
        try execute(
            sql: "UPDATE task SET deregisteringSince = ? WHERE cluster = ? AND arn = ?",
            arguments: [since.timeIntervalSince1970, cluster, taskArn])
    }

    /// Releases `taskArn`'s held stop (a trigger bumps its instance's desiredIndex, which wakes the agent's poll).
    func releaseStop(of taskArn: String, cluster: String) throws {
        try execute(
            sql: "UPDATE task SET deregisteringSince = NULL WHERE cluster = ? AND arn = ?",
            arguments: [cluster, taskArn])
    }

    /// Every task whose stop is held, oldest first.
    func heldStops() throws -> [(cluster: String, serviceName: String?, taskArn: String, since: Date)] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT cluster, serviceName, arn, deregisteringSince FROM task
                WHERE deregisteringSince IS NOT NULL ORDER BY deregisteringSince
                """
        ).map { row in
            (
                cluster: row["cluster"], serviceName: row["serviceName"], taskArn: row["arn"],
                since: Date(timeIntervalSince1970: row["deregisteringSince"])
            )
        }
    }

    /// The cluster's tasks as the scheduler sees them, read as columns (no document decoding per task): every task
    /// not both desired and reported STOPPED, plus the stopped tasks of the deployments in `stoppedTasksOf` (the
    /// circuit breaker counts them), by id.
    func schedulingTasks(cluster: String, stoppedTasksOf deployments: Set<String>) throws -> [SchedulingTaskRow] {
        let taskColumns = """
            SELECT arn, desiredStatus, lastStatus, startedBy,
                json_extract(document, '$.group') AS taskGroup, json_extract(document, '$.taskDefinitionArn') AS taskDefinitionArn,
                json_extract(document, '$.containerInstanceArn') AS containerInstanceArn,
                json_extract(document, '$.healthStatus') AS healthStatus, json_extract(document, '$.startedAt') AS startedAt,
                json_extract(document, '$.createdAt') AS createdAt, json_extract(document, '$.stopCode') AS stopCode,
                json_extract(document, '$.cpu') AS cpu, json_extract(document, '$.memory') AS memory
            FROM task
            """
        var taskRows = try Row.fetchAll(
            self, sql: taskColumns + " WHERE cluster = ?1 AND NOT (desiredStatus = ?2 AND lastStatus = ?2) ORDER BY id",
            arguments: [cluster, TaskStatus.stopped])
        if !deployments.isEmpty {
            taskRows += try Row.fetchAll(
                self,
                sql: taskColumns
                    + " WHERE cluster = ? AND desiredStatus = ? AND lastStatus = ? AND startedBy IN (\(databaseQuestionMarks(count: deployments.count))) ORDER BY id",
                arguments: [cluster, TaskStatus.stopped, TaskStatus.stopped] + StatementArguments(deployments.sorted()))
        }
        return taskRows.map { row in
            SchedulingTaskRow(
                snapshot: TaskSnapshot(row: row), cpu: (row["cpu"] as String?).flatMap { Int($0) },
                memory: (row["memory"] as String?).flatMap { Int($0) })
        }
    }
}

extension TaskSnapshot {
    /// A task as the scheduler sees it, from the columns `schedulingState` selects. A service task's deployment is
    /// its `startedBy` (`ecs-svc/...`), as in ECS.
    init(row: Row) {
        let group = (row["taskGroup"] as String?) ?? ""
        self.init(
            taskArn: row["arn"], containerInstanceArn: (row["containerInstanceArn"] as String?) ?? "", group: group,
            taskDefinitionArn: (row["taskDefinitionArn"] as String?) ?? "",
            deploymentId: group.hasPrefix("service:") ? row["startedBy"] : nil,
            lastStatus: TaskStatus(rawValue: row["lastStatus"]) ?? .provisioning,
            desiredStatus: TaskStatus(rawValue: row["desiredStatus"]) ?? .running,
            healthStatus: (row["healthStatus"] as String?).flatMap(HealthStatus.init(rawValue:)) ?? .unknown,
            startedAt: (row["startedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            createdAt: (row["createdAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            stopCode: (row["stopCode"] as String?).flatMap(StopCode.init(rawValue:)))
    }
}
