import Foundation
import ECSProtocol
import GRDB

// MARK: - Requests and responses

struct ListTagsForResourceResponse: Encodable { var tags: [ResourceTag] }

struct EmptyResponse: Encodable {}

// MARK: - Rules over the store

extension Database {
    /// Adds or replaces `tags` on `arn`, keeping ECS's limit of 50 per resource.
    func putTags(_ tags: [ResourceTag], on arn: String) throws {
        try upsertTags(tags, on: arn)
        if try tagCount(of: arn) > TagRules.maxTagsPerResource {
            throw ECSError.invalidParameter("tags: a resource can have at most \(TagRules.maxTagsPerResource) tags.")
        }
    }

    /// Checks that `arn` names a resource this control plane holds (tags attach only to real resources).
    func checkTaggable(_ arn: String) throws {
        guard let parsed = ARN(arn) else {
            throw ECSError.invalidParameter("resourceArn: \(arn.prefix(300)) is not an ECS ARN.")
        }
        let resource: TaggableResource
        switch parsed.kind {
        case "cluster": resource = .cluster
        case "service": resource = .service
        case "task": resource = .task
        case "task-definition": resource = .taskDefinition
        case "container-instance": resource = .containerInstance
        default: throw ECSError.invalidParameter("resourceArn: \(parsed.kind) resources cannot be tagged.")
        }
        guard try resourceExists(resource, arn: arn) else {
            throw ECSError.resourceNotFound(String(arn.prefix(300)))
        }
    }
}

// MARK: - Operations

extension ECSAPI {
    static let tagOperations: [String: OperationHandler] = [
        "TagResource": OperationHandler { (request: TagResourceRequest, context) in
            try await context.store.write { db in
                try db.checkTaggable(request.resourceArn)
                try db.putTags(request.tags, on: request.resourceArn)
                return EmptyResponse()
            }
        },
        "UntagResource": OperationHandler { (request: UntagResourceRequest, context) in
            try await context.store.write { db in
                try db.checkTaggable(request.resourceArn)
                for key in request.tagKeys {
                    try db.removeTag(key, of: request.resourceArn)
                }
                return EmptyResponse()
            }
        },
        "ListTagsForResource": OperationHandler { (request: ListTagsForResourceRequest, context) in
            try await context.store.read { db in
                try db.checkTaggable(request.resourceArn)
                return ListTagsForResourceResponse(tags: try db.tags(of: request.resourceArn))
            }
        },
    ]
}
