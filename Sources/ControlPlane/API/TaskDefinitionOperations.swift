import Logging
import Foundation
import ECSProtocol
import GRDB
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

// MARK: - Store access

extension Database {
    /// The task definition a reference names; a bare family means its latest ACTIVE revision.
    func taskDefinition(_ reference: TaskDefinitionReference) throws -> TaskDefinition? {
        let document: String?
        if let revision = reference.revision {
            document = try String.fetchOne(self, sql: "SELECT document FROM taskDefinition WHERE family = ? AND revision = ?",
                                           arguments: [reference.family, revision])
        } else {
            document = try String.fetchOne(
                self,
                sql: "SELECT document FROM taskDefinition WHERE family = ? AND status = 'ACTIVE' ORDER BY revision DESC LIMIT 1",
                arguments: [reference.family]
            )
        }
        guard let document else { return nil }
        return try TaskDefinition.decodeUnvalidated(Data(document.utf8))
    }

    func saveTaskDefinition(_ definition: TaskDefinition) throws {
        try execute(
            sql: """
                INSERT INTO taskDefinition (family, revision, arn, status, document) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(family, revision) DO UPDATE SET status = excluded.status, document = excluded.document
                """,
            arguments: [definition.family, definition.revision, definition.taskDefinitionArn, definition.status,
                        String(decoding: definition.encodedJSON(), as: UTF8.self)]
        )
    }
}

// MARK: - Operations

extension ECSAPI {
    static let taskDefinitionOperations: [String: ECSOperation] = [
        "RegisterTaskDefinition": ECSOperation { (request: RegisterTaskDefinitionRequest, context) in
            var definition = request.definition
            let tags = request.tags
            definition.tags = nil
            let registered = try await context.store.write { [definition] db in
                var definition = definition
                let revision = try db.count("SELECT COALESCE(MAX(revision), 0) + 1 FROM taskDefinition WHERE family = ?",
                                            [definition.family])
                definition.revision = revision
                definition.taskDefinitionArn = context.arn("task-definition", "\(definition.family):\(revision)")
                definition.status = "ACTIVE"
                definition.registeredAt = context.now
                definition.deregisteredAt = nil
                try db.saveTaskDefinition(definition)
                try db.putTags(tags ?? [], on: definition.taskDefinitionArn!)
                return definition
            }
            context.logger.info("task definition registered", metadata: ["task_definition.arn": "\(registered.taskDefinitionArn ?? "")"])
            return TaskDefinitionResponse(taskDefinition: registered, tags: tags ?? [])
        },
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
            let status = request.statusOrDefault
            let sort = request.sortOrDefault
            let rows = try await context.store.read { db in
                var sql = "SELECT family, revision, arn FROM taskDefinition WHERE status = ?"
                var arguments: StatementArguments = [status]
                if let family = request.familyPrefix {
                    sql += " AND family = ?"
                    arguments += [family]
                }
                sql += sort == "ASC" ? " ORDER BY family, revision" : " ORDER BY family DESC, revision DESC"
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> (key: String, arn: String) in
                    let family: String = row["family"]
                    let revision: Int = row["revision"]
                    return (family + "\u{1}" + String(format: "%010d", revision), row["arn"])
                }
            }
            let page = try Pagination.page(rows, key: \.key, nextToken: request.nextToken, limit: limit, descending: sort == "DESC")
            return ListTaskDefinitionsResponse(taskDefinitionArns: page.items.map(\.arn), nextToken: page.nextToken)
        },
        "ListTaskDefinitionFamilies": ECSOperation { (request: ListTaskDefinitionFamiliesRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 100, max: 100)
            let status = request.statusOrDefault
            let families = try await context.store.read { db in
                let all = status == "ALL"
                    ? try String.fetchAll(db, sql: "SELECT DISTINCT family FROM taskDefinition ORDER BY family")
                    : try String.fetchAll(db, sql: "SELECT DISTINCT family FROM taskDefinition WHERE status = ? ORDER BY family",
                                          arguments: [status])
                return all.filter { $0.hasPrefix(request.familyPrefix ?? "") }
            }
            let page = try Pagination.page(families, key: { $0 }, nextToken: request.nextToken, limit: limit)
            return ListTaskDefinitionFamiliesResponse(families: page.items, nextToken: page.nextToken)
        },
        "DeregisterTaskDefinition": ECSOperation { (request: DeregisterTaskDefinitionRequest, context) in
            let reference = try request.reference()
            return try await context.store.write { db in
                guard var definition = try db.taskDefinition(reference) else {
                    throw ECSError.client("The specified task definition does not exist.")
                }
                if definition.status == "ACTIVE" {
                    definition.status = "INACTIVE"
                    definition.deregisteredAt = context.now
                    try db.saveTaskDefinition(definition)
                }
                return TaskDefinitionResponse(taskDefinition: definition)
            }
        },
        "DeleteTaskDefinitions": ECSOperation { (request: DeleteTaskDefinitionsRequest, context) in
            let references = try request.references()
            return try await context.store.write { db in
                var response = DeleteTaskDefinitionsResponse(taskDefinitions: [], failures: [])
                for (text, reference) in references {
                    guard var definition = try db.taskDefinition(reference) else {
                        response.failures.append(Failure(arn: text, reason: "The specified task definition does not exist."))
                        continue
                    }
                    guard definition.status != "ACTIVE" else {
                        response.failures.append(Failure(
                            arn: definition.taskDefinitionArn,
                            reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
                        ))
                        continue
                    }
                    definition.status = "DELETE_IN_PROGRESS"
                    try db.saveTaskDefinition(definition)
                    response.taskDefinitions.append(definition)
                }
                return response
            }
        },
    ]
}
