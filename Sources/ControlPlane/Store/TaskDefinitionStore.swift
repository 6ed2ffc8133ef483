import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

/// The `taskDefinition` table: one row per family and revision, the registered JSON in `document`.
extension Database {
    /// The task definition a reference names; a bare family means its latest ACTIVE revision.
    func taskDefinition(_ reference: TaskDefinitionReference) throws -> TaskDefinition? {
        let document: String?
        if let revision = reference.revision {
            document = try String.fetchOne(
                self, sql: "SELECT document FROM taskDefinition WHERE family = ? AND revision = ?",
                arguments: [reference.family, revision])
        } else {
            document = try String.fetchOne(
                self,
                sql:
                    "SELECT document FROM taskDefinition WHERE family = ? AND status = ? ORDER BY revision DESC LIMIT 1",
                arguments: [reference.family, TaskDefinitionStatus.active]
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
            arguments: [
                definition.family, definition.revision, definition.taskDefinitionArn, definition.status,
                String(decoding: definition.encodedJSON(), as: UTF8.self),
            ]
        )
    }

    /// The revision the family's next registration gets: one more than its highest, 1 for a new family.
    func nextRevision(of family: String) throws -> Int {
        try count("SELECT COALESCE(MAX(revision), 0) + 1 FROM taskDefinition WHERE family = ?", [family])
    }

    /// The revisions with `status` (of one family when given), by family then revision, ascending or descending.
    func taskDefinitionRevisions(
        status: TaskDefinitionStatus, family: String?, descending: Bool
    ) throws
        -> [(family: String, revision: Int, arn: String)]
    {
        var statement = FilteredStatement(
            sql: "SELECT family, revision, arn FROM taskDefinition WHERE status = ?", arguments: [status])
        statement.equal("family", family)
        statement.sql += descending ? " ORDER BY family DESC, revision DESC" : " ORDER BY family, revision"
        return try Row.fetchAll(self, sql: statement.sql, arguments: statement.arguments)
            .map { (family: $0["family"] as String, revision: $0["revision"] as Int, arn: $0["arn"] as String) }
    }

    /// The families with a revision of `status` (any status when nil), by name.
    func taskDefinitionFamilies(status: TaskDefinitionStatus?) throws -> [String] {
        guard let status else {
            return try String.fetchAll(self, sql: "SELECT DISTINCT family FROM taskDefinition ORDER BY family")
        }
        return try String.fetchAll(
            self, sql: "SELECT DISTINCT family FROM taskDefinition WHERE status = ? ORDER BY family",
            arguments: [status])
    }
}
