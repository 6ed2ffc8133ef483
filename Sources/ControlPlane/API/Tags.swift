import Foundation
import ECSProtocol
import GRDB

// MARK: - Requests and responses

struct ListTagsForResourceResponse: Encodable { var tags: [ResourceTag] }

struct EmptyResponse: Encodable {}

// MARK: - Store access

extension Database {
    /// Checks that `arn` names a resource this control plane holds (tags attach only to real resources).
    func checkTaggable(_ arn: String) throws {
        guard let parsed = ARN(arn) else {
            throw ECSError.invalidParameter("resourceArn: \(arn.prefix(300)) is not an ECS ARN.")
        }
        let table: String
        switch parsed.kind {
        case "cluster": table = "cluster"
        case "service": table = "service"
        case "task": table = "task"
        case "task-definition": table = "taskDefinition"
        case "container-instance": table = "containerInstance"
        default: throw ECSError.invalidParameter("resourceArn: \(parsed.kind) resources cannot be tagged.")
        }
        guard try count("SELECT COUNT(*) FROM \(table) WHERE arn = ?", [arn]) > 0 else {
            throw ECSError.resourceNotFound(String(arn.prefix(300)))
        }
    }
}

// MARK: - Operations

extension ECSAPI {
    static let tagOperations: [String: ECSOperation] = [
        "TagResource": ECSOperation { (request: TagResourceRequest, context) in
            try await context.store.write { db in
                try db.checkTaggable(request.resourceArn)
                try db.putTags(request.tags, on: request.resourceArn)
                return EmptyResponse()
            }
        },
        "UntagResource": ECSOperation { (request: UntagResourceRequest, context) in
            try await context.store.write { db in
                try db.checkTaggable(request.resourceArn)
                for key in request.tagKeys {
                    try db.execute(sql: "DELETE FROM tag WHERE resourceArn = ? AND key = ?", arguments: [request.resourceArn, key])
                }
                return EmptyResponse()
            }
        },
        "ListTagsForResource": ECSOperation { (request: ListTagsForResourceRequest, context) in
            try await context.store.read { db in
                try db.checkTaggable(request.resourceArn)
                return ListTagsForResourceResponse(tags: try db.tags(of: request.resourceArn))
            }
        },
    ]
}
