import ECSProtocol
import ECSVocabulary
import GRDB

/// The `attribute` table: container instances' attributes (the agent's `ecs.*` ones and custom ones).
extension Database {
    func attributes(of targetID: String, cluster: Cluster) throws -> [Attribute] {
        try Row.fetchAll(
            self, sql: "SELECT name, value FROM attribute WHERE cluster = ? AND targetId = ? ORDER BY name",
            arguments: [cluster.clusterName, targetID]
        )
        .map { Attribute(name: $0["name"], value: $0["value"]) }
    }

    func putAttribute(name: String, value: String?, targetID: String, cluster: Cluster) throws {
        try execute(
            sql: """
                INSERT INTO attribute (cluster, targetType, targetId, name, value) VALUES (?, 'container-instance', ?, ?, ?)
                ON CONFLICT(cluster, targetId, name) DO UPDATE SET value = excluded.value
                """,
            arguments: [cluster.clusterName, targetID, name, value]
        )
    }

    func removeAttribute(_ name: String, targetID: String, cluster: Cluster) throws {
        try execute(
            sql: "DELETE FROM attribute WHERE cluster = ? AND targetId = ? AND name = ?",
            arguments: [cluster.clusterName, targetID, name])
    }

    /// How many custom attributes (not `ecs.*`) the target has.
    func customAttributeCount(targetID: String, cluster: Cluster) throws -> Int {
        try count(
            "SELECT COUNT(*) FROM attribute WHERE cluster = ? AND targetId = ? AND name NOT LIKE 'ecs.%'",
            [cluster.clusterName, targetID])
    }

    /// The attributes of the cluster's registered instances, optionally only those named `name` (with `value`),
    /// by target then name, with each target's instance ARN.
    func instanceAttributes(
        cluster: Cluster, name: String?, value: String?
    ) throws -> [(targetID: String, arn: String, attribute: Attribute)] {
        var statement = FilteredStatement(
            sql: """
                SELECT attribute.name, attribute.value, attribute.targetId, containerInstance.arn FROM attribute
                JOIN containerInstance ON containerInstance.cluster = attribute.cluster AND containerInstance.id = attribute.targetId
                WHERE attribute.cluster = ? AND containerInstance.status != ?
                """,
            arguments: [cluster.clusterName, ContainerInstanceStatus.inactive])
        statement.equal("attribute.name", name)
        statement.equal("attribute.value", value)
        return try Row.fetchAll(
            self, sql: statement.sql + " ORDER BY attribute.targetId, attribute.name", arguments: statement.arguments
        )
        .map { row in
            (targetID: row["targetId"], arn: row["arn"], attribute: Attribute(name: row["name"], value: row["value"]))
        }
    }

    /// Every attribute of the cluster: target id → name → value.
    func attributesByTarget(cluster: String) throws -> [String: [String: String?]] {
        var attributes: [String: [String: String?]] = [:]
        for row in try Row.fetchAll(
            self, sql: "SELECT targetId, name, value FROM attribute WHERE cluster = ?", arguments: [cluster])
        {
            attributes[row["targetId"], default: [:]][row["name"] as String] = .some(row["value"] as String?)
        }
        return attributes
    }
}
