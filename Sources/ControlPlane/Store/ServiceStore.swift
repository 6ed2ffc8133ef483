import ECSProtocol
import ECSVocabulary
import GRDB

/// The `service` table: one row per service (any status), the ECS document in `document`.
extension Database {
    /// The service a request names in `cluster` (any status), or nil.
    func service(_ identifier: String, in cluster: Cluster) throws -> ECSService? {
        guard let name = ARN.lastComponent(of: identifier, kind: "service") else { return nil }
        return try document(
            ECSService.self, "SELECT document FROM service WHERE cluster = ? AND name = ?",
            [cluster.clusterName, name])
    }

    func saveService(_ service: ECSService, cluster: Cluster) throws {
        var stored = service
        stored.tags = nil
        try execute(
            sql: """
                INSERT INTO service (cluster, name, arn, status, document) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(cluster, name) DO UPDATE SET arn = excluded.arn, status = excluded.status, document = excluded.document
                """,
            arguments: [
                cluster.clusterName, service.serviceName, service.serviceArn, service.status,
                try Documents.encode(stored),
            ]
        )
    }

    /// The cluster's services with one of `statuses`, by name.
    func services(cluster: String, statuses: [ServiceStatus]) throws -> [ECSService] {
        try documents(
            ECSService.self,
            "SELECT document FROM service WHERE cluster = ? AND status IN (\(databaseQuestionMarks(count: statuses.count))) ORDER BY name",
            [cluster] + StatementArguments(statuses))
    }

    /// How many of the cluster's services have one of `statuses`.
    func serviceCount(cluster: String, statuses: [ServiceStatus]) throws -> Int {
        try count(
            "SELECT COUNT(*) FROM service WHERE cluster = ? AND status IN (\(databaseQuestionMarks(count: statuses.count)))",
            [cluster] + StatementArguments(statuses))
    }

    /// A service's stored document text, undecoded (it may not decode).
    func serviceDocument(_ name: String, cluster: String) throws -> String? {
        try String.fetchOne(
            self, sql: "SELECT document FROM service WHERE cluster = ? AND name = ?", arguments: [cluster, name])
    }

    /// The cluster's ACTIVE services as stored (name, document text), by name: the reconciler decodes them one by one.
    func activeServiceDocuments(cluster: String) throws -> [(name: String, document: String)] {
        try Row.fetchAll(
            self, sql: "SELECT name, document FROM service WHERE cluster = ? AND status = ? ORDER BY name",
            arguments: [cluster, ServiceStatus.active]
        )
        .map { (name: $0["name"] as String, document: $0["document"] as String) }
    }
}
