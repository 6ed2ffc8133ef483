import Logging
import Foundation
import ECSProtocol
import GRDB
import Scheduler
import TaskDefinitions

// MARK: - Requests and responses

struct ContainerInstanceResponse: Encodable { var containerInstance: ContainerInstance }

struct ListContainerInstancesResponse: Encodable {
    var containerInstanceArns: [String]
    var nextToken: String?
}

struct ContainerInstancesResponse: Encodable {
    var containerInstances: [ContainerInstance]
    var failures: [Failure]
}

struct DiscoverPollEndpointResponse: Encodable {
    var endpoint: String
    var telemetryEndpoint: String
    var serviceConnectEndpoint: String
}

// MARK: - Resources

/// What is left on an instance once its live tasks are counted.
struct RemainingResources {
    var cpu: Int
    var memory: Int
    var usedPorts: Set<String>
}

extension ContainerInstance {
    var remaining: RemainingResources {
        func integer(_ name: String) -> Int { remainingResources.first { $0.name == name }?.integerValue ?? 0 }
        let ports = remainingResources.filter { $0.name == "PORTS" }.flatMap { $0.stringSetValue ?? [] }
        return RemainingResources(cpu: integer("CPU"), memory: integer("MEMORY"), usedPorts: Set(ports))
    }
}

// MARK: - The scheduler's view

extension ContainerInstance {
    /// The instance as the cluster query language sees it (attributes, ids, counts, agent state).
    var placementSnapshot: InstanceSnapshot {
        var attributes: [String: String?] = [:]
        for attribute in self.attributes ?? [] { attributes[attribute.name] = attribute.value }
        let cpu = registeredResources.first { $0.name == "CPU" }?.integerValue ?? 0
        let memory = registeredResources.first { $0.name == "MEMORY" }?.integerValue ?? 0
        return InstanceSnapshot(
            containerInstanceArn: containerInstanceArn, ec2InstanceId: ec2InstanceId,
            status: status == "DRAINING" ? .draining : .active, agentConnected: agentConnected,
            agentVersion: versionInfo?["agentVersion"]?.stringValue, registeredAt: registeredAt,
            registeredCPU: cpu, registeredMemoryMiB: memory, attributes: attributes, runningTasksCount: runningTasksCount)
    }
}

// MARK: - Store access

extension Database {
    func containerInstance(_ identifier: String, in cluster: Cluster) throws -> ContainerInstance? {
        guard let id = ARN.lastComponent(of: identifier, kind: "container-instance") else { return nil }
        return try document(ContainerInstance.self, "SELECT document FROM containerInstance WHERE cluster = ? AND id = ?",
                            [cluster.clusterName, id])
    }

    func saveContainerInstance(_ instance: ContainerInstance, cluster: Cluster) throws {
        var stored = instance
        stored.tags = nil
        stored.attributes = nil
        try execute(
            sql: """
                INSERT INTO containerInstance (cluster, id, arn, status, document) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(cluster, id) DO UPDATE SET status = excluded.status, document = excluded.document
                """,
            arguments: [cluster.clusterName, instance.id, instance.containerInstanceArn, instance.status, try Documents.encode(stored)]
        )
    }

    /// The instance with its live remaining resources, task counts and attributes (and tags when asked).
    func described(_ instance: ContainerInstance, cluster: Cluster, includeTags: Bool = false) throws -> ContainerInstance {
        var instance = instance
        let tasks = try documents(
            ECSTask.self,
            "SELECT document FROM task WHERE cluster = ? AND containerInstanceId = ? AND (desiredStatus = 'RUNNING' OR lastStatus != 'STOPPED')",
            [cluster.clusterName, instance.id]
        )
        var cpu = instance.registeredResources.first { $0.name == "CPU" }?.integerValue ?? 0
        var memory = instance.registeredResources.first { $0.name == "MEMORY" }?.integerValue ?? 0
        var ports = Set(instance.registeredResources.filter { $0.name == "PORTS" }.flatMap { $0.stringSetValue ?? [] })
        for task in tasks {
            cpu -= Int(task.cpu ?? "") ?? 0
            memory -= Int(task.memory ?? "") ?? 0
            if let reference = try? TaskDefinitionReference(task.taskDefinitionArn),
               let definition = try taskDefinition(reference) {
                ports.formUnion(definition.staticHostPorts.map { String($0.port) })
            }
        }
        instance.remainingResources = [
            Resource(name: "CPU", type: "INTEGER", integerValue: cpu),
            Resource(name: "MEMORY", type: "INTEGER", integerValue: memory),
            Resource(name: "PORTS", type: "STRINGSET", stringSetValue: ports.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }),
        ]
        instance.runningTasksCount = tasks.filter { $0.lastStatus == "RUNNING" }.count
        instance.pendingTasksCount = tasks.filter { TaskStates.pending.contains($0.lastStatus) }.count
        instance.attributes = try attributes(of: instance.id, cluster: cluster).map { attribute in
            Attribute(name: attribute.name, value: attribute.value)
        }
        instance.tags = includeTags ? try tags(of: instance.containerInstanceArn) : nil
        return instance
    }
}

extension ContainerInstance {
    /// The instance's ID, the last component of its ARN.
    var id: String { containerInstanceArn.split(separator: "/").last.map(String.init) ?? containerInstanceArn }
}

// MARK: - Operations

extension ECSAPI {
    static let containerInstanceOperations: [String: ECSOperation] = [
        "RegisterContainerInstance": ECSOperation { (request: RegisterContainerInstanceRequest, context) in
            let resources = request.totalResources ?? []
            let instance = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let existing = try request.containerInstanceArn.flatMap { try db.containerInstance($0, in: cluster) }
                let id = existing?.id ?? TaskRules.newID()
                let ec2InstanceID = request.instanceIdentityDocument
                    .flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) }
                    .flatMap { $0["instanceId"]?.stringValue }
                let instance = ContainerInstance(
                    containerInstanceArn: existing?.containerInstanceArn ?? context.arn("container-instance", "\(cluster.clusterName)/\(id)"),
                    ec2InstanceId: ec2InstanceID, version: (existing?.version ?? 0) + 1, versionInfo: request.versionInfo,
                    remainingResources: resources, registeredResources: resources, status: "ACTIVE", agentConnected: true,
                    runningTasksCount: 0, pendingTasksCount: 0, attributes: nil,
                    registeredAt: existing?.registeredAt ?? context.now, tags: nil
                )
                try db.saveContainerInstance(instance, cluster: cluster)
                for attribute in request.attributes ?? [] {
                    try db.putAttribute(name: attribute.name, value: attribute.value, targetID: id, cluster: cluster)
                }
                try db.putTags(request.tags ?? [], on: instance.containerInstanceArn)
                return try db.described(instance, cluster: cluster, includeTags: true)
            }
            context.logger.info("container instance registered", metadata: ["instance.arn": "\(instance.containerInstanceArn)"])
            return ContainerInstanceResponse(containerInstance: instance)
        },
        "DeregisterContainerInstance": ECSOperation { (request: DeregisterContainerInstanceRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var instance = try db.containerInstance(request.containerInstance, in: cluster), instance.status != "INACTIVE" else {
                    throw ECSError.invalidParameter("containerInstance: \(request.containerInstance.prefix(300)) was not found in the cluster.")
                }
                let live = try db.count(
                    "SELECT COUNT(*) FROM task WHERE cluster = ? AND containerInstanceId = ? AND lastStatus != 'STOPPED'",
                    [cluster.clusterName, instance.id])
                if live > 0, request.force != true {
                    throw ECSError.invalidParameter("Found running tasks on the instance.")
                }
                try db.execute(
                    sql: """
                        UPDATE task SET desiredStatus = 'STOPPED',
                            document = json_set(document, '$.desiredStatus', 'STOPPED', '$.stoppedReason', 'Container instance deregistered')
                        WHERE cluster = ? AND containerInstanceId = ? AND desiredStatus != 'STOPPED'
                        """,
                    arguments: [cluster.clusterName, instance.id])
                instance.status = "INACTIVE"
                instance.agentConnected = false
                instance.version += 1
                try db.saveContainerInstance(instance, cluster: cluster)
                return ContainerInstanceResponse(containerInstance: try db.described(instance, cluster: cluster))
            }
        },
        "ListContainerInstances": ECSOperation { (request: ListContainerInstancesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let query = try request.parsedFilter()
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                let statuses = request.status.map { [$0] } ?? ["ACTIVE", "DRAINING"]
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, arn FROM containerInstance WHERE cluster = ? AND status IN (?, ?) ORDER BY id",
                    arguments: [cluster.clusterName, statuses[0], statuses.last!])
                    .map { (id: $0["id"] as String, arn: $0["arn"] as String) }
                guard let query else { return rows }
                let matching = Set(try db.documents(
                    ContainerInstance.self, "SELECT document FROM containerInstance WHERE cluster = ? AND status IN (?, ?)",
                    [cluster.clusterName, statuses[0], statuses.last!])
                    .map { try db.described($0, cluster: cluster) }
                    .filter { query.matches($0.placementSnapshot, groups: []) }
                    .map(\.containerInstanceArn))
                return rows.filter { matching.contains($0.arn) }
            }
            let page = try Pagination.page(rows, key: \.id, nextToken: request.nextToken, limit: limit)
            return ListContainerInstancesResponse(containerInstanceArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "DescribeContainerInstances": ECSOperation { (request: DescribeContainerInstancesRequest, context) in
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = ContainerInstancesResponse(containerInstances: [], failures: [])
                for identifier in request.containerInstances {
                    if let instance = try db.containerInstance(identifier, in: cluster) {
                        response.containerInstances.append(try db.described(instance, cluster: cluster, includeTags: includeTags))
                    } else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "UpdateContainerInstancesState": ECSOperation { (request: UpdateContainerInstancesStateRequest, context) in
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = ContainerInstancesResponse(containerInstances: [], failures: [])
                for identifier in request.containerInstances {
                    guard var instance = try db.containerInstance(identifier, in: cluster), instance.status != "INACTIVE" else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                        continue
                    }
                    if instance.status != request.status {
                        instance.status = request.status
                        instance.version += 1
                        try db.saveContainerInstance(instance, cluster: cluster)
                    }
                    response.containerInstances.append(try db.described(instance, cluster: cluster))
                }
                return response
            }
        },
        "DiscoverPollEndpoint": ECSOperation { (request: DiscoverPollEndpointRequest, context) in
            if request.cluster != nil {
                _ = try await context.store.read { db in try db.activeCluster(request.cluster) }
            }
            return DiscoverPollEndpointResponse(
                endpoint: context.endpoint, telemetryEndpoint: context.endpoint, serviceConnectEndpoint: context.endpoint)
        },
    ]
}
