import AgentProtocol
import ECSProtocol
import Foundation
import HTTPTypes
import TaskDefinitions

// The control plane's side of the agent protocol: the wire types live in the `AgentProtocol` target (shared with the
// agent); this file maps the control plane's ECS model onto them and holds the protocol's errors.

extension RegisterAgentResponse {
    /// The answer with `instance` as DescribeContainerInstances encodes it.
    init(containerArn: String, credential: AccessKey, endpoint: String, index: Int64, instance: ContainerInstance) throws {
        let document = try JSONDecoder().decode(JSONValue.self, from: RequestDecoding.encode(instance))
        self.init(
            containerInstanceArn: containerArn, accessKeyId: credential.id, credential: credential.secret,
            expiration: credential.expiresAt ?? Date.distantFuture, endpoint: endpoint, index: index,
            containerInstance: document)
    }
}

// MARK: - Errors

extension ECSError {
    /// A call for an instance that is not the caller's, or that does not exist.
    static func credentialRefused(_ instance: String) -> ECSError {
        ECSError(
            "AccessDeniedException",
            "containerInstanceArn: this credential does not act for container instance \(instance); register again.",
            status: .forbidden)
    }

    /// A join token naming an instance that exists: only that instance's own credential re-registers it.
    static func reregistrationNeedsCredential(_ instance: String) -> ECSError {
        ECSError(
            "AccessDeniedException",
            "containerInstanceArn: \(instance) is registered already; re-registering it needs its own credential (a join token registers new container instances only).",
            status: .forbidden)
    }

    static func tooManyPolls(_ instance: String) -> ECSError {
        ECSError(
            "ThrottlingException", "Too many concurrent PollDesiredTasks calls for container instance \(instance).")
    }
}
