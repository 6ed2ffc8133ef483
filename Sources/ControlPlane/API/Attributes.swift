import Foundation
import ECSProtocol
import GRDB

// MARK: - Requests and responses

struct AttributesResponse: Encodable { var attributes: [Attribute] }

struct ListAttributesResponse: Encodable {
    var attributes: [Attribute]
    var nextToken: String?
}

// MARK: - Rules

// MARK: - Store access

extension Database {
    func attributes(of targetID: String, cluster: Cluster) throws -> [Attribute] {
        try Row.fetchAll(self, sql: "SELECT name, value FROM attribute WHERE cluster = ? AND targetId = ? ORDER BY name",
                         arguments: [cluster.clusterName, targetID])
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

    /// The live container instance an attribute targets, or `TargetNotFoundException`.
    func attributeTarget(_ targetID: String, cluster: Cluster) throws -> ContainerInstance {
        guard let instance = try containerInstance(targetID, in: cluster), instance.status != "INACTIVE" else {
            throw ECSError.targetNotFound(String(targetID.prefix(300)))
        }
        return instance
    }
}

// MARK: - Operations

extension ECSAPI {
    static let attributeOperations: [String: ECSOperation] = [
        "PutAttributes": ECSOperation { (request: AttributesRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var answer: [Attribute] = []
                for attribute in request.attributes {
                    let instance = try db.attributeTarget(attribute.targetId ?? "", cluster: cluster)
                    try db.putAttribute(name: attribute.name, value: attribute.value, targetID: instance.id, cluster: cluster)
                    let custom = try db.count(
                        "SELECT COUNT(*) FROM attribute WHERE cluster = ? AND targetId = ? AND name NOT LIKE 'ecs.%'",
                        [cluster.clusterName, instance.id])
                    if custom > ECSError.customAttributeLimit { throw ECSError.attributeLimitExceeded(instance.containerInstanceArn) }
                    answer.append(Attribute(name: attribute.name, value: attribute.value, targetType: "container-instance",
                                            targetId: instance.containerInstanceArn))
                }
                return AttributesResponse(attributes: answer)
            }
        },
        "DeleteAttributes": ECSOperation { (request: AttributesRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var answer: [Attribute] = []
                for attribute in request.attributes {
                    let instance = try db.attributeTarget(attribute.targetId ?? "", cluster: cluster)
                    try db.execute(sql: "DELETE FROM attribute WHERE cluster = ? AND targetId = ? AND name = ?",
                                   arguments: [cluster.clusterName, instance.id, attribute.name])
                    answer.append(Attribute(name: attribute.name, value: attribute.value, targetType: "container-instance",
                                            targetId: instance.containerInstanceArn))
                }
                return AttributesResponse(attributes: answer)
            }
        },
        "ListAttributes": ECSOperation { (request: ListAttributesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                var sql = """
                    SELECT attribute.name, attribute.value, attribute.targetId, containerInstance.arn FROM attribute
                    JOIN containerInstance ON containerInstance.cluster = attribute.cluster AND containerInstance.id = attribute.targetId
                    WHERE attribute.cluster = ? AND containerInstance.status != 'INACTIVE'
                    """
                var arguments: StatementArguments = [cluster.clusterName]
                if let name = request.attributeName {
                    sql += " AND attribute.name = ?"
                    arguments += [name]
                }
                if let value = request.attributeValue {
                    sql += " AND attribute.value = ?"
                    arguments += [value]
                }
                return try Row.fetchAll(db, sql: sql + " ORDER BY attribute.targetId, attribute.name", arguments: arguments)
                    .map { row -> (key: String, attribute: Attribute) in
                        let targetID: String = row["targetId"]
                        let name: String = row["name"]
                        return (targetID + "\u{1}" + name,
                                Attribute(name: name, value: row["value"], targetType: "container-instance", targetId: row["arn"]))
                    }
            }
            let page = try Pagination.page(rows, key: \.key, nextToken: request.nextToken, limit: limit)
            return ListAttributesResponse(attributes: page.items.map(\.attribute), nextToken: page.nextToken)
        },
    ]
}
