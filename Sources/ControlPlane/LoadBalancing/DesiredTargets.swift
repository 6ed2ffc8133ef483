import AgentProtocol
import ECSProtocol
import ECSVocabulary
import GRDB
import LoadBalancer
import TaskDefinitions

/// A target the store wants a balancer to have: the host binding of one RUNNING task's container port.
struct DesiredTarget: Hashable, Sendable {
    var target: Target
    var attachment: LoadBalancerAttachment
    var taskArn: String
}

extension Database {
    /// The targets of `attachments`: for each service's tasks desired and last RUNNING (and HEALTHY when the
    /// container has a health check), `<instance agentAddress>:<hostPort>` of the container port's binding.
    func desiredTargets(of attachments: [LoadBalancerAttachment]) throws -> [DesiredTarget] {
        var definitions: [String: TaskDefinition?] = [:]
        var targets: [DesiredTarget] = []
        for attachment in attachments {
            for (task, address) in try runningTasksWithAddresses(
                cluster: attachment.cluster, service: attachment.serviceName)
            {
                guard let container = task.containers.first(where: { $0.name == attachment.containerName }) else {
                    continue
                }
                if definitions[task.taskDefinitionArn] == nil {
                    definitions[task.taskDefinitionArn] = try? taskDefinition(
                        TaskDefinitionReference(task.taskDefinitionArn))
                }
                let containerDefinition = definitions[task.taskDefinitionArn]??.containerDefinitions
                    .first { $0.name == attachment.containerName }
                if containerDefinition?.healthCheck != nil, container.healthStatus != HealthStatus.healthy { continue }
                let binding = (container.networkBindings ?? []).first { binding in
                    binding["containerPort"]?.intValue == attachment.containerPort
                        && (binding["protocol"]?.stringValue ?? "tcp") == "tcp" && binding["hostPort"]?.intValue != nil
                }
                guard let binding, let hostPort = binding["hostPort"]?.intValue,
                    let host = Self.targetHost(agentAddress: address, bindIP: binding["bindIP"]?.stringValue)
                else { continue }
                targets.append(
                    DesiredTarget(
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
