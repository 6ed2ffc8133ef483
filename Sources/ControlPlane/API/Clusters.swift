import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

// MARK: - Requests and responses

/// The optional parts of a cluster that DescribeClusters shows only when `include` names them.
enum ClusterDetail: String, Hashable, CaseIterable {
    case attachments = "ATTACHMENTS", configurations = "CONFIGURATIONS", settings = "SETTINGS"
    case statistics = "STATISTICS", tags = "TAGS"

    /// What CreateCluster, UpdateCluster and UpdateClusterSettings answer with, as ECS does.
    static let writeResponse: Set<ClusterDetail> = [.settings, .configurations]
}

struct CreateClusterRequest: Decodable {
    var clusterName: String?
    var tags: [ResourceTag]?
    var settings: [ClusterSetting]?
    var configuration: JSONValue?
    var serviceConnectDefaults: JSONValue?
    var capacityProviders: [String]?
}

struct ClusterResponse: Encodable { var cluster: Cluster }

struct DescribeClustersRequest: Decodable {
    var clusters: [String]?
    var include: [String]?
}

struct DescribeClustersResponse: Encodable {
    var clusters: [Cluster]
    var failures: [Failure]
}

struct ListRequest: Decodable {
    var nextToken: String?
    var maxResults: Int?
}

struct ListClustersResponse: Encodable {
    var clusterArns: [String]
    var nextToken: String?
}

struct ClusterIdentifierRequest: Decodable { var cluster: String }

struct UpdateClusterRequest: Decodable {
    var cluster: String
    var settings: [ClusterSetting]?
    var configuration: JSONValue?
    var serviceConnectDefaults: JSONValue?
}

// MARK: - Rules

/// ECS names (clusters, services, families): letters, digits, hyphens and underscores.
enum Names {
    static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
    }
}

enum ClusterRules {
    static let settingNames: Set<String> = ["containerInsights"]
    static let settingValues: Set<String> = ["enabled", "disabled", "enhanced"]

    static func checkName(_ name: String) throws(ECSError) {
        guard (1...255).contains(name.count),
              name.allSatisfy(Names.isNameCharacter) else {
            throw .invalidParameter("clusterName: must be 1 to 255 letters, digits, hyphens and underscores.")
        }
    }

    static func checkSettings(_ settings: [ClusterSetting]?) throws(ECSError) {
        for (index, setting) in (settings ?? []).enumerated() {
            guard let name = setting.name, settingNames.contains(name) else {
                throw .invalidParameter("settings[\(index)].name: must be containerInsights.")
            }
            guard let value = setting.value, settingValues.contains(value) else {
                throw .invalidParameter("settings[\(index)].value: must be enabled, disabled or enhanced.")
            }
        }
    }

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
    func described(_ cluster: Cluster, including details: Set<ClusterDetail> = ClusterDetail.writeResponse) throws -> Cluster {
        var cluster = cluster
        let name = cluster.clusterName
        cluster.registeredContainerInstancesCount = try instanceCount(cluster: name, statuses: ContainerInstanceStatus.registered)
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
    static let clusterOperations: [String: ECSOperation] = [
        "CreateCluster": ECSOperation { (request: CreateClusterRequest, context) in
            let name = request.clusterName ?? "default"
            try ClusterRules.checkName(name)
            try TagRules.check(request.tags)
            try ClusterRules.checkSettings(request.settings)
            return try await context.store.write { db in
                if let existing = try db.cluster(name), existing.status == .active {
                    return ClusterResponse(cluster: try db.described(existing, including: ClusterDetail.writeResponse.union([.tags])))
                }
                let cluster = Cluster(
                    clusterArn: context.arn("cluster", name), clusterName: name, status: .active,
                    settings: request.settings ?? [ClusterSetting(name: "containerInsights", value: "disabled")],
                    configuration: request.configuration, serviceConnectDefaults: request.serviceConnectDefaults,
                    capacityProviders: request.capacityProviders ?? [], defaultCapacityProviderStrategy: []
                )
                try db.saveCluster(cluster)
                _ = try db.joinToken(of: cluster, now: context.now)
                try db.removeTags(of: cluster.clusterArn)
                try db.putTags(request.tags ?? [], on: cluster.clusterArn)
                return ClusterResponse(cluster: try db.described(cluster, including: ClusterDetail.writeResponse.union([.tags])))
            }
        },
        "DescribeClusters": ECSOperation { (request: DescribeClustersRequest, context) in
            let identifiers = request.clusters ?? ["default"]
            guard identifiers.count <= 100 else {
                throw ECSError.invalidParameter("clusters: at most 100 clusters, got \(identifiers.count).")
            }
            var requested = Set<ClusterDetail>()
            for value in request.include ?? [] {
                guard let detail = ClusterDetail(rawValue: value) else {
                    throw ECSError.invalidParameter(
                        "include: \(value) is not one of ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS.")
                }
                requested.insert(detail)
            }
            let details = requested
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
        "ListClusters": ECSOperation { (request: ListRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let rows = try await context.store.read { db in
                try db.activeClusters()
            }
            let page = try Pagination.page(rows, key: \.name, nextToken: request.nextToken, limit: limit)
            return ListClustersResponse(clusterArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "DeleteCluster": ECSOperation { (request: ClusterIdentifierRequest, context) in
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
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
        "UpdateCluster": ECSOperation { (request: UpdateClusterRequest, context) in
            try ClusterRules.checkSettings(request.settings)
            return try await context.store.write { db in
                var cluster = try db.activeCluster(request.cluster)
                ClusterRules.merge(request.settings, into: &cluster)
                if let configuration = request.configuration { cluster.configuration = configuration }
                if let defaults = request.serviceConnectDefaults { cluster.serviceConnectDefaults = defaults }
                try db.saveCluster(cluster)
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
        "UpdateClusterSettings": ECSOperation { (request: UpdateClusterRequest, context) in
            guard let settings = request.settings else { throw ECSError.invalidParameter("settings: is required.") }
            try ClusterRules.checkSettings(settings)
            return try await context.store.write { db in
                var cluster = try db.activeCluster(request.cluster)
                ClusterRules.merge(settings, into: &cluster)
                try db.saveCluster(cluster)
                return ClusterResponse(cluster: try db.described(cluster))
            }
        },
    ]
}
