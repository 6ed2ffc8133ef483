import Foundation
import GRDB

/// One row of the `accessKey` table: the secret still sealed (`SecretBox` opens it).
struct StoredAccessKey: Sendable, Hashable {
    var id: String
    var name: String
    /// An `AccessKeyScope` raw value.
    var scope: String
    var sealedSecret: Data
    var createdAt: Date
    var expiresAt: Date?
    /// The container instance an instance credential acts for: (cluster name, instance id).
    var instanceCluster: String?
    var instanceID: String?
}

/// The `accessKey` table: every access key, its scope and its sealed secret.
extension Database {
    func accessKeys() throws -> [StoredAccessKey] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT id, name, scope, sealedSecret, createdAt, expiresAt, instanceCluster, instanceID
                FROM accessKey ORDER BY createdAt, id
                """
        ).map { row in
            StoredAccessKey(
                id: row["id"], name: row["name"], scope: row["scope"], sealedSecret: row["sealedSecret"],
                createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                expiresAt: (row["expiresAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
                instanceCluster: row["instanceCluster"], instanceID: row["instanceID"])
        }
    }

    func accessKeyNameExists(_ name: String) throws -> Bool {
        try Bool.fetchOne(self, sql: "SELECT EXISTS (SELECT 1 FROM accessKey WHERE name = ?)", arguments: [name])
            ?? false
    }

    /// Adds `key`, or replaces the key of the same id (an operator's admin key given again at start).
    func putAccessKey(_ key: StoredAccessKey) throws {
        try execute(
            sql: """
                INSERT INTO accessKey (id, name, scope, sealedSecret, createdAt, expiresAt, instanceCluster, instanceID)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, sealedSecret = excluded.sealedSecret,
                    expiresAt = excluded.expiresAt, instanceCluster = excluded.instanceCluster,
                    instanceID = excluded.instanceID
                """,
            arguments: [
                key.id, key.name, key.scope, key.sealedSecret, key.createdAt.timeIntervalSince1970,
                key.expiresAt?.timeIntervalSince1970, key.instanceCluster, key.instanceID,
            ])
    }

    /// Deletes one key; false when there was none of that id.
    func deleteAccessKey(id: String) throws -> Bool {
        try execute(sql: "DELETE FROM accessKey WHERE id = ?", arguments: [id])
        return changesCount > 0
    }

    /// Ends the instance credentials of one container instance at `expiresAt` at the latest (a rotation's grace),
    /// except `keeping`; answers their ids.
    func expireInstanceCredentials(
        cluster: String, instanceID: String, keeping: String, at expiresAt: Date
    ) throws -> [String] {
        let ids = try String.fetchAll(
            self, sql: "SELECT id FROM accessKey WHERE instanceCluster = ? AND instanceID = ? AND id != ?",
            arguments: [cluster, instanceID, keeping])
        try execute(
            sql: """
                UPDATE accessKey SET expiresAt = MIN(COALESCE(expiresAt, ?1), ?1)
                WHERE instanceCluster = ?2 AND instanceID = ?3 AND id != ?4
                """,
            arguments: [expiresAt.timeIntervalSince1970, cluster, instanceID, keeping])
        return ids
    }

    /// Deletes the instance credentials of one container instance (a new Register issues the next), returning
    /// their ids.
    func deleteInstanceCredentials(cluster: String, instanceID: String) throws -> [String] {
        let ids = try String.fetchAll(
            self, sql: "SELECT id FROM accessKey WHERE instanceCluster = ? AND instanceID = ?",
            arguments: [cluster, instanceID])
        try execute(
            sql: "DELETE FROM accessKey WHERE instanceCluster = ? AND instanceID = ?", arguments: [cluster, instanceID])
        return ids
    }
}
