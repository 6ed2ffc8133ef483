import ECSProtocol
import ECSVocabulary
import GRDB

/// The `cluster` table: one row per cluster, the ECS document in `document`.
extension Database {
    /// The cluster a request names (`default` when it names none), ACTIVE or not.
    func cluster(_ identifier: String?) throws -> Cluster? {
        guard let name = ARN.lastComponent(of: identifier ?? "default", kind: "cluster") else { return nil }
        return try document(Cluster.self, "SELECT document FROM cluster WHERE name = ?", [name])
    }

    func saveCluster(_ cluster: Cluster) throws {
        var stored = cluster
        stored.registeredContainerInstancesCount = nil
        stored.runningTasksCount = nil
        stored.pendingTasksCount = nil
        stored.activeServicesCount = nil
        stored.statistics = nil
        stored.tags = nil
        try execute(
            sql: """
                INSERT INTO cluster (name, arn, status, document) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET arn = excluded.arn, status = excluded.status, document = excluded.document
                """,
            arguments: [cluster.clusterName, cluster.clusterArn, cluster.status, try Documents.encode(stored)]
        )
    }

    /// The ACTIVE clusters (name, ARN), by name.
    func activeClusters() throws -> [(name: String, arn: String)] {
        try Row.fetchAll(
            self, sql: "SELECT name, arn FROM cluster WHERE status = ? ORDER BY name", arguments: [ClusterStatus.active]
        )
        .map { (name: $0["name"] as String, arn: $0["arn"] as String) }
    }

    /// The names of the ACTIVE clusters, by name.
    func activeClusterNames() throws -> [String] {
        try String.fetchAll(
            self, sql: "SELECT name FROM cluster WHERE status = ? ORDER BY name", arguments: [ClusterStatus.active])
    }

    /// The cluster's change index: bumped by triggers on every write the scheduler reads ("v5" migration).
    func changeIndex(of cluster: String) throws -> UInt64 {
        UInt64(
            try Int64.fetchOne(self, sql: "SELECT changeIndex FROM cluster WHERE name = ?", arguments: [cluster]) ?? 0)
    }
}
