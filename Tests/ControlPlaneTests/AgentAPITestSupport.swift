import ControlPlane
import FlotillaTestKit
import ECSVocabulary
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TaskDefinitions

extension TestClientProtocol {
    /// Calls one `FlotillaAgentV1` operation.
    func agent(_ operation: String, _ json: String) async throws -> ECSReply {
        try await raw(headers: agentHeaders(operation), body: json)
    }

    /// Calls `operation` of the agent protocol and requires success.
    @discardableResult
    func agentOK(_ operation: String, _ json: String) async throws -> JSONValue {
        let reply = try await agent(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }

    /// Registers an agent with the cluster's current join token; answers the instance ARN and credential.
    func registerAgent(
        cluster: String = "default", token: String? = nil, previous: String? = nil,
        hostname: String = "host-a"
    ) async throws -> (arn: String, credential: String, index: Int) {
        let joinToken: String
        if let token {
            joinToken = token
        } else {
            joinToken =
                try await agentOK("GetJoinToken", #"{"cluster": "\#(cluster)"}"#)["joinToken"]?.stringValue ?? ""
        }
        let reply = try await agentOK(
            "Register", registerBody(cluster: cluster, token: joinToken, previous: previous, hostname: hostname))
        return (
            reply["containerInstanceArn"]?.stringValue ?? "", reply["credential"]?.stringValue ?? "",
            reply["index"]?.intValue ?? -1
        )
    }
}

func agentHeaders(_ operation: String) -> HTTPFields {
    [
        HTTPField.Name("X-Amz-Target")!: TargetPrefix.agent.target(operation),
        .contentType: "application/x-amz-json-1.1",
    ]
}

func registerBody(
    cluster: String = "default", token: String, previous: String? = nil, hostname: String = "host-a"
) -> String {
    """
    {"cluster": "\(cluster)", "joinToken": "\(token)", "hostname": "\(hostname)", "address": "127.0.0.2",
     \(previous.map { #""containerInstanceArn": "\#($0)","# } ?? "")
     "resources": {"cpu": 2048, "memory": 4096, "ports": [22]},
     "attributes": [{"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": "x86_64"},
                    {"name": "ecs.availability-zone", "value": "zone-a"}, {"name": "rack", "value": "r1"}],
     "versionInfo": {"agentVersion": "0.1.0"}}
    """
}

func pollBody(_ instance: String, _ credential: String, index: Int, wait: Int) -> String {
    #"{"containerInstanceArn": "\#(instance)", "credential": "\#(credential)", "index": \#(index), "waitSeconds": \#(wait)}"#
}
