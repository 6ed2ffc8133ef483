import ECSProtocol
import Foundation
import GRDB
import TaskDefinitions

extension Database {
    /// Checks a service's ECS `loadBalancers` against the store and its task definition, as CreateService and
    /// UpdateService must: each entry names an existing balancer, a container of the task definition and a
    /// container port that container maps. The error names the entry's field.
    func checkLoadBalancers(_ entries: [JSONValue]?, taskDefinition: TaskDefinition) throws {
        var seen = Set<String>()
        for (index, entry) in (entries ?? []).enumerated() {
            let path = "loadBalancers[\(index)]"
            guard let fields = entry.objectValue else {
                throw ECSError.invalidParameter(
                    "\(path): must be an object {loadBalancerName, containerName, containerPort}.")
            }
            if fields["targetGroupArn"] != nil {
                throw ECSError.invalidParameter(
                    "\(path).targetGroupArn: Flotilla balancers are named; give loadBalancerName (see create-load-balancer)."
                )
            }
            guard let name = fields["loadBalancerName"]?.stringValue, !name.isEmpty else {
                throw ECSError.invalidParameter("\(path).loadBalancerName: is required.")
            }
            guard let containerName = fields["containerName"]?.stringValue, !containerName.isEmpty else {
                throw ECSError.invalidParameter("\(path).containerName: is required.")
            }
            guard let port = fields["containerPort"]?.intValue, (1...65535).contains(port) else {
                throw ECSError.invalidParameter("\(path).containerPort: must be an integer between 1 and 65535.")
            }
            guard try loadBalancerDefinition(named: ARNs.loadBalancerName(name)) != nil else {
                throw ECSError.invalidParameter(
                    "\(path).loadBalancerName: load balancer \(name.prefix(64)) does not exist.")
            }
            guard let container = taskDefinition.containerDefinitions.first(where: { $0.name == containerName }) else {
                throw ECSError.invalidParameter(
                    "\(path).containerName: the container \(containerName.prefix(255)) does not exist in the task definition."
                )
            }
            guard
                (container.portMappings ?? []).contains(where: {
                    $0.containerPort == port && ($0.protocol ?? "tcp") == "tcp"
                })
            else {
                throw ECSError.invalidParameter(
                    "\(path).containerPort: the container \(containerName) did not have a tcp container port \(port) defined."
                )
            }
            guard seen.insert("\(name)/\(containerName)/\(port)").inserted else {
                throw ECSError.invalidParameter("\(path): repeats an earlier entry.")
            }
        }
    }

    /// `checkLoadBalancers` with the task definition an ARN names (UpdateService keeps or changes it).
    func checkLoadBalancers(_ entries: [JSONValue]?, taskDefinitionArn: String) throws {
        guard let entries, !entries.isEmpty else { return }
        // The service's own revision may be INACTIVE by now; it still defines the containers its tasks run.
        guard let definition = try taskDefinition(TaskDefinitionReference(taskDefinitionArn)) else {
            throw ECSError.client("TaskDefinition not found.")
        }
        try checkLoadBalancers(entries, taskDefinition: definition)
    }
}
