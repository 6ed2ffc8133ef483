import AgentProtocol
import ECSProtocol
import Foundation
import GRDB
import LoadBalancer
import TaskDefinitions

/// One service's use of a balancer: ECS's `loadBalancers[]` entry of an ACTIVE or DRAINING service.
struct LoadBalancerAttachment: Codable, Hashable, Sendable {
    var loadBalancerName: String
    var cluster: String
    var serviceName: String
    var containerName: String
    var containerPort: Int
}

/// A target the store wants a balancer to have: the host binding of one RUNNING task's container port.
struct DesiredTarget: Hashable, Sendable {
    var target: Target
    var attachment: LoadBalancerAttachment
    var taskArn: String
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
            arguments: [definition.loadBalancerName, definition.loadBalancerArn, definition.listenerPort,
                        try Documents.encode(definition)])
    }

    // MARK: - Attachments and targets

    /// Every service's balancer entries (services not INACTIVE), optionally only those of balancer `name`, or
    /// only those of one service (`cluster` and `service`: a primary-key lookup).
    func loadBalancerAttachments(named name: String? = nil, cluster: String? = nil, service: String? = nil) throws -> [LoadBalancerAttachment] {
        let oneService = cluster != nil && service != nil
        let rows = try Row.fetchAll(
            self,
            sql: """
                SELECT s.cluster AS cluster, s.name AS serviceName,
                    json_extract(entry.value, '$.loadBalancerName') AS loadBalancerName,
                    json_extract(entry.value, '$.containerName') AS containerName,
                    json_extract(entry.value, '$.containerPort') AS containerPort
                FROM service s, json_each(s.document, '$.loadBalancers') entry
                WHERE \(oneService ? "s.cluster = ?2 AND s.name = ?3 AND" : "") s.status != 'INACTIVE'
                    AND json_type(entry.value) = 'object'
                    AND (?1 IS NULL OR json_extract(entry.value, '$.loadBalancerName') = ?1)
                ORDER BY s.cluster, s.name
                """,
            arguments: oneService ? [name, cluster, service] : [name])
        return rows.compactMap { row in
            guard let balancer: String = row["loadBalancerName"], let container: String = row["containerName"],
                  let port: Int = row["containerPort"] else { return nil }
            return LoadBalancerAttachment(
                loadBalancerName: ARNs.loadBalancerName(balancer), cluster: row["cluster"], serviceName: row["serviceName"],
                containerName: container, containerPort: port)
        }
    }

    /// The targets of `attachments`: for each service's tasks desired and last RUNNING (and HEALTHY when the
    /// container has a health check), `<instance agentAddress>:<hostPort>` of the container port's binding.
    func desiredTargets(of attachments: [LoadBalancerAttachment]) throws -> [DesiredTarget] {
        var definitions: [String: TaskDefinition?] = [:]
        var targets: [DesiredTarget] = []
        for attachment in attachments {
            let rows = try Row.fetchAll(
                self,
                sql: """
                    SELECT t.document AS task, ci.agentAddress AS address FROM task t
                    LEFT JOIN containerInstance ci ON ci.cluster = t.cluster AND ci.id = t.containerInstanceId
                    WHERE t.cluster = ? AND t.serviceName = ? AND t.desiredStatus = 'RUNNING' AND t.lastStatus = 'RUNNING'
                    ORDER BY t.rowid
                    """,
                arguments: [attachment.cluster, attachment.serviceName])
            for row in rows {
                let task = try Documents.decode(ECSTask.self, from: row["task"])
                guard let container = task.containers.first(where: { $0.name == attachment.containerName }) else { continue }
                if definitions[task.taskDefinitionArn] == nil {
                    definitions[task.taskDefinitionArn] = try? taskDefinition(TaskDefinitionReference(task.taskDefinitionArn))
                }
                let containerDefinition = definitions[task.taskDefinitionArn]??.containerDefinitions
                    .first { $0.name == attachment.containerName }
                if containerDefinition?.healthCheck != nil, container.healthStatus != "HEALTHY" { continue }
                let binding = (container.networkBindings ?? []).first { binding in
                    binding["containerPort"]?.intValue == attachment.containerPort
                        && (binding["protocol"]?.stringValue ?? "tcp") == "tcp" && binding["hostPort"]?.intValue != nil
                }
                guard let binding, let hostPort = binding["hostPort"]?.intValue,
                      let host = Self.targetHost(agentAddress: row["address"], bindIP: binding["bindIP"]?.stringValue)
                else { continue }
                targets.append(DesiredTarget(
                    target: Target(id: task.taskArn, host: host, port: hostPort), attachment: attachment,
                    taskArn: task.taskArn))
            }
        }
        return targets
    }

    /// The host a binding is reached at: the instance's address, else a bind IP that is not a wildcard.
    static func targetHost(agentAddress: String?, bindIP: String?) -> String? {
        if let agentAddress, !agentAddress.isEmpty { return agentAddress }
        if let bindIP, !["", "0.0.0.0", "::"].contains(bindIP) { return bindIP }
        return nil
    }
}
