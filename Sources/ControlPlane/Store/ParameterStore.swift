import Foundation
import GRDB

/// One row of the `ssmParameter` table: the value still sealed (`SecretBox`, see `ParameterStoreRecords`).
struct StoredParameter: Sendable, Hashable {
    var name: String
    /// A `ParameterType` raw value.
    var type: String
    var sealedValue: Data
    var version: Int
    /// A `ParameterTier` raw value (Standard or Advanced).
    var tier: String
    var keyId: String?
    var description: String?
    var lastModifiedAt: Date
    var lastModifiedUser: String
}

/// The `ssmParameter` table ("v12"): the parameter store, one row per parameter at its latest version.
extension Database {
    private static let parameterColumns =
        "name, type, sealedValue, version, tier, keyId, description, lastModifiedAt, lastModifiedUser"

    private static func parameter(_ row: Row) -> StoredParameter {
        StoredParameter(
            name: row["name"], type: row["type"], sealedValue: row["sealedValue"], version: row["version"],
            tier: row["tier"], keyId: row["keyId"], description: row["description"],
            lastModifiedAt: Date(timeIntervalSince1970: row["lastModifiedAt"]),
            lastModifiedUser: row["lastModifiedUser"])
    }

    /// The parameter of exactly `name`.
    func parameter(named name: String) throws -> StoredParameter? {
        try Row.fetchOne(
            self, sql: "SELECT \(Self.parameterColumns) FROM ssmParameter WHERE name = ?", arguments: [name]
        ).map(Self.parameter)
    }

    /// The first of `names` that exists (a reference by ARN may name `a` or `/a`).
    func parameter(anyOf names: [String]) throws -> StoredParameter? {
        for name in names {
            if let found = try parameter(named: name) { return found }
        }
        return nil
    }

    /// Adds or replaces the row of `parameter.name`.
    func putParameter(_ parameter: StoredParameter) throws {
        try execute(
            sql: """
                INSERT INTO ssmParameter (\(Self.parameterColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET type = excluded.type, sealedValue = excluded.sealedValue,
                    version = excluded.version, tier = excluded.tier, keyId = excluded.keyId,
                    description = excluded.description, lastModifiedAt = excluded.lastModifiedAt,
                    lastModifiedUser = excluded.lastModifiedUser
                """,
            arguments: [
                parameter.name, parameter.type, parameter.sealedValue, parameter.version, parameter.tier,
                parameter.keyId, parameter.description, parameter.lastModifiedAt.timeIntervalSince1970,
                parameter.lastModifiedUser,
            ])
    }

    /// Deletes the parameter of exactly `name`; false when there was none.
    func deleteParameter(named name: String) throws -> Bool {
        try execute(sql: "DELETE FROM ssmParameter WHERE name = ?", arguments: [name])
        return changesCount > 0
    }

    func parameterCount() throws -> Int {
        try Int.fetchOne(self, sql: "SELECT COUNT(*) FROM ssmParameter") ?? 0
    }

    /// The names and types of the parameters whose names start with `prefix` (every one for ""), by name.
    /// Names are ASCII (`ParameterStoreRules`), so SQLite's character `substr` compares bytes.
    func parameterNames(prefix: String) throws -> [(name: String, type: String)] {
        try Row.fetchAll(
            self,
            sql: "SELECT name, type FROM ssmParameter WHERE substr(name, 1, ?) = ? ORDER BY name",
            arguments: [prefix.count, prefix]
        ).map { (name: $0["name"], type: $0["type"]) }
    }

    /// The parameters of `names`, by name (metadata and sealed values).
    func parameters(named names: [String]) throws -> [StoredParameter] {
        guard !names.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: names.count).joined(separator: ", ")
        return try Row.fetchAll(
            self, sql: "SELECT \(Self.parameterColumns) FROM ssmParameter WHERE name IN (\(marks)) ORDER BY name",
            arguments: StatementArguments(names)
        ).map(Self.parameter)
    }
}
