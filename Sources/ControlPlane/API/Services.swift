import ECSVocabulary
import Foundation
import GRDB
import Logging
import TaskDefinitions

// MARK: - Requests and responses

struct CreateServiceRequest: Decodable {
    var cluster: String?
    var serviceName: String
    var taskDefinition: String?
    var loadBalancers: [JSONValue]?
    var serviceRegistries: [JSONValue]?
    var desiredCount: Int?
    var clientToken: String?
    var launchType: String?
    var capacityProviderStrategy: [JSONValue]?
    var platformVersion: String?
    var role: String?
    var deploymentConfiguration: DeploymentConfiguration?
    var placementConstraints: [JSONValue]?
    var placementStrategy: [JSONValue]?
    var networkConfiguration: JSONValue?
    var healthCheckGracePeriodSeconds: Int?
    var schedulingStrategy: String?
    var deploymentController: JSONValue?
    var tags: [ResourceTag]?
    var enableECSManagedTags: Bool?
    var propagateTags: String?
    var enableExecuteCommand: Bool?
}

struct ServiceResponse: Encodable { var service: ECSService }

struct DescribeServicesRequest: Decodable {
    var cluster: String?
    var services: [String]
    var include: [String]?
}

struct DescribeServicesResponse: Encodable {
    var services: [ECSService]
    var failures: [Failure]
}

struct ListServicesRequest: Decodable {
    var cluster: String?
    var nextToken: String?
    var maxResults: Int?
    var launchType: String?
    var schedulingStrategy: String?
}

struct ListServicesResponse: Encodable {
    var serviceArns: [String]
    var nextToken: String?
}

struct UpdateServiceRequest: Decodable {
    var cluster: String?
    var service: String
    var desiredCount: Int?
    var taskDefinition: String?
    var capacityProviderStrategy: [JSONValue]?
    var deploymentConfiguration: DeploymentConfiguration?
    var networkConfiguration: JSONValue?
    var placementConstraints: [JSONValue]?
    var placementStrategy: [JSONValue]?
    var platformVersion: String?
    var forceNewDeployment: Bool?
    var healthCheckGracePeriodSeconds: Int?
    var enableExecuteCommand: Bool?
    var enableECSManagedTags: Bool?
    var loadBalancers: [JSONValue]?
    var propagateTags: String?
    var serviceRegistries: [JSONValue]?
}

struct DeleteServiceRequest: Decodable {
    var cluster: String?
    var service: String
    var force: Bool?
}

// MARK: - Rules

enum ServiceRules {
    /// ECS's quota of tasks per service.
    static let maxDesiredCount = 5000
    /// ECS keeps a service's last 100 events.
    static let maxEvents = 100

    static func checkDesiredCount(_ count: Int?) throws(ECSError) {
        guard let count else { return }
        guard (0...maxDesiredCount).contains(count) else {
            throw .invalidParameter("desiredCount: must be between 0 and \(maxDesiredCount), got \(count).")
        }
    }

    static func checkDeploymentConfiguration(_ configuration: DeploymentConfiguration?) throws(ECSError) {
        guard let configuration else { return }
        if let minimum = configuration.minimumHealthyPercent, !(0...100).contains(minimum) {
            throw .invalidParameter("deploymentConfiguration.minimumHealthyPercent: must be between 0 and 100, got \(minimum).")
        }
        if let maximum = configuration.maximumPercent, !(100...200).contains(maximum) {
            throw .invalidParameter("deploymentConfiguration.maximumPercent: must be between 100 and 200, got \(maximum).")
        }
    }

    static func checkGracePeriod(_ seconds: Int?) throws(ECSError) {
        if let seconds, !(0...2_147_483_647).contains(seconds) {
            throw .invalidParameter("healthCheckGracePeriodSeconds: must be between 0 and 2147483647, got \(seconds).")
        }
    }

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
        guard task.lastStatus == .stopped, task.stopCode == StopCode.taskFailedToStart, let group = task.group,
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
        let primaryID = service.deployments.first { $0.status == .primary }?.id
        for row in rows {
            let n: Int = row["n"]
            let lastStatus = TaskStatus(rawValue: row["lastStatus"])
            let desiredStatus = TaskStatus(rawValue: row["desiredStatus"])
            // Tasks started before deployments were recorded on tasks belong to the deployment of their definition.
            let key = (row["startedBy"] as String?).flatMap { id in service.deployments.contains { $0.id == id } ? id : nil }
                ?? service.deployments.first { $0.taskDefinition == (row["taskDefinitionArn"] as String?) }?.id ?? primaryID ?? ""
            var tally = byDeployment[key] ?? Tally()
            if desiredStatus == .running, lastStatus == .running { tally.running += n; total.running += n }
            if desiredStatus == .running, lastStatus?.isPending == true { tally.pending += n; total.pending += n }
            if lastStatus == .stopped {
                let stopCode = (row["stopCode"] as String?).flatMap(StopCode.init(rawValue:))
                let healthStatus = (row["healthStatus"] as String?).flatMap(HealthStatus.init(rawValue:))
                if stopCode == .essentialContainerExited || stopCode == .taskFailedToStart || healthStatus == .unhealthy {
                    tally.failed += n
                }
            }
            byDeployment[key] = tally
        }
        service.runningCount = total.running
        service.pendingCount = total.pending
        if service.schedulingStrategy == "DAEMON", service.status == .active {
            // A DAEMON service wants one task per instance that takes tasks, as the reconciler plans it.
            service.desiredCount = try count(
                "SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status = ? AND json_extract(document, '$.agentConnected')",
                [cluster.clusterName, ContainerInstanceStatus.active])
        }
        service.deployments.removeAll { $0.status == .inactive }
        for index in service.deployments.indices {
            let tally = byDeployment[service.deployments[index].id] ?? Tally()
            service.deployments[index].runningCount = tally.running
            service.deployments[index].pendingCount = tally.pending
            service.deployments[index].failedTasks = tally.failed
            service.deployments[index].desiredCount = service.deployments[index].status == .primary
                ? service.desiredCount : tally.running + tally.pending
        }
        service.tags = includeTags ? try tags(of: service.serviceArn) : nil
        return service
    }

    func activeInstanceCount(in cluster: Cluster) throws -> Int {
        try count("SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status = ?",
                  [cluster.clusterName, ContainerInstanceStatus.active])
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

// MARK: - Operations

extension ECSAPI {
    static let serviceOperations: [String: ECSOperation] = [
        "CreateService": ECSOperation { (request: CreateServiceRequest, context) in
            guard (1...255).contains(request.serviceName.count), request.serviceName.allSatisfy(Names.isNameCharacter) else {
                throw ECSError.invalidParameter("serviceName: must be 1 to 255 letters, digits, hyphens and underscores.")
            }
            try ServiceRules.checkDesiredCount(request.desiredCount)
            try ServiceRules.checkDeploymentConfiguration(request.deploymentConfiguration)
            try ServiceRules.checkGracePeriod(request.healthCheckGracePeriodSeconds)
            try PlacementRules.check(constraints: request.placementConstraints, strategy: request.placementStrategy)
            try TagRules.check(request.tags)
            let strategy = request.schedulingStrategy ?? "REPLICA"
            guard ["REPLICA", "DAEMON"].contains(strategy) else {
                throw ECSError.invalidParameter("schedulingStrategy: must be REPLICA or DAEMON.")
            }
            if strategy == "DAEMON", request.desiredCount != nil {
                throw ECSError.invalidParameter("desiredCount: a DAEMON service takes no desiredCount.")
            }
            let launchType = request.launchType ?? "EC2"
            guard ["EC2", "EXTERNAL"].contains(launchType) else {  // not an ECS status: launch types
                throw ECSError.invalidParameter("launchType: must be EC2 or EXTERNAL; Flotilla runs tasks on its own hosts.")
            }
            guard let taskDefinitionText = request.taskDefinition else {
                throw ECSError.invalidParameter("taskDefinition: is required.")
            }
            let service = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                if let existing = try db.service(request.serviceName, in: cluster), existing.status != .inactive {
                    throw ECSError.invalidParameter("Creation of service was not idempotent.")
                }
                let definition = try db.usableTaskDefinition(taskDefinitionText)
                try db.checkLoadBalancers(request.loadBalancers, taskDefinition: definition)
                let desiredCount = request.desiredCount ?? 0
                var generator = SystemRandomNumberGenerator()
                let deployment = Deployment(
                    id: ServiceRules.deploymentID(&generator), status: .primary,
                    taskDefinition: definition.taskDefinitionArn ?? "", desiredCount: desiredCount,
                    pendingCount: 0, runningCount: 0, failedTasks: 0, createdAt: context.now, updatedAt: context.now,
                    launchType: launchType, rolloutState: .inProgress, rolloutStateReason: nil
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
                    status: .active, desiredCount: desiredCount, runningCount: 0, pendingCount: 0,
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
            guard (1...10).contains(request.services.count) else {
                throw ECSError.invalidParameter("services: give 1 to 10 services, got \(request.services.count).")
            }
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
                    ECSService.self, "SELECT document FROM service WHERE cluster = ? AND status != ? ORDER BY name",
                    [cluster.clusterName, ServiceStatus.inactive]
                ).filter { service in
                    (request.launchType == nil || service.launchType == request.launchType)
                        && (request.schedulingStrategy == nil || service.schedulingStrategy == request.schedulingStrategy)
                }
            }
            let page = try Pagination.page(rows, key: \.serviceName, nextToken: request.nextToken, limit: limit)
            return ListServicesResponse(serviceArns: page.items.map(\.serviceArn), nextToken: page.nextToken)
        },
        "UpdateService": ECSOperation { (request: UpdateServiceRequest, context) in
            try ServiceRules.checkDesiredCount(request.desiredCount)
            try ServiceRules.checkDeploymentConfiguration(request.deploymentConfiguration)
            try ServiceRules.checkGracePeriod(request.healthCheckGracePeriodSeconds)
            try PlacementRules.check(constraints: request.placementConstraints, strategy: request.placementStrategy)
            return try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var service = try db.service(request.service, in: cluster) else { throw ECSError.serviceNotFound }
                guard service.status == .active else { throw ECSError.serviceNotActive }
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
                    for index in service.deployments.indices where service.deployments[index].status == .primary {
                        service.deployments[index].status = .active
                        service.deployments[index].updatedAt = context.now
                    }
                    var generator = SystemRandomNumberGenerator()
                    service.deployments.insert(Deployment(
                        id: ServiceRules.deploymentID(&generator), status: .primary, taskDefinition: service.taskDefinition,
                        desiredCount: service.desiredCount, pendingCount: 0, runningCount: 0, failedTasks: 0,
                        createdAt: context.now, updatedAt: context.now, launchType: service.launchType,
                        rolloutState: .inProgress, rolloutStateReason: nil
                    ), at: 0)
                } else if let primary = service.deployments.firstIndex(where: { $0.status == .primary }) {
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
                guard service.status == .active else { throw ECSError.serviceNotActive }
                if service.desiredCount > 0, request.force != true {
                    throw ECSError.invalidParameter("The service cannot be stopped while it is scaled above 0.")
                }
                service.desiredCount = 0
                for index in service.deployments.indices { service.deployments[index].desiredCount = 0 }
                let tasks = try db.documents(ECSTask.self, "SELECT document FROM task WHERE cluster = ? AND serviceName = ? AND desiredStatus != ?",
                                             [cluster.clusterName, service.serviceName, TaskStatus.stopped])
                var deregistering: [(task: String, delay: TimeInterval)] = []
                for task in tasks {
                    let outcome = try db.stopTask(task, in: cluster, stopCode: .serviceSchedulerInitiated, reason: "Service deleted", now: context.now)
                    if case .deregistering(let delay) = outcome { deregistering.append((task.taskArn, delay)) }
                }
                let live = try db.count("SELECT COUNT(*) FROM task WHERE cluster = ? AND serviceName = ? AND lastStatus != ?",
                                        [cluster.clusterName, service.serviceName, TaskStatus.stopped])
                // ECS answers DRAINING; with no task left to stop the service is INACTIVE at once.
                service.status = live == 0 ? .inactive : .draining
                try db.saveService(service, cluster: cluster)
                var answer = try db.described(service, cluster: cluster)
                answer.status = .draining
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
