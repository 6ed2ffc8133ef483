import AgentProtocol
import FlotillaDigest
import ECSProtocol
import Foundation
import GRDB
import HTTPTypes
import Logging

// MARK: - Requests and responses

/// `{"joinTokens": [...]}`: the cluster's live tokens, never their secrets.
struct JoinTokensResponse: Encodable {
    var joinTokens: [JoinTokenDescription]
}

extension ECSError {
    /// A `Register` whose join token is malformed, unknown, deleted, expired or used up: one answer for all, so a
    /// refusal tells a guesser nothing.
    static func joinTokenRefused(_ cluster: String) -> ECSError {
        ECSError("AccessDeniedException", "joinToken: is not valid for cluster \(cluster).", status: .forbidden)
    }

    static func joinTokenNotFound(_ id: String, cluster: String) -> ECSError {
        ECSError(
            "ResourceNotFoundException", "tokenId: the join token \(id) cannot be found in cluster \(cluster).")
    }

    static func joinTokenLimitExceeded(_ cluster: String) -> ECSError {
        ECSError(
            "LimitExceededException",
            "cluster: \(cluster) has \(JoinTokenLimits.maxLivePerCluster) live join tokens; delete some (delete-join-token) or wait for them to expire."
        )
    }
}

enum JoinTokenLimits {
    /// Live tokens one cluster may hold: GetJoinToken makes one per call, and a script in a loop must not fill the
    /// store.
    static let maxLivePerCluster = 1000
}

/// A new join token before it is stored: the full text (shown once) and the row that keeps only its hash.
struct IssuedJoinToken: Sendable {
    var token: String
    var stored: StoredJoinToken
}

/// Join token material: ids and secrets from the system CSPRNG, and the hash the store keeps.
enum JoinTokenMaterial {
    /// `count` characters drawn uniformly from `JoinTokenRules.alphabet` with `SystemRandomNumberGenerator`.
    static func random(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in JoinTokenRules.alphabet.randomElement(using: &generator)! })
    }

    /// The SHA-256 of a secret, lowercase hex: what the store keeps instead of the secret.
    static func hash(_ secret: String) -> String {
        SHA256.hex(secret.utf8)
    }
}

// MARK: - Rules over the store

extension Database {
    /// Makes a join token for `cluster` (deleting its dead ones first), answering it with the only copy of its secret.
    func createJoinToken(
        for cluster: Cluster, ttlSeconds: Int?, uses: Int?, description: String?, now: Date
    ) throws -> IssuedJoinToken {
        try deleteDeadJoinTokens(cluster: cluster.clusterName, now: now)
        guard try liveJoinTokens(cluster: cluster.clusterName, now: now).count < JoinTokenLimits.maxLivePerCluster
        else {
            throw ECSError.joinTokenLimitExceeded(cluster.clusterName)
        }
        var id = JoinTokenMaterial.random(JoinTokenRules.idLength)
        while try joinTokenIDExists(id) { id = JoinTokenMaterial.random(JoinTokenRules.idLength) }
        let secret = JoinTokenMaterial.random(JoinTokenRules.secretLength)
        let stored = StoredJoinToken(
            id: id, cluster: cluster.clusterName, secretHash: JoinTokenMaterial.hash(secret), createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(ttlSeconds ?? JoinTokenRules.defaultTTLSeconds)),
            usesLeft: uses, description: description)
        try insertJoinToken(stored)
        return IssuedJoinToken(token: "\(id).\(secret)", stored: stored)
    }

    /// Checks `token` for a Register into `cluster` and spends one of its uses, in the caller's transaction.
    ///
    /// - Throws: `ECSError.joinTokenRefused` when it is malformed, unknown, of another cluster, wrong, expired or
    ///   used up (the same answer for each).
    func admitJoinToken(_ token: String, into cluster: Cluster, now: Date) throws {
        // The secret is compared by its hash, in constant time; the id only finds the row.
        guard let presented = JoinTokenRules.parse(token), let stored = try joinToken(id: presented.id),
            constantTimeEqual(stored.secretHash, JoinTokenMaterial.hash(presented.secret)),
            stored.cluster == cluster.clusterName, try spendJoinToken(id: stored.id, now: now)
        else {
            throw ECSError.joinTokenRefused(cluster.clusterName)
        }
    }
}

extension OperationContext {
    func describe(_ token: StoredJoinToken, clusterArn: String, joinToken: String? = nil) -> JoinTokenDescription {
        JoinTokenDescription(
            tokenId: token.id, cluster: token.cluster, clusterArn: clusterArn,
            createdAt: token.createdAt.timeIntervalSince1970, expiresAt: token.expiresAt.timeIntervalSince1970,
            usesLeft: token.usesLeft, description: token.description, joinToken: joinToken)
    }

    /// Makes a join token in `identifier`'s cluster (after deleting its others, for RotateJoinToken), logs it, and
    /// answers it with its secret.
    func createJoinToken(
        cluster identifier: String?, ttlSeconds: Int? = nil, uses: Int? = nil, description: String? = nil,
        replacingOthers: Bool = false
    ) async throws -> JoinTokenDescription {
        let (token, deleted) = try await store.write { db in
            let cluster = try db.activeCluster(identifier)
            let deleted = replacingOthers ? try db.deleteJoinTokens(cluster: cluster.clusterName) : 0
            let issued = try db.createJoinToken(
                for: cluster, ttlSeconds: ttlSeconds, uses: uses, description: description, now: now)
            var answer = describe(
                issued.stored, clusterArn: cluster.clusterArn,
                joinToken: JoinTokenText.joining(issued.token, caCertHash: configuration.caCertificateHash))
            answer.caCertHash = configuration.caCertificateHash
            return (answer, deleted)
        }
        var metadata: Logger.Metadata = [
            "cluster": "\(token.cluster)", "joinToken.id": "\(token.tokenId)",
            "joinToken.expiresAt": "\(Date(timeIntervalSince1970: token.expiresAt))",
            "joinToken.uses": "\(token.usesLeft.map(String.init) ?? "unlimited")", "by": "\(principal.name)",
        ]
        if replacingOthers { metadata["joinToken.deleted"] = "\(deleted)" }
        logger.info(replacingOthers ? "join tokens rotated" : "join token created", metadata: metadata)
        return token
    }
}

// MARK: - Operations

extension ECSAPI {
    static let joinTokenOperations: [String: OperationHandler] = [
        "CreateJoinToken": OperationHandler { (request: CreateJoinTokenRequest, context) in
            try await context.createJoinToken(
                cluster: request.cluster, ttlSeconds: request.ttlSeconds, uses: request.uses,
                description: request.description)
        },
        "ListJoinTokens": OperationHandler { (request: JoinTokenRequest, context) in
            try await context.store.read { db in
                let cluster = try db.activeCluster(request.cluster)
                return JoinTokensResponse(
                    joinTokens: try db.liveJoinTokens(cluster: cluster.clusterName, now: context.now).map {
                        context.describe($0, clusterArn: cluster.clusterArn)
                    })
            }
        },
        "DeleteJoinToken": OperationHandler { (request: DeleteJoinTokenRequest, context) in
            let response = try await context.store.write { db in
                let cluster = try db.activeCluster(request.cluster)
                guard let stored = try db.joinToken(id: request.tokenId), stored.cluster == cluster.clusterName,
                    try db.deleteJoinToken(id: stored.id, cluster: cluster.clusterName)
                else {
                    throw ECSError.joinTokenNotFound(request.tokenId, cluster: cluster.clusterName)
                }
                return context.describe(stored, clusterArn: cluster.clusterArn)
            }
            context.logger.info(
                "join token deleted",
                metadata: [
                    "cluster": "\(response.cluster)", "joinToken.id": "\(response.tokenId)",
                    "by": "\(context.principal.name)",
                ])
            return response
        },
        // The first API's two verbs, kept so scripts and the quick start go on working: Get makes a token with the
        // defaults (each call a new one), Rotate deletes the cluster's tokens and makes one.
        "GetJoinToken": OperationHandler { (request: JoinTokenRequest, context) in
            try await context.createJoinToken(cluster: request.cluster)
        },
        "RotateJoinToken": OperationHandler { (request: JoinTokenRequest, context) in
            try await context.createJoinToken(cluster: request.cluster, replacingOthers: true)
        },
    ]
}
