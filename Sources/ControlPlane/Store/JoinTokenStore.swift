import Foundation
import GRDB

/// The `joinToken` table: each cluster's join token, stored as issued (GetJoinToken prints it again).
extension Database {
    func storedJoinToken(cluster: String) throws -> (token: String, createdAt: Date)? {
        try Row.fetchOne(self, sql: "SELECT token, createdAt FROM joinToken WHERE cluster = ?", arguments: [cluster])
            .map { (token: $0["token"], createdAt: Date(timeIntervalSince1970: $0["createdAt"])) }
    }

    /// Makes `token` the cluster's join token (the previous one is refused from this commit on).
    func putJoinToken(_ token: String, cluster: String, createdAt: Date) throws {
        try execute(
            sql: """
                INSERT INTO joinToken (cluster, token, createdAt) VALUES (?, ?, ?)
                ON CONFLICT(cluster) DO UPDATE SET token = excluded.token, createdAt = excluded.createdAt
                """,
            arguments: [cluster, token, createdAt.timeIntervalSince1970])
    }
}
