import Foundation
import ECSProtocol
import GRDB
import HTTPTypes
import Logging

// MARK: - Requests and responses

/// `{"cluster": "NAME", "clusterArn": "...", "joinToken": "64 hex digits", "createdAt": epoch-seconds}`.
struct JoinTokenResponse: Encodable {
    var cluster: String
    var clusterArn: String
    var joinToken: String
    var createdAt: Date
}

extension ECSError {
    /// A `Register` whose join token is not the cluster's current one.
    static func joinTokenRefused(_ cluster: String) -> ECSError {
        ECSError("AccessDeniedException", "joinToken: is not valid for cluster \(cluster).", status: .forbidden)
    }
}

// MARK: - Rules over the store

extension Database {
    /// The cluster's join token, created (from the CSPRNG) when it has none yet.
    func joinToken(of cluster: Cluster, now: Date) throws -> (token: String, createdAt: Date) {
        if let stored = try storedJoinToken(cluster: cluster.clusterName) { return stored }
        return try rotateJoinToken(of: cluster, now: now)
    }

    /// Replaces the cluster's join token; the old one is refused from this commit on.
    func rotateJoinToken(of cluster: Cluster, now: Date) throws -> (token: String, createdAt: Date) {
        let token = Secrets.generate()
        try putJoinToken(token, cluster: cluster.clusterName, createdAt: now)
        return (token, now)
    }
}

// MARK: - Operations

extension ECSAPI {
    static let joinTokenOperations: [String: OperationHandler] = [
        "GetJoinToken": OperationHandler { (request: JoinTokenRequest, context) in
            try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let (token, createdAt) = try db.joinToken(of: cluster, now: context.now)
                return JoinTokenResponse(
                    cluster: cluster.clusterName, clusterArn: cluster.clusterArn, joinToken: token,
                    createdAt: createdAt)
            }
        },
        "RotateJoinToken": OperationHandler { (request: JoinTokenRequest, context) in
            let response = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                let (token, createdAt) = try db.rotateJoinToken(of: cluster, now: context.now)
                return JoinTokenResponse(
                    cluster: cluster.clusterName, clusterArn: cluster.clusterArn, joinToken: token,
                    createdAt: createdAt)
            }
            context.logger.info("join token rotated", metadata: ["cluster": "\(response.cluster)"])
            return response
        },
    ]
}
