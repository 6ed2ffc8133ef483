import ECSProtocol
import Foundation
import GRDB

/// JSON documents in the store: the ECS shapes, dates as epoch seconds like the ECS wire.
enum Documents {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

extension Database {
    /// Decodes the `document` column of every row `sql` selects.
    func documents<T: Decodable>(_ type: T.Type, _ sql: String, _ arguments: StatementArguments = []) throws -> [T] {
        try String.fetchAll(self, sql: sql, arguments: arguments).map { try Documents.decode(type, from: $0) }
    }

    func document<T: Decodable>(_ type: T.Type, _ sql: String, _ arguments: StatementArguments = []) throws -> T? {
        try String.fetchOne(self, sql: sql, arguments: arguments).map { try Documents.decode(type, from: $0) }
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try Int.fetchOne(self, sql: sql, arguments: arguments) ?? 0
    }

    // MARK: - Tags

    func tags(of arn: String) throws -> [ResourceTag] {
        try Row.fetchAll(self, sql: "SELECT key, value FROM tag WHERE resourceArn = ? ORDER BY key", arguments: [arn])
            .map { ResourceTag(key: $0["key"], value: $0["value"]) }
    }

    /// Adds or replaces `tags` on `arn`, keeping ECS's limit of 50 per resource.
    func putTags(_ tags: [ResourceTag], on arn: String) throws {
        for tag in tags {
            try execute(
                sql: "INSERT INTO tag (resourceArn, key, value) VALUES (?, ?, ?) ON CONFLICT(resourceArn, key) DO UPDATE SET value = excluded.value",
                arguments: [arn, tag.key ?? "", tag.value ?? ""]
            )
        }
        if try count("SELECT COUNT(*) FROM tag WHERE resourceArn = ?", [arn]) > TagRules.maxTagsPerResource {
            throw ECSError.invalidParameter("tags: a resource can have at most \(TagRules.maxTagsPerResource) tags.")
        }
    }
}
