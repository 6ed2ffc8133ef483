import Logging
import Foundation
import ECSProtocol
import GRDB
import TaskDefinitions

// MARK: - Requests and responses

struct ServiceResponse: Encodable { var service: ECSService }

struct DescribeServicesResponse: Encodable {
    var services: [ECSService]
    var failures: [Failure]
}

struct ListServicesResponse: Encodable {
    var serviceArns: [String]
    var nextToken: String?
}

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
            message: "(service \(service)) was unable to place a task because no container instance met all of its requirements. Reason: \(reason). For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
        )
    }
}

// MARK: - Store access

extension Database {
    /// The service a request names in `cluster` (any status), or nil.
    func service(_ identifier: String, in cluster: Cluster) throws -> ECSService? {
        guard let name = ARN.lastComponent(of: identifier, kind: "service") else { return nil }
        return try document(ECSService.self, "SELECT document FROM service WHERE cluster = ? AND name = ?",
                            [cluster.clusterName, name])
    }

    /// A service task that failed to start (an image the host lacks, a container that could not be created) puts an
    /// event naming the task and the agent's reason in its service's log; the reconciler replaces the task as usual.
    func recordStartFailure(of task: ECSTask, cluster: Cluster, now: Date) throws {
        guard task.lastStatus == "STOPPED", task.stopCode == "TaskFailedToStart", let group = task.group,
              group.hasPrefix("service:"), var service = try service(String(group.dropFirst("service:".count)), in: cluster),
              let taskID = ARN.lastComponent(of: task.taskArn, kind: "task") else { return }
        let message = "(service \(service.serviceName)) (task \(taskID)) failed to start: \(task.stoppedReason ?? "no reason given")"
        service.events.insert(ServiceEvent(id: ServiceRules.eventID(), createdAt: now, message: message), at: 0)
        service.events = Array(service.events.prefix(ServiceRules.maxEvents))
        try saveService(service, cluster: cluster)
    }

    func saveService(_ service: ECSService, cluster: Cluster) throws {
        var stored = service
        stored.tags = nil
        try execute(
            sql: """
                INSERT INTO service (cluster, name, arn, status, document) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(cluster, name) DO UPDATE SET arn = excluded.arn, status = excluded.status, document = excluded.document
                """,
            arguments: [cluster.clusterName, service.serviceName, service.serviceArn, service.status, try Documents.encode(stored)]
        )
    }

    /// The service with its live task counts (and tags when asked), as DescribeServices shows it.
    ///
    /// Counts come from the tasks, never from stored numbers: `runningCount`/`pendingCount` are the service's tasks
    /// desired RUNNING by lastStatus; each deployment counts the tasks it started (`startedBy` is its id), and its
    /// `failedTasks` the ones that stopped failing (exited essential container, failed to start, unhealthy).
    /// INACTIVE deployments are kept in the store (the circuit breaker rolls back to them) but not shown, as ECS.
    func described(_ service: ECSService, cluster: Cluster, includeTags: Bool = false) throws -> ECSService {
        var service = service
        let rows = try Row.fetchAll(
            self,
            sql: """
                SELECT startedBy, json_extract(document, '$.taskDefinitionArn') AS taskDefinitionArn, desiredStatus, lastStatus,
                    json_extract(document, '$.stopCode') AS stopCode, json_extract(document, '$.healthStatus') AS healthStatus,
                    COUNT(*) AS n
                FROM task WHERE cluster = ? AND serviceName = ?
                GROUP BY 1, 2, 3, 4, 5, 6
                """,
            arguments: [cluster.clusterName, service.serviceName]
        )
        struct Tally { var running = 0, pending = 0, failed = 0 }
        var byDeployment: [String: Tally] = [:]
        var total = Tally()
        let primaryID = service.deployments.first { $0.status == "PRIMARY" }?.id
        for row in rows {
            let n: Int = row["n"]
            let lastStatus: String = row["lastStatus"]
            let desiredStatus: String = row["desiredStatus"]
            // Tasks started before deployments were recorded on tasks belong to the deployment of their definition.
            let key = (row["startedBy"] as String?).flatMap { id in service.deployments.contains { $0.id == id } ? id : nil }
                ?? service.deployments.first { $0.taskDefinition == (row["taskDefinitionArn"] as String?) }?.id ?? primaryID ?? ""
            var tally = byDeployment[key] ?? Tally()
            if desiredStatus == "RUNNING", lastStatus == "RUNNING" { tally.running += n; total.running += n }
            if desiredStatus == "RUNNING", TaskStates.pending.contains(lastStatus) { tally.pending += n; total.pending += n }
            if lastStatus == "STOPPED" {
                let stopCode = row["stopCode"] as String?
                if stopCode == "EssentialContainerExited" || stopCode == "TaskFailedToStart" || (row["healthStatus"] as String?) == "UNHEALTHY" {
                    tally.failed += n
                }
            }
            byDeployment[key] = tally
        }
        service.runningCount = total.running
        service.pendingCount = total.pending
        if service.schedulingStrategy == "DAEMON", service.status == "ACTIVE" {
            // A DAEMON service wants one task per instance that takes tasks, as the reconciler plans it.
            service.desiredCount = try count(
                "SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status = 'ACTIVE' AND json_extract(document, '$.agentConnected')",
                [cluster.clusterName])
        }
        service.deployments.removeAll { $0.status == "INACTIVE" }
        for index in service.deployments.indices {
            let tally = byDeployment[service.deployments[index].id] ?? Tally()
            service.deployments[index].runningCount = tally.running
            service.deployments[index].pendingCount = tally.pending
            service.deployments[index].failedTasks = tally.failed
            service.deployments[index].desiredCount = service.deployments[index].status == "PRIMARY"
                ? service.desiredCount : tally.running + tally.pending
        }
        service.tags = includeTags ? try tags(of: service.serviceArn) : nil
        return service
    }

    func activeInstanceCount(in cluster: Cluster) throws -> Int {
        try count("SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status = 'ACTIVE'", [cluster.clusterName])
    }

    /// A task definition a service or task may use: it must exist and be ACTIVE.
    func usableTaskDefinition(_ text: String) throws -> TaskDefinition {
        let reference = try TaskDefinitionReference(text)
        guard let definition = try taskDefinition(reference) else {
            throw ECSError.client("TaskDefinition not found.")
        }
        guard definition.status == "ACTIVE" else { throw ECSError.client("TaskDefinition is inactive.") }
        return definition
    }
}

// MARK: - Operations

extension ECSAPI {
    static let serviceOperations: [String: ECSOperation] = [
        "CreateService": ECSOperation { (request: CreateServiceRequest, context) in
            let strategy = request.strategy
            let launchType = request.launchTypeOrDefault
            let taskDefinitionText = try request.requiredTaskDefinition()
            let service = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                if let existing = try db.service(request.serviceName, in: cluster), existing.status != "INACTIVE" {
                    throw ECSError.invalidParameter("Creation of service was not idempotent.")
                }
                let definition = try db.usableTaskDefinition(taskDefinitionText)
                try db.checkLoadBalancers(request.loadBalancers, taskDefinition: definition)
                let desiredCount = request.desiredCount ?? 0
                var generator = SystemRandomNumberGenerator()
                let deployment = Deployment(
                    id: ServiceRules.deploymentID(&generator), status: "PRIMARY",
                    taskDefinition: definition.taskDefinitionArn ?? "", desiredCount: desiredCount,
                    pendingCount: 0, runningCount: 0, failedTasks: 0, createdAt: context.now, updatedAt: context.now,
                    launchType: launchType, rolloutState: "IN_PROGRESS", rolloutStateReason: nil
                )
                var events: [ServiceEvent] = []
                if desiredCount > 0, try db.activeInstanceCount(in: cluster) == 0 {
                    events.append(ServiceRules.unableToPlaceEvent(
                        service: request.serviceName, reason: "No Container Instances were found in your cluster", at: context.now))
                }
                var deploymentConfiguration = request.deploymentConfiguration ?? .defaults
                deploymentConfiguration.maximumPercent = deploymentConfiguration.maximumPercent ?? 200
                deploymentConfiguration.minimumHealthyPercent = deploymentConfiguration.minimumHealthyPercent ?? 100
                let service = ECSService(
                    serviceArn: context.arn("service", "\(cluster.clusterName)/\(request.serviceName)"),
                    serviceName: request.serviceName, clusterArn: cluster.clusterArn,
                    loadBalancers: request.loadBalancers ?? [], serviceRegistries: request.serviceRegistries ?? [],
                    status: "ACTIVE", desiredCount: desiredCount, runningCount: 0, pendingCount: 0,
                    launchType: launchType, capacityProviderStrategy: request.capacityProviderStrategy,
                    platformVersion: request.platformVersion, taskDefinition: definition.taskDefinitionArn ?? "",
                    deploymentConfiguration: deploymentConfiguration, deployments: [deployment], roleArn: request.role,
                    events: events, createdAt: context.now,
                    placementConstraints: request.placementConstraints ?? [], placementStrategy: request.placementStrategy ?? [],
                    networkConfiguration: request.networkConfiguration,
                    healthCheckGracePeriodSeconds: request.healthCheckGracePeriodSeconds, schedulingStrategy: strategy,
                    deploymentController: request.deploymentController ?? .object(["type": .string("ECS")]),
                    tags: nil, createdBy: "arn:aws:iam::\(context.accountID):root",
                    enableECSManagedTags: request.enableECSManagedTags ?? false, propagateTags: request.propagateTags ?? "NONE",
                    enableExecuteCommand: request.enableExecuteCommand ?? false
                )
                try db.saveService(service, cluster: cluster)
                try db.execute(sql: "DELETE FROM tag WHERE resourceArn = ?", arguments: [service.serviceArn])
                try db.putTags(request.tags ?? [], on: service.serviceArn)
                return try db.described(service, cluster: cluster, includeTags: true)
            }
            context.logger.info("service created", metadata: ["service": "\(service.serviceName)", "cluster": "\(service.clusterArn)"])
            return ServiceResponse(service: service)
        },
        "DescribeServices": ECSOperation { (request: DescribeServicesRequest, context) in
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = DescribeServicesResponse(services: [], failures: [])
                for identifier in request.services {
                    if let service = try db.service(identifier, in: cluster) {
                        response.services.append(try db.described(service, cluster: cluster, includeTags: includeTags))
                    } else {
                        let arn = identifier.hasPrefix("arn:") ? identifier : context.arn("service", "\(cluster.clusterName)/\(identifier)")
                        response.failures.append(Failure(arn: arn, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "ListServices": ECSOperation { (request: ListServicesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 10, max: 100)
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                return try db.documents(
                    ECSService.self, "SELECT document FROM service WHERE cluster = ? AND status != 'INACTIVE' ORDER BY name",
                    [cluster.clusterName]
                ).filter { service in
                    (request.launchType == nil || service.launchType == request.launchType)
                        && (request.schedulingStrategy == nil || service.schedulingStrategy == request.schedulingStrategy)
                }
            }
            let page = try Pagination.page(rows, key: \.serviceName, nextToken: request.nextToken, limit: limit)
            return ListServicesResponse(serviceArns: page.items.map(\.serviceArn), nextToken: page.nextToken)
        },
        "UpdateService": ECSOperation { (request: UpdateServiceRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var service = try db.service(request.service, in: cluster) else { throw ECSError.serviceNotFound }
                guard service.status == "ACTIVE" else { throw ECSError.serviceNotActive }
                if let desiredCount = request.desiredCount {
                    guard service.schedulingStrategy != "DAEMON" else {
                        throw ECSError.invalidParameter("desiredCount: a DAEMON service takes no desiredCount.")
                    }
                    service.desiredCount = desiredCount
                }
                var newTaskDefinition: String?
                if let text = request.taskDefinition {
                    let definition = try db.usableTaskDefinition(text)
                    if definition.taskDefinitionArn != service.taskDefinition { newTaskDefinition = definition.taskDefinitionArn }
                }
                if newTaskDefinition != nil || request.forceNewDeployment == true {
                    service.taskDefinition = newTaskDefinition ?? service.taskDefinition
                    for index in service.deployments.indices where service.deployments[index].status == "PRIMARY" {
                        service.deployments[index].status = "ACTIVE"
                        service.deployments[index].updatedAt = context.now
                    }
                    var generator = SystemRandomNumberGenerator()
                    service.deployments.insert(Deployment(
                        id: ServiceRules.deploymentID(&generator), status: "PRIMARY", taskDefinition: service.taskDefinition,
                        desiredCount: service.desiredCount, pendingCount: 0, runningCount: 0, failedTasks: 0,
                        createdAt: context.now, updatedAt: context.now, launchType: service.launchType,
                        rolloutState: "IN_PROGRESS", rolloutStateReason: nil
                    ), at: 0)
                } else if let primary = service.deployments.firstIndex(where: { $0.status == "PRIMARY" }) {
                    service.deployments[primary].desiredCount = service.desiredCount
                    service.deployments[primary].updatedAt = context.now
                }
                if let configuration = request.deploymentConfiguration {
                    var merged = service.deploymentConfiguration ?? .defaults
                    merged.maximumPercent = configuration.maximumPercent ?? merged.maximumPercent
                    merged.minimumHealthyPercent = configuration.minimumHealthyPercent ?? merged.minimumHealthyPercent
                    merged.deploymentCircuitBreaker = configuration.deploymentCircuitBreaker ?? merged.deploymentCircuitBreaker
                    merged.alarms = configuration.alarms ?? merged.alarms
                    service.deploymentConfiguration = merged
                }
                service.placementConstraints = request.placementConstraints ?? service.placementConstraints
                service.placementStrategy = request.placementStrategy ?? service.placementStrategy
                service.networkConfiguration = request.networkConfiguration ?? service.networkConfiguration
                service.healthCheckGracePeriodSeconds = request.healthCheckGracePeriodSeconds ?? service.healthCheckGracePeriodSeconds
                service.enableExecuteCommand = request.enableExecuteCommand ?? service.enableExecuteCommand
                service.enableECSManagedTags = request.enableECSManagedTags ?? service.enableECSManagedTags
                service.loadBalancers = request.loadBalancers ?? service.loadBalancers
                try db.checkLoadBalancers(service.loadBalancers, taskDefinitionArn: service.taskDefinition)
                service.propagateTags = request.propagateTags ?? service.propagateTags
                service.serviceRegistries = request.serviceRegistries ?? service.serviceRegistries
                service.capacityProviderStrategy = request.capacityProviderStrategy ?? service.capacityProviderStrategy
                service.platformVersion = request.platformVersion ?? service.platformVersion
                if service.desiredCount > 0, try db.activeInstanceCount(in: cluster) == 0 {
                    service.events.insert(ServiceRules.unableToPlaceEvent(
                        service: service.serviceName, reason: "No Container Instances were found in your cluster", at: context.now), at: 0)
                    service.events = Array(service.events.prefix(ServiceRules.maxEvents))
                }
                try db.saveService(service, cluster: cluster)
                return ServiceResponse(service: try db.described(service, cluster: cluster))
            }
        },
        "DeleteService": ECSOperation { (request: DeleteServiceRequest, context) in
            let (response, clusterName, deregistering) = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var service = try db.service(request.service, in: cluster) else { throw ECSError.serviceNotFound }
                guard service.status == "ACTIVE" else { throw ECSError.serviceNotActive }
                if service.desiredCount > 0, request.force != true {
                    throw ECSError.invalidParameter("The service cannot be stopped while it is scaled above 0.")
                }
                service.desiredCount = 0
                for index in service.deployments.indices { service.deployments[index].desiredCount = 0 }
                let tasks = try db.documents(ECSTask.self, "SELECT document FROM task WHERE cluster = ? AND serviceName = ? AND desiredStatus != 'STOPPED'",
                                             [cluster.clusterName, service.serviceName])
                var deregistering: [(task: String, delay: TimeInterval)] = []
                for task in tasks {
                    let outcome = try db.stopTask(task, in: cluster, stopCode: "ServiceSchedulerInitiated", reason: "Service deleted", now: context.now)
                    if case .deregistering(let delay) = outcome { deregistering.append((task.taskArn, delay)) }
                }
                let live = try db.count("SELECT COUNT(*) FROM task WHERE cluster = ? AND serviceName = ? AND lastStatus != 'STOPPED'",
                                        [cluster.clusterName, service.serviceName])
                // ECS answers DRAINING; with no task left to stop the service is INACTIVE at once.
                service.status = live == 0 ? "INACTIVE" : "DRAINING"
                try db.saveService(service, cluster: cluster)
                var answer = try db.described(service, cluster: cluster)
                answer.status = "DRAINING"
                return (ServiceResponse(service: answer), cluster.clusterName, deregistering)
            }
            for (task, delay) in deregistering {
                TaskDeregistrationLog.started(cluster: clusterName, service: response.service.serviceName, task: task, delay: delay,
                                              logger: context.logger)
            }
            return response
        },
    ]
}
