public import TaskDefinitions

/// The optional parts of a cluster that DescribeClusters shows only when `include` names them.
public enum ClusterDetail: String, Hashable, CaseIterable, Sendable {
    case attachments = "ATTACHMENTS", configurations = "CONFIGURATIONS", settings = "SETTINGS"
    case statistics = "STATISTICS", tags = "TAGS"

    /// What CreateCluster, UpdateCluster and UpdateClusterSettings answer with, as ECS does.
    public static let writeResponse: Set<ClusterDetail> = [.settings, .configurations]
}

/// The input of `CreateCluster`.
public struct CreateClusterRequest: ECSRequest, Decodable {
    public var clusterName: String?
    public var tags: [ResourceTag]?
    public var settings: [ClusterSetting]?
    public var configuration: JSONValue?
    public var serviceConnectDefaults: JSONValue?
    public var capacityProviders: [String]?
}

/// The input of `DescribeClusters`.
public struct DescribeClustersRequest: ECSRequest, Decodable {
    public var clusters: [String]?
    public var include: [String]?
}

/// The input of `ListClusters`.
public struct ListRequest: ECSRequest, Decodable {
    public var nextToken: String?
    public var maxResults: Int?
}

/// The input of `DeleteCluster`.
public struct ClusterIdentifierRequest: ECSRequest, Decodable { public var cluster: String }

/// The input of `UpdateCluster` and `UpdateClusterSettings`.
public struct UpdateClusterRequest: ECSRequest, Decodable {
    public var cluster: String
    public var settings: [ClusterSetting]?
    public var configuration: JSONValue?
    public var serviceConnectDefaults: JSONValue?
}

/// ECS names (clusters, services, families): letters, digits, hyphens and underscores.
public enum Names {
    /// ASCII letters, digits, hyphens and underscores.
    public static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
    }
}

/// Cluster names and settings as ECS accepts them.
public enum ClusterRules {
    public static let settingNames: Set<String> = ["containerInsights"]
    public static let settingValues: Set<String> = ["enabled", "disabled", "enhanced"]

    /// 1 to 255 name characters.
    public static func checkName(_ name: String) throws(ECSError) {
        guard (1...255).contains(name.count),
            name.allSatisfy(Names.isNameCharacter)
        else {
            throw .invalidParameter("clusterName: must be 1 to 255 letters, digits, hyphens and underscores.")
        }
    }

    /// Only `containerInsights`, set to enabled, disabled or enhanced.
    public static func checkSettings(_ settings: [ClusterSetting]?) throws(ECSError) {
        for (index, setting) in (settings ?? []).enumerated() {
            guard let name = setting.name, settingNames.contains(name) else {
                throw .invalidParameter("settings[\(index)].name: must be containerInsights.")
            }
            guard let value = setting.value, settingValues.contains(value) else {
                throw .invalidParameter("settings[\(index)].value: must be enabled, disabled or enhanced.")
            }
        }
    }
}

extension CreateClusterRequest {
    public func validate() throws(ECSError) {
        try ClusterRules.checkName(clusterName ?? "default")
        try TagRules.check(tags)
        try ClusterRules.checkSettings(settings)
    }
}

extension DescribeClustersRequest {
    public func validate() throws(ECSError) {
        let identifiers = clusters ?? ["default"]
        guard identifiers.count <= 100 else {
            throw ECSError.invalidParameter("clusters: at most 100 clusters, got \(identifiers.count).")
        }
        _ = try details()
    }

    /// The optional parts `include` asks for.
    public func details() throws(ECSError) -> Set<ClusterDetail> {
        var requested = Set<ClusterDetail>()
        for value in include ?? [] {
            guard let detail = ClusterDetail(rawValue: value) else {
                throw ECSError.invalidParameter(
                    "include: \(value) is not one of ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS.")
            }
            requested.insert(detail)
        }
        return requested
    }
}

extension ListRequest {
    public func validate() throws(ECSError) { _ = try Pagination.limit(maxResults, default: 100, max: 100) }
}

extension UpdateClusterRequest {
    public func validate() throws(ECSError) { try ClusterRules.checkSettings(settings) }
}
