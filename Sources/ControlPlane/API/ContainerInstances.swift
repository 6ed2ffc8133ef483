import ECSVocabulary
import Foundation
import ECSProtocol
import GRDB
import Logging
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
            status: status == .draining ? .draining : .active, agentConnected: agentConnected,
            agentVersion: versionInfo?["agentVersion"]?.stringValue, registeredAt: registeredAt,
            registeredCPU: cpu, registeredMemoryMiB: memory, attributes: attributes,
            runningTasksCount: runningTasksCount)
    }
}

// MARK: - Rules over the store

extension Database {
    /// The instance with its live remaining resources, task counts and attributes (and tags when asked).
    func described(
        _ instance: ContainerInstance, cluster: Cluster, includeTags: Bool = false
    ) throws -> ContainerInstance {
        var instance = instance
        let tasks = try tasksOccupying(instanceID: instance.id, cluster: cluster.clusterName)
        var cpu = instance.registeredResources.first { $0.name == "CPU" }?.integerValue ?? 0
        var memory = instance.registeredResources.first { $0.name == "MEMORY" }?.integerValue ?? 0
        var ports = Set(instance.registeredResources.filter { $0.name == "PORTS" }.flatMap { $0.stringSetValue ?? [] })
        for task in tasks {
            cpu -= Int(task.cpu ?? "") ?? 0
            memory -= Int(task.memory ?? "") ?? 0
            if let reference = try? TaskDefinitionReference(task.taskDefinitionArn),
                let definition = try taskDefinition(reference)
            {
                ports.formUnion(definition.staticHostPorts.map { String($0.port) })
            }
        }
        instance.remainingResources = [
            Resource(name: "CPU", type: "INTEGER", integerValue: cpu),
            Resource(name: "MEMORY", type: "INTEGER", integerValue: memory),
            Resource(
                name: "PORTS", type: "STRINGSET", stringSetValue: ports.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }),
        ]
        instance.runningTasksCount = tasks.filter { $0.lastStatus == .running }.count
        instance.pendingTasksCount = tasks.filter(\.lastStatus.isPending).count
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
    static let containerInstanceOperations: [String: OperationHandler] = [
        "RegisterContainerInstance": OperationHandler { (request: RegisterContainerInstanceRequest, context) in
            let resources = request.totalResources ?? []
            let instance = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let existing = try request.containerInstanceArn.flatMap { try db.containerInstance($0, in: cluster) }
                let id = existing?.id ?? TaskRules.newID()
                let ec2InstanceID = request.instanceIdentityDocument
                    .flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) }
                    .flatMap { $0["instanceId"]?.stringValue }
                let instance = ContainerInstance(
                    containerInstanceArn: existing?.containerInstanceArn
                        ?? context.arn("container-instance", "\(cluster.clusterName)/\(id)"),
                    ec2InstanceId: ec2InstanceID, version: (existing?.version ?? 0) + 1,
                    versionInfo: request.versionInfo,
                    remainingResources: resources, registeredResources: resources, status: .active,
                    agentConnected: true,
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
            context.logger.info(
                "container instance registered", metadata: ["instance.arn": "\(instance.containerInstanceArn)"])
            return ContainerInstanceResponse(containerInstance: instance)
        },
        "DeregisterContainerInstance": OperationHandler { (request: DeregisterContainerInstanceRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var instance = try db.containerInstance(request.containerInstance, in: cluster),
                    instance.status != .inactive
                else {
                    throw ECSError.invalidParameter(
                        "containerInstance: \(request.containerInstance.prefix(300)) was not found in the cluster.")
                }
                let live = try db.liveTaskCount(cluster: cluster.clusterName, instanceID: instance.id)
                if live > 0, request.force != true {
                    throw ECSError.invalidParameter("Found running tasks on the instance.")
                }
                try db.stopTasks(onInstance: instance.id, cluster: cluster.clusterName)
                instance.status = .inactive
                instance.agentConnected = false
                instance.version += 1
                try db.saveContainerInstance(instance, cluster: cluster)
                return ContainerInstanceResponse(containerInstance: try db.described(instance, cluster: cluster))
            }
        },
        "ListContainerInstances": OperationHandler { (request: ListContainerInstancesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let query = try request.parsedFilter()
            let filterStatus = request.statusFilter
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                let statuses = filterStatus.map { [$0] } ?? ContainerInstanceStatus.registered
                let rows = try db.instanceIdentifiers(cluster: cluster.clusterName, statuses: statuses)
                guard let query else { return rows }
                let matching = Set(
                    try db.instances(cluster: cluster.clusterName, statuses: statuses)
                        .map { try db.described($0, cluster: cluster) }
                        .filter { query.matches($0.placementSnapshot, groups: []) }
                        .map(\.containerInstanceArn))
                return rows.filter { matching.contains($0.arn) }
            }
            let page = try Pagination.page(rows, key: \.id, nextToken: request.nextToken, limit: limit)
            return ListContainerInstancesResponse(
                containerInstanceArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "DescribeContainerInstances": OperationHandler { (request: DescribeContainerInstancesRequest, context) in
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = ContainerInstancesResponse(containerInstances: [], failures: [])
                for identifier in request.containerInstances {
                    if let instance = try db.containerInstance(identifier, in: cluster) {
                        response.containerInstances.append(
                            try db.described(instance, cluster: cluster, includeTags: includeTags))
                    } else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "UpdateContainerInstancesState": OperationHandler { (request: UpdateContainerInstancesStateRequest, context) in
            let status = request.newStatus
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = ContainerInstancesResponse(containerInstances: [], failures: [])
                for identifier in request.containerInstances {
                    guard var instance = try db.containerInstance(identifier, in: cluster), instance.status != .inactive
                    else {
                        response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                        continue
                    }
                    if instance.status != status {
                        instance.status = status
                        instance.version += 1
                        try db.saveContainerInstance(instance, cluster: cluster)
                    }
                    response.containerInstances.append(try db.described(instance, cluster: cluster))
                }
                return response
            }
        },
        "DiscoverPollEndpoint": OperationHandler { (request: DiscoverPollEndpointRequest, context) in
            if request.cluster != nil {
                _ = try await context.store.read { db in try db.activeCluster(request.cluster) }
            }
            return DiscoverPollEndpointResponse(
                endpoint: context.endpoint, telemetryEndpoint: context.endpoint,
                serviceConnectEndpoint: context.endpoint)
        },
    ]
}
