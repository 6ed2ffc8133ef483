import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

/// One service's use of a balancer: ECS's `loadBalancers[]` entry of an ACTIVE or DRAINING service.
struct LoadBalancerAttachment: Codable, Hashable, Sendable {
    var loadBalancerName: String
    var cluster: String
    var serviceName: String
    var containerName: String
    var containerPort: Int
}

extension Database {
    // MARK: - Definitions

    func loadBalancerDefinition(named name: String) throws -> LoadBalancerDefinition? {
        try document(LoadBalancerDefinition.self, "SELECT document FROM loadBalancer WHERE name = ?", [name])
    }

    func loadBalancerDefinitions() throws -> [LoadBalancerDefinition] {
        try documents(LoadBalancerDefinition.self, "SELECT document FROM loadBalancer ORDER BY name")
    }

    func insertLoadBalancer(_ definition: LoadBalancerDefinition) throws {
        try execute(
            sql: "INSERT INTO loadBalancer (name, arn, listenerPort, document) VALUES (?, ?, ?, ?)",
            arguments: [
                definition.loadBalancerName, definition.loadBalancerArn, definition.listenerPort,
                try Documents.encode(definition),
            ])
    }

    // MARK: - Attachments and targets

    /// Every service's balancer entries (services not INACTIVE), optionally only those of balancer `name`, or
    /// only those of one service (`cluster` and `service`: a primary-key lookup).
    func loadBalancerAttachments(
        named name: String? = nil, cluster: String? = nil, service: String? = nil
    ) throws -> [LoadBalancerAttachment] {
        let oneService = cluster != nil && service != nil
        let rows = try Row.fetchAll(
            self,
            sql: """
                SELECT s.cluster AS cluster, s.name AS serviceName,
                    json_extract(entry.value, '$.loadBalancerName') AS loadBalancerName,
                    json_extract(entry.value, '$.containerName') AS containerName,
                    json_extract(entry.value, '$.containerPort') AS containerPort
                FROM service s, json_each(s.document, '$.loadBalancers') entry
                WHERE \(oneService ? "s.cluster = ?2 AND s.name = ?3 AND" : "") s.status != ?4
                    AND json_type(entry.value) = 'object'
                    AND (?1 IS NULL OR json_extract(entry.value, '$.loadBalancerName') = ?1)
                ORDER BY s.cluster, s.name
                """,
            arguments: [name, cluster, service, ServiceStatus.inactive])
        return rows.compactMap { row in
            guard let balancer: String = row["loadBalancerName"], let container: String = row["containerName"],
                let port: Int = row["containerPort"]
            else { return nil }
            return LoadBalancerAttachment(
                loadBalancerName: ARNs.loadBalancerName(balancer), cluster: row["cluster"],
                serviceName: row["serviceName"],
                containerName: container, containerPort: port)
        }
    }

    /// The service's tasks desired and last RUNNING, in creation order, each with its instance's agent address.
    func runningTasksWithAddresses(cluster: String, service: String) throws -> [(task: ECSTask, address: String?)] {
        try Row.fetchAll(
            self,
            sql: """
                SELECT t.document AS task, ci.agentAddress AS address FROM task t
                LEFT JOIN containerInstance ci ON ci.cluster = t.cluster AND ci.id = t.containerInstanceId
                WHERE t.cluster = ?1 AND t.serviceName = ?2 AND t.desiredStatus = ?3 AND t.lastStatus = ?3
                ORDER BY t.rowid
                """,
            arguments: [cluster, service, TaskStatus.running]
        ).map { (task: try Documents.decode(ECSTask.self, from: $0["task"]), address: $0["address"]) }
    }

    /// The balancer listening on `port`, if any.
    func loadBalancerName(listeningOn port: Int) throws -> String? {
        try String.fetchOne(self, sql: "SELECT name FROM loadBalancer WHERE listenerPort = ?", arguments: [port])
    }

    /// Deletes balancer `name` and every verdict reported on its targets.
    func deleteLoadBalancer(named name: String) throws {
        try execute(sql: "DELETE FROM loadBalancer WHERE name = ?", arguments: [name])
        try execute(sql: "DELETE FROM targetHealth WHERE loadBalancerName = ?", arguments: [name])
    }
}
