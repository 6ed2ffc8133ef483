import ECSVocabulary
import Foundation
import ECSProtocol
import Logging
import TaskDefinitions

// MARK: - Operations

extension ECSAPI {
    static let serviceOperations: [String: OperationHandler] = [
        "CreateService": OperationHandler { (request: CreateServiceRequest, context) in
            let strategy = request.strategy
            let launchType = request.launchTypeOrDefault
            let taskDefinitionText = try request.requiredTaskDefinition()
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
                    events.append(
                        ServiceRules.unableToPlaceEvent(
                            service: request.serviceName, reason: "No Container Instances were found in your cluster",
                            at: context.now))
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
                    placementConstraints: request.placementConstraints ?? [],
                    placementStrategy: request.placementStrategy ?? [],
                    networkConfiguration: request.networkConfiguration,
                    healthCheckGracePeriodSeconds: request.healthCheckGracePeriodSeconds, schedulingStrategy: strategy,
                    deploymentController: request.deploymentController ?? .object(["type": .string("ECS")]),
                    tags: nil, createdBy: "arn:aws:iam::\(context.accountID):root",
                    enableECSManagedTags: request.enableECSManagedTags ?? false,
                    propagateTags: request.propagateTags ?? "NONE",
                    enableExecuteCommand: request.enableExecuteCommand ?? false
                )
                try db.saveService(service, cluster: cluster)
                try db.removeTags(of: service.serviceArn)
                try db.putTags(request.tags ?? [], on: service.serviceArn)
                return try db.described(service, cluster: cluster, includeTags: true)
            }
            context.logger.info(
                "service created", metadata: ["service": "\(service.serviceName)", "cluster": "\(service.clusterArn)"])
            return ServiceResponse(service: service)
        },
        "DescribeServices": OperationHandler { (request: DescribeServicesRequest, context) in
            let includeTags = request.include?.contains("TAGS") ?? false
            return try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var response = DescribeServicesResponse(services: [], failures: [])
                for identifier in request.services {
                    if let service = try db.service(identifier, in: cluster) {
                        response.services.append(try db.described(service, cluster: cluster, includeTags: includeTags))
                    } else {
                        let arn =
                            identifier.hasPrefix("arn:")
                            ? identifier : context.arn("service", "\(cluster.clusterName)/\(identifier)")
                        response.failures.append(Failure(arn: arn, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "ListServices": OperationHandler { (request: ListServicesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 10, max: 100)
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                return try db.services(cluster: cluster.clusterName, statuses: [.active, .draining]).filter { service in
                    (request.launchType == nil || service.launchType == request.launchType)
                        && (request.schedulingStrategy == nil
                            || service.schedulingStrategy == request.schedulingStrategy)
                }
            }
            let page = try Pagination.page(rows, key: \.serviceName, nextToken: request.nextToken, limit: limit)
            return ListServicesResponse(serviceArns: page.items.map(\.serviceArn), nextToken: page.nextToken)
        },
        "UpdateService": OperationHandler { (request: UpdateServiceRequest, context) in
            try await context.store.write { db in
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
                    if definition.taskDefinitionArn != service.taskDefinition {
                        newTaskDefinition = definition.taskDefinitionArn
                    }
                }
                if newTaskDefinition != nil || request.forceNewDeployment == true {
                    service.taskDefinition = newTaskDefinition ?? service.taskDefinition
                    for index in service.deployments.indices where service.deployments[index].status == .primary {
                        service.deployments[index].status = .active
                        service.deployments[index].updatedAt = context.now
                    }
                    var generator = SystemRandomNumberGenerator()
                    service.deployments.insert(
                        Deployment(
                            id: ServiceRules.deploymentID(&generator), status: .primary,
                            taskDefinition: service.taskDefinition,
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
                    merged.deploymentCircuitBreaker =
                        configuration.deploymentCircuitBreaker ?? merged.deploymentCircuitBreaker
                    merged.alarms = configuration.alarms ?? merged.alarms
                    service.deploymentConfiguration = merged
                }
                service.placementConstraints = request.placementConstraints ?? service.placementConstraints
                service.placementStrategy = request.placementStrategy ?? service.placementStrategy
                service.networkConfiguration = request.networkConfiguration ?? service.networkConfiguration
                service.healthCheckGracePeriodSeconds =
                    request.healthCheckGracePeriodSeconds ?? service.healthCheckGracePeriodSeconds
                service.enableExecuteCommand = request.enableExecuteCommand ?? service.enableExecuteCommand
                service.enableECSManagedTags = request.enableECSManagedTags ?? service.enableECSManagedTags
                service.loadBalancers = request.loadBalancers ?? service.loadBalancers
                try db.checkLoadBalancers(service.loadBalancers, taskDefinitionArn: service.taskDefinition)
                service.propagateTags = request.propagateTags ?? service.propagateTags
                service.serviceRegistries = request.serviceRegistries ?? service.serviceRegistries
                service.capacityProviderStrategy = request.capacityProviderStrategy ?? service.capacityProviderStrategy
                service.platformVersion = request.platformVersion ?? service.platformVersion
                if service.desiredCount > 0, try db.activeInstanceCount(in: cluster) == 0 {
                    service.events.insert(
                        ServiceRules.unableToPlaceEvent(
                            service: service.serviceName, reason: "No Container Instances were found in your cluster",
                            at: context.now), at: 0)
                    service.events = Array(service.events.prefix(ServiceRules.maxEvents))
                }
                try db.saveService(service, cluster: cluster)
                return ServiceResponse(service: try db.described(service, cluster: cluster))
            }
        },
        "DeleteService": OperationHandler { (request: DeleteServiceRequest, context) in
            let (response, clusterName, deregistering) = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard var service = try db.service(request.service, in: cluster) else { throw ECSError.serviceNotFound }
                guard service.status == .active else { throw ECSError.serviceNotActive }
                if service.desiredCount > 0, request.force != true {
                    throw ECSError.invalidParameter("The service cannot be stopped while it is scaled above 0.")
                }
                service.desiredCount = 0
                for index in service.deployments.indices { service.deployments[index].desiredCount = 0 }
                let tasks = try db.tasksNotDesiredStopped(cluster: cluster.clusterName, service: service.serviceName)
                var deregistering: [(task: String, delay: TimeInterval)] = []
                for task in tasks {
                    let outcome = try db.stopTask(
                        task, in: cluster, stopCode: .serviceSchedulerInitiated, reason: "Service deleted",
                        now: context.now)
                    if case .deregistering(let delay) = outcome { deregistering.append((task.taskArn, delay)) }
                }
                let live = try db.liveTaskCount(cluster: cluster.clusterName, service: service.serviceName)
                // ECS answers DRAINING; with no task left to stop the service is INACTIVE at once.
                service.status = live == 0 ? .inactive : .draining
                try db.saveService(service, cluster: cluster)
                var answer = try db.described(service, cluster: cluster)
                answer.status = .draining
                return (ServiceResponse(service: answer), cluster.clusterName, deregistering)
            }
            for (task, delay) in deregistering {
                TaskDeregistrationLog.started(
                    cluster: clusterName, service: response.service.serviceName, task: task, delay: delay,
                    logger: context.logger)
            }
            return response
        },
    ]
}
