import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

/// The `containerInstance` table: one row per registered host, the ECS document in `document` (without tags and
/// attributes, which have their tables), plus the agent's columns (credential, contact, address, endpoint).
extension Database {
    func containerInstance(_ identifier: String, in cluster: Cluster) throws -> ContainerInstance? {
        guard let id = ARN.lastComponent(of: identifier, kind: "container-instance") else { return nil }
        return try document(
            ContainerInstance.self, "SELECT document FROM containerInstance WHERE cluster = ? AND id = ?",
            [cluster.clusterName, id])
    }

    func saveContainerInstance(_ instance: ContainerInstance, cluster: Cluster) throws {
        var stored = instance
        stored.tags = nil
        stored.attributes = nil
        try execute(
            sql: """
                INSERT INTO containerInstance (cluster, id, arn, status, document) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(cluster, id) DO UPDATE SET status = excluded.status, document = excluded.document
                """,
            arguments: [
                cluster.clusterName, instance.id, instance.containerInstanceArn, instance.status,
                try Documents.encode(stored),
            ]
        )
    }

    // MARK: - The agent's columns

    /// The instance's document with its desired-state index.
    func agentRecord(instanceID: String, cluster: String) throws -> (instance: ContainerInstance, desiredIndex: Int64)? {
        guard
            let row = try Row.fetchOne(
                self, sql: "SELECT document, desiredIndex FROM containerInstance WHERE cluster = ? AND id = ?",
                arguments: [cluster, instanceID])
        else { return nil }
        return (
            instance: try Documents.decode(ContainerInstance.self, from: row["document"]),
            desiredIndex: row["desiredIndex"]
        )
    }

    /// Stamps the agent's last contact (the contact monitor disconnects instances silent past the grace period).
    func recordContact(instanceID: String, cluster: String, at now: Date) throws {
        try execute(
            sql: "UPDATE containerInstance SET lastContactAt = ? WHERE cluster = ? AND id = ?",
            arguments: [now.timeIntervalSince1970, cluster, instanceID])
    }

    /// What `Register` stores beside the document: the contact, the agent's address, and its endpoint with the
    /// endpoint secret sealed (`SecretBox`). (The agent's credential is an access key now, in `accessKey`; the hash
    /// column of the bearer credential that came before is cleared, and so is `agentToken`, the secret's clear copy
    /// before migration "v10".)
    func recordRegistration(
        instanceID: String, cluster: String, at now: Date, address: String?, endpoint: String?,
        sealedEndpointSecret: Data?
    ) throws {
        try execute(
            sql: """
                UPDATE containerInstance SET credentialHash = NULL, lastContactAt = ?, agentAddress = ?,
                    agentEndpoint = ?, agentToken = NULL, agentSecretSealed = ?
                WHERE cluster = ? AND id = ?
                """,
            arguments: [now.timeIntervalSince1970, address, endpoint, sealedEndpointSecret, cluster, instanceID])
    }

    /// The instance's document with the endpoint its agent serves logs and exec on, and its endpoint secret, sealed.
    func agentEndpoint(
        instanceID: String, cluster: String
    ) throws -> (instance: ContainerInstance, endpoint: String?, sealedSecret: Data?)? {
        guard
            let row = try Row.fetchOne(
                self,
                sql: """
                    SELECT document, agentEndpoint, agentSecretSealed FROM containerInstance
                    WHERE cluster = ? AND id = ?
                    """, arguments: [cluster, instanceID])
        else { return nil }
        return (
            instance: try Documents.decode(ContainerInstance.self, from: row["document"]),
            endpoint: row["agentEndpoint"], sealedSecret: row["agentSecretSealed"]
        )
    }

    /// Keeps the agent's latest usage report (a JSON object) for the autoscaler.
    func recordMetrics(_ metrics: JSONValue, instanceID: String, cluster: String) throws {
        try execute(
            sql: "UPDATE containerInstance SET metrics = ? WHERE cluster = ? AND id = ?",
            arguments: [try Documents.encode(metrics), cluster, instanceID])
    }

    /// The instance's desired-state index: triggers bump it whenever a task on the instance changes as its agent
    /// must hear ("v3" migration).
    func desiredIndex(of instance: ContainerInstance, cluster: Cluster) throws -> Int64 {
        try Int64.fetchOne(
            self, sql: "SELECT desiredIndex FROM containerInstance WHERE cluster = ? AND id = ?",
            arguments: [cluster.clusterName, instance.id]) ?? 0
    }

    /// The instance's `status` column as stored, nil when the instance is gone.
    func instanceStatusText(instanceID: String, cluster: String) throws -> String? {
        try String.fetchOne(
            self, sql: "SELECT status FROM containerInstance WHERE cluster = ? AND id = ?",
            arguments: [cluster, instanceID])
    }

    /// Every registered instance whose agent was last heard from before `cutoff` (epoch seconds), with its cluster.
    func instancesSilent(since cutoff: Double) throws -> [(cluster: String, instance: ContainerInstance)] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT cluster, document FROM containerInstance
                WHERE status != ? AND lastContactAt IS NOT NULL AND lastContactAt < ?
                """, arguments: [ContainerInstanceStatus.inactive, cutoff]
        ).map { (cluster: $0["cluster"], instance: try Documents.decode(ContainerInstance.self, from: $0["document"])) }
    }

    /// How many of the cluster's instances have one of `statuses`.
    func instanceCount(cluster: String, statuses: [ContainerInstanceStatus]) throws -> Int {
        try count(
            "SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status IN (\(databaseQuestionMarks(count: statuses.count)))",
            [cluster] + StatementArguments(statuses))
    }

    /// How many of the cluster's instances are ACTIVE with their agent connected.
    func connectedActiveInstanceCount(cluster: String) throws -> Int {
        try count(
            "SELECT COUNT(*) FROM containerInstance WHERE cluster = ? AND status = ? AND json_extract(document, '$.agentConnected')",
            [cluster, ContainerInstanceStatus.active])
    }

    /// The (id, ARN) of the cluster's instances with one of `statuses`, by id.
    func instanceIdentifiers(cluster: String, statuses: [ContainerInstanceStatus]) throws -> [(id: String, arn: String)]
    {
        try Row.fetchAll(
            self,
            sql:
                "SELECT id, arn FROM containerInstance WHERE cluster = ? AND status IN (\(databaseQuestionMarks(count: statuses.count))) ORDER BY id",
            arguments: [cluster] + StatementArguments(statuses)
        )
        .map { (id: $0["id"] as String, arn: $0["arn"] as String) }
    }

    /// The cluster's instances with one of `statuses`, by id.
    func instances(cluster: String, statuses: [ContainerInstanceStatus]) throws -> [ContainerInstance] {
        try documents(
            ContainerInstance.self,
            "SELECT document FROM containerInstance WHERE cluster = ? AND status IN (\(databaseQuestionMarks(count: statuses.count))) ORDER BY id",
            [cluster] + StatementArguments(statuses))
    }
}
