import ECSVocabulary
import Foundation
import Logging
import TaskDefinitions

// MARK: - Requests and responses

struct TaskDefinitionResponse: Encodable {
    var taskDefinition: TaskDefinition
    var tags: [ResourceTag]?
}

struct DescribeTaskDefinitionRequest: Decodable {
    var taskDefinition: String
    var include: [String]?
}

struct ListTaskDefinitionsRequest: Decodable {
    var familyPrefix: String?
    var status: String?
    var sort: String?
    var nextToken: String?
    var maxResults: Int?
}

struct ListTaskDefinitionsResponse: Encodable {
    var taskDefinitionArns: [String]
    var nextToken: String?
}

struct ListTaskDefinitionFamiliesResponse: Encodable {
    var families: [String]
    var nextToken: String?
}

struct DeregisterTaskDefinitionRequest: Decodable { var taskDefinition: String }

struct DeleteTaskDefinitionsRequest: Decodable { var taskDefinitions: [String] }

struct DeleteTaskDefinitionsResponse: Encodable {
    var taskDefinitions: [TaskDefinition]
    var failures: [Failure]
}

// MARK: - Rules over the store

/// A task definition reference as requests spell it: `family`, `family:revision` or the ARN.
struct TaskDefinitionReference: Hashable {
    var family: String
    var revision: Int?

    init(_ text: String) throws(ECSError) {
        var reference = text
        if text.hasPrefix("arn:") {
            guard let arn = ARN(text), arn.kind == "task-definition" else {
                throw .client("taskDefinition: \(text.prefix(300)) is not a task definition ARN.")
            }
            reference = arn.resource
        }
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 255, parts[0].allSatisfy(Names.isNameCharacter) else {
            throw .client("taskDefinition: \(text.prefix(300)) is not a family, family:revision or task definition ARN.")
        }
        family = String(parts[0])
        if parts.count == 2 {
            guard let revision = Int(parts[1]), revision > 0 else {
                throw .client("taskDefinition: revision must be a positive integer, got \(parts[1].prefix(20)).")
            }
            self.revision = revision
        }
    }
}

extension TaskDefinition {
    /// `status` as the vocabulary's word (TaskDefinitions does not import ECSVocabulary, so the model keeps a String).
    var registrationStatus: TaskDefinitionStatus? {
        get { status.flatMap(TaskDefinitionStatus.init(rawValue:)) }
        set { status = newValue?.rawValue }
    }
}

extension TaskDefinitionError {
    /// A bad task definition as ECS answers it: a ClientException naming every JSON path that is wrong.
    var ecsError: ECSError {
        switch self {
        case .malformed(let issue): .client("Invalid task definition: \(issue)")
        case .invalid: .client("Invalid task definition: \(description)")
        }
    }
}

// MARK: - Operations

extension ECSAPI {
    static let taskDefinitionOperations: [String: ECSOperation] = [
        "RegisterTaskDefinition": ECSOperation(raw: { body, context in
            var definition: TaskDefinition
            do throws(TaskDefinitionError) {
                definition = try TaskDefinition.decode(body)
            } catch {
                throw error.ecsError
            }
            let tags = definition.tags?.map { ResourceTag(key: $0.key, value: $0.value) }
            try TagRules.check(tags)
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
            context.logger.info("task definition registered", metadata: ["task_definition.arn": "\(registered.taskDefinitionArn ?? "")"])
            return try RequestDecoding.encode(TaskDefinitionResponse(taskDefinition: registered, tags: tags ?? []))
        }),
        "DescribeTaskDefinition": ECSOperation { (request: DescribeTaskDefinitionRequest, context) in
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
        "ListTaskDefinitions": ECSOperation { (request: ListTaskDefinitionsRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let status = request.status.map(TaskDefinitionStatus.init(rawValue:)) ?? .active
            guard let status else {
                throw ECSError.invalidParameter("status: must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
            }
            let sort = request.sort ?? "ASC"
            guard ["ASC", "DESC"].contains(sort) else { throw ECSError.invalidParameter("sort: must be ASC or DESC.") }
            let rows = try await context.store.read { db in
                try db.taskDefinitionRevisions(status: status, family: request.familyPrefix, descending: sort == "DESC")
                    .map { (key: $0.family + "\u{1}" + String(format: "%010d", $0.revision), arn: $0.arn) }
            }
            let page = try Pagination.page(rows, key: \.key, nextToken: request.nextToken, limit: limit, descending: sort == "DESC")
            return ListTaskDefinitionsResponse(taskDefinitionArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "ListTaskDefinitionFamilies": ECSOperation { (request: ListTaskDefinitionsRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            // ALL, or a status but DELETE_IN_PROGRESS (nil: every family).
            let status: TaskDefinitionStatus?
            switch request.status {
            case nil: status = .active
            case "ALL": status = nil
            case let text?:
                guard let word = TaskDefinitionStatus(rawValue: text), word != .deleteInProgress else {
                    throw ECSError.invalidParameter("status: must be ACTIVE, INACTIVE or ALL.")
                }
                status = word
            }
            let families = try await context.store.read { db in
                try db.taskDefinitionFamilies(status: status).filter { $0.hasPrefix(request.familyPrefix ?? "") }
            }
            let page = try Pagination.page(families, key: { $0 }, nextToken: request.nextToken, limit: limit)
            return ListTaskDefinitionFamiliesResponse(families: page.items, nextToken: page.nextToken)
        },
        "DeregisterTaskDefinition": ECSOperation { (request: DeregisterTaskDefinitionRequest, context) in
            let reference = try TaskDefinitionReference(request.taskDefinition)
            guard reference.revision != nil else {
                throw ECSError.client("taskDefinition: give family:revision or the full ARN, not just the family.")
            }
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
        "DeleteTaskDefinitions": ECSOperation { (request: DeleteTaskDefinitionsRequest, context) in
            guard (1...10).contains(request.taskDefinitions.count) else {
                throw ECSError.invalidParameter("taskDefinitions: give 1 to 10 task definitions, got \(request.taskDefinitions.count).")
            }
            let references = try request.taskDefinitions.map { text throws(ECSError) in
                let reference = try TaskDefinitionReference(text)
                guard reference.revision != nil else {
                    throw .client("taskDefinitions: \(text.prefix(300)) needs a revision (family:revision or the full ARN).")
                }
                return (text, reference)
            }
            return try await context.store.write { db in
                var response = DeleteTaskDefinitionsResponse(taskDefinitions: [], failures: [])
                for (text, reference) in references {
                    guard var definition = try db.taskDefinition(reference) else {
                        response.failures.append(Failure(arn: text, reason: "The specified task definition does not exist."))
                        continue
                    }
                    guard definition.registrationStatus != .active else {
                        response.failures.append(Failure(
                            arn: definition.taskDefinitionArn,
                            reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
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
