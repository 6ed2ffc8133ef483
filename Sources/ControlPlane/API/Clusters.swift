import ECSVocabulary
import Foundation
import ECSProtocol
import GRDB
import TaskDefinitions

// MARK: - Requests and responses

struct ClusterResponse: Encodable { var cluster: Cluster }

struct DescribeClustersResponse: Encodable {
    var clusters: [Cluster]
    var failures: [Failure]
}

struct ListClustersResponse: Encodable {
    var clusterArns: [String]
    var nextToken: String?
}

// MARK: - Rules

extension ClusterRules {
    static func merge(_ settings: [ClusterSetting]?, into cluster: inout Cluster) {
        guard let settings else { return }
        var current = cluster.settings ?? []
        for setting in settings {
            current.removeAll { $0.name == setting.name }
            current.append(setting)
        }
        cluster.settings = current
    }
}

// MARK: - Rules over the store

extension Database {
    /// The ACTIVE cluster a request names, or `ClusterNotFoundException`.
    func activeCluster(_ identifier: String?) throws -> Cluster {
        guard let cluster = try cluster(identifier), cluster.status == .active else { throw ECSError.clusterNotFound }
        return cluster
    }

    /// The cluster with its live counts and the optional details asked for, as DescribeClusters shows it.
    func described(
        _ cluster: Cluster, including details: Set<ClusterDetail> = ClusterDetail.writeResponse
    ) throws -> Cluster {
        var cluster = cluster
        let name = cluster.clusterName
        cluster.registeredContainerInstancesCount = try instanceCount(
            cluster: name, statuses: ContainerInstanceStatus.registered)
        cluster.runningTasksCount = try taskCount(cluster: name, lastStatuses: [.running])
        cluster.pendingTasksCount = try taskCount(cluster: name, lastStatuses: TaskStatus.pendingStatuses)
        cluster.activeServicesCount = try serviceCount(cluster: name, statuses: [.active])
        if details.contains(.statistics) {
            // ECS's statistics list; every Flotilla task and service runs on EC2-style container instances.
            let draining = try serviceCount(cluster: name, statuses: [.draining])
            let figures: [(String, Int)] = [
                ("runningEC2TasksCount", cluster.runningTasksCount ?? 0), ("runningFargateTasksCount", 0),
                ("pendingEC2TasksCount", cluster.pendingTasksCount ?? 0), ("pendingFargateTasksCount", 0),
                ("activeEC2ServiceCount", cluster.activeServicesCount ?? 0), ("activeFargateServiceCount", 0),
                ("drainingEC2ServiceCount", draining), ("drainingFargateServiceCount", 0),
            ]
            cluster.statistics = figures.map { ClusterSetting(name: $0.0, value: String($0.1)) }
        } else {
            cluster.statistics = nil
        }
        if !details.contains(.settings) { cluster.settings = nil }
        if !details.contains(.configurations) { cluster.configuration = nil }
        cluster.attachments = details.contains(.attachments) ? [] : nil
        cluster.tags = details.contains(.tags) ? try tags(of: cluster.clusterArn) : nil
        return cluster
    }
}

// MARK: - Operations

extension ECSAPI {
    static let clusterOperations: [String: OperationHandler] = [
        "CreateCluster": OperationHandler { (request: CreateClusterRequest, context) in
            let name = request.clusterName ?? "default"
            return try await context.store.write { db in
                if let existing = try db.cluster(name), existing.status == .active {
                    return ClusterResponse(
                        cluster: try db.described(existing, including: ClusterDetail.writeResponse.union([.tags])))
                }
                let cluster = Cluster(
                    clusterArn: context.arn("cluster", name), clusterName: name, status: .active,
                    settings: request.settings ?? [ClusterSetting(name: "containerInsights", value: "disabled")],
                    configuration: request.configuration, serviceConnectDefaults: request.serviceConnectDefaults,
                    capacityProviders: request.capacityProviders ?? [], defaultCapacityProviderStrategy: []
                )
                try db.saveCluster(cluster)
                try db.removeTags(of: cluster.clusterArn)
                try db.putTags(request.tags ?? [], on: cluster.clusterArn)
                return ClusterResponse(
                    cluster: try db.described(cluster, including: ClusterDetail.writeResponse.union([.tags])))
            }
        },
        "DescribeClusters": OperationHandler { (request: DescribeClustersRequest, context) in
            let identifiers = request.clusters ?? ["default"]
            let details = try request.details()
            return try await context.store.read { db in
                var response = DescribeClustersResponse(clusters: [], failures: [])
                for identifier in identifiers {
                    if let cluster = try db.cluster(identifier) {
                        response.clusters.append(try db.described(cluster, including: details))
                    } else {
                        let arn = identifier.hasPrefix("arn:") ? identifier : context.arn("cluster", identifier)
                        response.failures.append(Failure(arn: arn, reason: "MISSING"))
                    }
                }
                return response
            }
        },
        "ListClusters": OperationHandler { (request: ListRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let rows = try await context.store.read { db in
                try db.activeClusters()
            }
            let page = try Pagination.page(rows, key: \.name, nextToken: request.nextToken, limit: limit)
            return ListClustersResponse(clusterArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "DeleteCluster": OperationHandler { (request: ClusterIdentifierRequest, context) in
            try await context.store.write { db in
                var cluster = try db.activeCluster(request.cluster)
                let name = cluster.clusterName
                if try db.instanceCount(cluster: name, statuses: ContainerInstanceStatus.registered) > 0 {
                    throw ECSError.clusterContainsContainerInstances
                }
                if try db.serviceCount(cluster: name, statuses: [.active, .draining]) > 0 {
                    throw ECSError.clusterContainsServices
                }
                if try db.liveTaskCount(cluster: name) > 0 {
                    throw ECSError.clusterContainsTasks
                }
                cluster.status = .inactive
                try db.saveCluster(cluster)
                // A cluster created again under the name starts without tokens.
                _ = try db.deleteJoinTokens(cluster: name)
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
        "UpdateCluster": OperationHandler { (request: UpdateClusterRequest, context) in
            try await context.store.write { db in
                var cluster = try db.activeCluster(request.cluster)
                ClusterRules.merge(request.settings, into: &cluster)
                if let configuration = request.configuration { cluster.configuration = configuration }
                if let defaults = request.serviceConnectDefaults { cluster.serviceConnectDefaults = defaults }
                try db.saveCluster(cluster)
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
        "UpdateClusterSettings": OperationHandler { (request: UpdateClusterRequest, context) in
            guard let settings = request.settings else { throw ECSError.invalidParameter("settings: is required.") }
            return try await context.store.write { db in
                var cluster = try db.activeCluster(request.cluster)
                ClusterRules.merge(settings, into: &cluster)
                try db.saveCluster(cluster)
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
    ]
}
