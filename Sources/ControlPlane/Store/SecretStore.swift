import Foundation
import GRDB

/// One row of the `secret` table: a Secrets Manager secret's metadata.
struct StoredSecret: Sendable, Hashable {
    var name: String
    var arn: String
    var description: String?
    var kmsKeyId: String?
    var createdAt: Date
    var lastChangedAt: Date
    var lastAccessedAt: Date?
    /// When DeleteSecret scheduled its deletion, and when the deletion takes effect.
    var deletedAt: Date?
    var deletionAt: Date?
}

/// One row of the `secretVersion` table: the value still sealed (`SecretBox`, see `SecretRecords`).
struct StoredSecretVersion: Sendable, Hashable {
    var versionId: String
    var sealedValue: Data
    /// AWSCURRENT, AWSPREVIOUS, or nil (a version about to be deleted).
    var stage: String?
    var createdAt: Date
}

/// The `secret` and `secretVersion` tables ("v12"): Secrets Manager's secrets and their versions.
///
/// A secret whose recovery window has ended (`deletionAt` at or before `now`) is gone: reads skip it and every write
/// of the secret store first purges it (`purgeDeletedSecrets`).
extension Database {
    private static let secretColumns =
        "name, arn, description, kmsKeyId, createdAt, lastChangedAt, lastAccessedAt, deletedAt, deletionAt"

    private static func secret(_ row: Row) -> StoredSecret {
        StoredSecret(
            name: row["name"], arn: row["arn"], description: row["description"], kmsKeyId: row["kmsKeyId"],
            createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            lastChangedAt: Date(timeIntervalSince1970: row["lastChangedAt"]),
            lastAccessedAt: (row["lastAccessedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            deletedAt: (row["deletedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            deletionAt: (row["deletionAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    /// Deletes the secrets (and their versions) whose recovery window ended at or before `now`.
    func purgeDeletedSecrets(now: Date) throws {
        let cutoff = now.timeIntervalSince1970
        try execute(
            sql: "DELETE FROM secretVersion WHERE secretName IN (SELECT name FROM secret WHERE deletionAt <= ?)",
            arguments: [cutoff])
        try execute(sql: "DELETE FROM secret WHERE deletionAt <= ?", arguments: [cutoff])
    }

    /// The live secret (not past its deletion) named `name`, or whose ARN is `arn`, or, for a partial ARN
    /// (`...:secret:NAME`, without the random suffix), named `partialName`.
    func secret(name: String?, arn: String?, partialName: String?, now: Date) throws -> StoredSecret? {
        try Row.fetchOne(
            self,
            sql: """
                SELECT \(Self.secretColumns) FROM secret
                WHERE (name = ? OR arn = ? OR name = ?) AND (deletionAt IS NULL OR deletionAt > ?)
                ORDER BY (arn = ?) DESC LIMIT 1
                """,
            arguments: [name, arn, partialName, now.timeIntervalSince1970, arn]
        ).map(Self.secret)
    }

    /// Whether any secret row (scheduled for deletion or not) is named `name`.
    func secretNameExists(_ name: String) throws -> Bool {
        try Bool.fetchOne(self, sql: "SELECT EXISTS (SELECT 1 FROM secret WHERE name = ?)", arguments: [name]) ?? false
    }

    func secretCount() throws -> Int {
        try Int.fetchOne(self, sql: "SELECT COUNT(*) FROM secret") ?? 0
    }

    func insertSecret(_ secret: StoredSecret) throws {
        try execute(
            sql: "INSERT INTO secret (\(Self.secretColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                secret.name, secret.arn, secret.description, secret.kmsKeyId, secret.createdAt.timeIntervalSince1970,
                secret.lastChangedAt.timeIntervalSince1970, secret.lastAccessedAt?.timeIntervalSince1970,
                secret.deletedAt?.timeIntervalSince1970, secret.deletionAt?.timeIntervalSince1970,
            ])
    }

    /// Schedules (or, with nil dates, cancels) the deletion of the secret `name`.
    func scheduleSecretDeletion(name: String, deletedAt: Date?, deletionAt: Date?) throws {
        try execute(
            sql: "UPDATE secret SET deletedAt = ?, deletionAt = ? WHERE name = ?",
            arguments: [deletedAt?.timeIntervalSince1970, deletionAt?.timeIntervalSince1970, name])
    }

    /// Deletes the secret `name` and its versions now.
    func deleteSecret(name: String) throws {
        try execute(sql: "DELETE FROM secretVersion WHERE secretName = ?", arguments: [name])
        try execute(sql: "DELETE FROM secret WHERE name = ?", arguments: [name])
    }

    func touchSecret(name: String, changedAt: Date? = nil, accessedAt: Date? = nil) throws {
        try execute(
            sql: """
                UPDATE secret SET lastChangedAt = COALESCE(?, lastChangedAt),
                    lastAccessedAt = COALESCE(?, lastAccessedAt) WHERE name = ?
                """,
            arguments: [changedAt?.timeIntervalSince1970, accessedAt?.timeIntervalSince1970, name])
    }

    /// Every live secret (those scheduled for deletion only with `includingScheduled`), by name.
    func secrets(includingScheduled: Bool, now: Date) throws -> [StoredSecret] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT \(Self.secretColumns) FROM secret
                WHERE (deletionAt IS NULL OR (? AND deletionAt > ?)) ORDER BY name
                """,
            arguments: [includingScheduled, now.timeIntervalSince1970]
        ).map(Self.secret)
    }

    // MARK: - Versions

    func secretVersions(of name: String) throws -> [StoredSecretVersion] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT versionId, sealedValue, stage, createdAt FROM secretVersion WHERE secretName = ?
                ORDER BY createdAt DESC, versionId
                """,
            arguments: [name]
        ).map {
            StoredSecretVersion(
                versionId: $0["versionId"], sealedValue: $0["sealedValue"], stage: $0["stage"],
                createdAt: Date(timeIntervalSince1970: $0["createdAt"]))
        }
    }

    /// Adds `version` to the secret `name` as its `AWSCURRENT`: the current one becomes `AWSPREVIOUS`, and the
    /// previous one, left without a stage, is deleted.
    func addCurrentSecretVersion(
        _ version: StoredSecretVersion, to name: String, current: String, previous: String
    ) throws {
        try execute(
            sql: "DELETE FROM secretVersion WHERE secretName = ? AND (stage IS NULL OR stage = ?)",
            arguments: [name, previous])
        try execute(
            sql: "UPDATE secretVersion SET stage = ? WHERE secretName = ? AND stage = ?",
            arguments: [previous, name, current])
        try execute(
            sql: """
                INSERT INTO secretVersion (secretName, versionId, sealedValue, stage, createdAt)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [name, version.versionId, version.sealedValue, current, version.createdAt.timeIntervalSince1970])
    }
}
