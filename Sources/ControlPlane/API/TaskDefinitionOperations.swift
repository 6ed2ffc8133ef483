import ECSVocabulary
import Foundation
import ECSProtocol
import Logging
import TaskDefinitions

// MARK: - Requests and responses

struct TaskDefinitionResponse: Encodable {
    var taskDefinition: TaskDefinition
    var tags: [ResourceTag]?
}

struct ListTaskDefinitionsResponse: Encodable {
    var taskDefinitionArns: [String]
    var nextToken: String?
}

struct ListTaskDefinitionFamiliesResponse: Encodable {
    var families: [String]
    var nextToken: String?
}

struct DeleteTaskDefinitionsResponse: Encodable {
    var taskDefinitions: [TaskDefinition]
    var failures: [Failure]
}

// MARK: - Rules over the store

extension TaskDefinition {
    /// `status` as the vocabulary's word (TaskDefinitions does not import ECSVocabulary, so the model keeps a String).
    var registrationStatus: TaskDefinitionStatus? {
        get { status.flatMap(TaskDefinitionStatus.init(rawValue:)) }
        set { status = newValue?.rawValue }
    }
}

// MARK: - Operations

extension ECSAPI {
    static let taskDefinitionOperations: [String: OperationHandler] = [
        "RegisterTaskDefinition": OperationHandler { (request: RegisterTaskDefinitionRequest, context) in
            var definition = request.definition
            let tags = request.tags
            definition.tags = nil
            let registered = try await context.store.write { [definition] db in
                var definition = definition
                let revision = try db.nextRevision(of: definition.family)
                definition.revision = revision
                definition.taskDefinitionArn = context.arn("task-definition", "\(definition.family):\(revision)")
                definition.registrationStatus = .active
                definition.registeredAt = context.now
                definition.deregisteredAt = nil
                try db.saveTaskDefinition(definition)
                try db.putTags(tags ?? [], on: definition.taskDefinitionArn!)
                return definition
            }
            context.logger.info(
                "task definition registered", metadata: ["task_definition.arn": "\(registered.taskDefinitionArn ?? "")"]
            )
            return TaskDefinitionResponse(taskDefinition: registered, tags: tags ?? [])
        },
        "DescribeTaskDefinition": OperationHandler { (request: DescribeTaskDefinitionRequest, context) in
            let reference = try TaskDefinitionReference(request.taskDefinition)
            return try await context.store.read { db in
                guard let definition = try db.taskDefinition(reference) else {
                    throw ECSError.client("Unable to describe task definition.")
                }
                let includeTags = request.include?.contains("TAGS") ?? false
                return TaskDefinitionResponse(
                    taskDefinition: definition,
                    tags: includeTags ? try db.tags(of: definition.taskDefinitionArn ?? "") : nil
                )
            }
        },
        "ListTaskDefinitions": OperationHandler { (request: ListTaskDefinitionsRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            guard let status = request.statusOrDefault else {
                throw ECSError.invalidParameter("status: must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
            }
            let sort = request.sortOrDefault
            let rows = try await context.store.read { db in
                try db.taskDefinitionRevisions(status: status, family: request.familyPrefix, descending: sort == "DESC")
                    .map { (key: $0.family + "\u{1}" + String(format: "%010d", $0.revision), arn: $0.arn) }
            }
            let page = try Pagination.page(
                rows, key: \.key, nextToken: request.nextToken, limit: limit, descending: sort == "DESC")
            return ListTaskDefinitionsResponse(taskDefinitionArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "ListTaskDefinitionFamilies": OperationHandler { (request: ListTaskDefinitionFamiliesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let status = request.statusOrDefault
            let families = try await context.store.read { db in
                try db.taskDefinitionFamilies(status: status).filter { $0.hasPrefix(request.familyPrefix ?? "") }
            }
            let page = try Pagination.page(families, key: { $0 }, nextToken: request.nextToken, limit: limit)
            return ListTaskDefinitionFamiliesResponse(families: page.items, nextToken: page.nextToken)
        },
        "DeregisterTaskDefinition": OperationHandler { (request: DeregisterTaskDefinitionRequest, context) in
            let reference = try request.reference()
            return try await context.store.write { db in
                guard var definition = try db.taskDefinition(reference) else {
                    throw ECSError.client("The specified task definition does not exist.")
                }
                if definition.registrationStatus == .active {
                    definition.registrationStatus = .inactive
                    definition.deregisteredAt = context.now
                    try db.saveTaskDefinition(definition)
                }
                return TaskDefinitionResponse(taskDefinition: definition)
            }
        },
        "DeleteTaskDefinitions": OperationHandler { (request: DeleteTaskDefinitionsRequest, context) in
            let references = try request.references()
            return try await context.store.write { db in
                var response = DeleteTaskDefinitionsResponse(taskDefinitions: [], failures: [])
                for (text, reference) in references {
                    guard var definition = try db.taskDefinition(reference) else {
                        response.failures.append(
                            Failure(arn: text, reason: "The specified task definition does not exist."))
                        continue
                    }
                    guard definition.registrationStatus != .active else {
                        response.failures.append(
                            Failure(
                                arn: definition.taskDefinitionArn,
                                reason:
                                    "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
                            ))
                        continue
                    }
                    definition.registrationStatus = .deleteInProgress
                    try db.saveTaskDefinition(definition)
                    response.taskDefinitions.append(definition)
                }
                return response
            }
        },
    ]
}
