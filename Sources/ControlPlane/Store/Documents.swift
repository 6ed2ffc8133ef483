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

/// A statement whose WHERE clause grows by optional filters: each value given adds `AND <column> = ?`.
struct FilteredStatement {
    var sql: String
    var arguments: StatementArguments

    mutating func equal(_ column: String, _ value: (any DatabaseValueConvertible)?) {
        guard let value else { return }
        sql += " AND \(column) = ?"
        arguments += [value]
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
}
