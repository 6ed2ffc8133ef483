import ECSVocabulary
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

// MARK: - Rules over the store

extension Database {
    /// The live container instance an attribute targets, or `TargetNotFoundException`.
    func attributeTarget(_ targetID: String, cluster: Cluster) throws -> ContainerInstance {
        guard let instance = try containerInstance(targetID, in: cluster), instance.status != .inactive else {
            throw ECSError.targetNotFound(String(targetID.prefix(300)))
        }
        return instance
    }
}

// MARK: - Operations

extension ECSAPI {
    static let attributeOperations: [String: OperationHandler] = [
        "PutAttributes": OperationHandler { (request: AttributesRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var answer: [Attribute] = []
                for attribute in request.attributes {
                    let instance = try db.attributeTarget(attribute.targetId ?? "", cluster: cluster)
                    try db.putAttribute(
                        name: attribute.name, value: attribute.value, targetID: instance.id, cluster: cluster)
                    let custom = try db.customAttributeCount(targetID: instance.id, cluster: cluster)
                    if custom > ECSError.customAttributeLimit {
                        throw ECSError.attributeLimitExceeded(instance.containerInstanceArn)
                    }
                    answer.append(
                        Attribute(
                            name: attribute.name, value: attribute.value, targetType: "container-instance",
                            targetId: instance.containerInstanceArn))
                }
                return AttributesResponse(attributes: answer)
            }
        },
        "DeleteAttributes": OperationHandler { (request: AttributesRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                var answer: [Attribute] = []
                for attribute in request.attributes {
                    let instance = try db.attributeTarget(attribute.targetId ?? "", cluster: cluster)
                    try db.removeAttribute(attribute.name, targetID: instance.id, cluster: cluster)
                    answer.append(
                        Attribute(
                            name: attribute.name, value: attribute.value, targetType: "container-instance",
                            targetId: instance.containerInstanceArn))
                }
                return AttributesResponse(attributes: answer)
            }
        },
        "ListAttributes": OperationHandler { (request: ListAttributesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let rows = try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                return try db.instanceAttributes(
                    cluster: cluster, name: request.attributeName, value: request.attributeValue
                )
                .map { found -> (key: String, attribute: Attribute) in
                    (
                        found.targetID + "\u{1}" + found.attribute.name,
                        Attribute(
                            name: found.attribute.name, value: found.attribute.value, targetType: "container-instance",
                            targetId: found.arn)
                    )
                }
            }
            let page = try Pagination.page(rows, key: \.key, nextToken: request.nextToken, limit: limit)
            return ListAttributesResponse(attributes: page.items.map(\.attribute), nextToken: page.nextToken)
        },
    ]
}
