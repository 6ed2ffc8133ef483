import AgentProtocol
import ECSProtocol
import Foundation
import HTTPTypes
import TaskDefinitions

// The control plane's side of the agent protocol: the wire types live in the `AgentProtocol` target (shared with the
// agent); this file maps the control plane's ECS model onto them and holds the protocol's errors.

extension RegisterAgentResponse {
    /// The answer with `instance` as DescribeContainerInstances encodes it.
    init(containerArn: String, credential: String, endpoint: String, index: Int64, instance: ContainerInstance) throws {
        let document = try JSONDecoder().decode(JSONValue.self, from: RequestDecoding.encode(instance))
        self.init(
            containerInstanceArn: containerArn, credential: credential, endpoint: endpoint, index: index,
            containerInstance: document)
    }
}

// MARK: - Errors

extension ECSError {
    static func credentialRefused(_ instance: String) -> ECSError {
        ECSError(
            "AccessDeniedException", "credential: is not valid for container instance \(instance); register again.",
            status: .forbidden)
    }

    static func tooManyPolls(_ instance: String) -> ECSError {
        ECSError(
            "ThrottlingException", "Too many concurrent PollDesiredTasks calls for container instance \(instance).")
    }
}
