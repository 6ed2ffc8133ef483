import Foundation
import GRDB

/// One row of the `joinTokenV2` table: a join token without its secret (only the secret's SHA-256 is stored).
struct StoredJoinToken: Sendable, Hashable {
    var id: String
    var cluster: String
    /// The SHA-256 of the secret half, lowercase hex.
    var secretHash: String
    var createdAt: Date
    var expiresAt: Date
    /// nil: unlimited until it expires.
    var usesLeft: Int?
    var description: String?
}

/// The `joinTokenV2` table ("v11"): each cluster's join tokens, hashed. (v2's `joinToken` table is empty and unused.)
extension Database {
    func joinToken(id: String) throws -> StoredJoinToken? {
        try Row.fetchOne(
            self,
            sql: """
                SELECT id, cluster, secretHash, createdAt, expiresAt, usesLeft, description FROM joinTokenV2
                WHERE id = ?
                """,
            arguments: [id]
        ).map(StoredJoinToken.init(row:))
    }

    /// The cluster's tokens that can still register an instance at `now`, oldest first.
    func liveJoinTokens(cluster: String, now: Date) throws -> [StoredJoinToken] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT id, cluster, secretHash, createdAt, expiresAt, usesLeft, description FROM joinTokenV2
                WHERE cluster = ? AND expiresAt > ? AND (usesLeft IS NULL OR usesLeft > 0)
                ORDER BY createdAt, id
                """,
            arguments: [cluster, now.timeIntervalSince1970]
        ).map(StoredJoinToken.init(row:))
    }

    func joinTokenIDExists(_ id: String) throws -> Bool {
        try Bool.fetchOne(self, sql: "SELECT EXISTS (SELECT 1 FROM joinTokenV2 WHERE id = ?)", arguments: [id]) ?? false
    }

    func insertJoinToken(_ token: StoredJoinToken) throws {
        try execute(
            sql: """
                INSERT INTO joinTokenV2 (id, cluster, secretHash, createdAt, expiresAt, usesLeft, description)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                token.id, token.cluster, token.secretHash, token.createdAt.timeIntervalSince1970,
                token.expiresAt.timeIntervalSince1970, token.usesLeft, token.description,
            ])
    }

    /// Spends one use of the token `id` if it is live at `now`: false when it has expired, is used up or is gone.
    /// In the caller's write transaction, so two registrations cannot both spend the last use.
    func spendJoinToken(id: String, now: Date) throws -> Bool {
        try execute(
            sql: """
                UPDATE joinTokenV2 SET usesLeft = usesLeft - 1
                WHERE id = ? AND expiresAt > ? AND usesLeft IS NOT NULL AND usesLeft > 0
                """,
            arguments: [id, now.timeIntervalSince1970])
        if changesCount > 0 { return true }
        return try Bool.fetchOne(
            self, sql: "SELECT EXISTS (SELECT 1 FROM joinTokenV2 WHERE id = ? AND expiresAt > ? AND usesLeft IS NULL)",
            arguments: [id, now.timeIntervalSince1970]) ?? false
    }

    /// Deletes one token of the cluster; false when it has none of that id.
    func deleteJoinToken(id: String, cluster: String) throws -> Bool {
        try execute(sql: "DELETE FROM joinTokenV2 WHERE id = ? AND cluster = ?", arguments: [id, cluster])
        return changesCount > 0
    }

    /// Deletes every token of the cluster (RotateJoinToken, DeleteCluster), answering how many.
    func deleteJoinTokens(cluster: String) throws -> Int {
        try execute(sql: "DELETE FROM joinTokenV2 WHERE cluster = ?", arguments: [cluster])
        return changesCount
    }

    /// Deletes the cluster's tokens that can register nothing any more (expired or used up at `now`).
    func deleteDeadJoinTokens(cluster: String, now: Date) throws {
        try execute(
            sql: "DELETE FROM joinTokenV2 WHERE cluster = ? AND (expiresAt <= ? OR usesLeft = 0)",
            arguments: [cluster, now.timeIntervalSince1970])
    }
}

extension StoredJoinToken {
    fileprivate init(row: Row) {
        self.init(
            id: row["id"], cluster: row["cluster"], secretHash: row["secretHash"],
            createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            expiresAt: Date(timeIntervalSince1970: row["expiresAt"]), usesLeft: row["usesLeft"],
            description: row["description"])
    }
}
