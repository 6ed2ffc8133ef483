import ControlPlane
import FlotillaTestKit
import ECSVocabulary
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SigV4
import TaskDefinitions

extension TestClientProtocol {
    /// Calls one `FlotillaAgentV1` operation, signed with `credentials` (an instance credential for an agent's
    /// calls; nil: unsigned, as a joining agent's Register).
    func agent(
        _ operation: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator,
        at date: Date = testNow
    ) async throws -> ECSReply {
        try await call(TargetPrefix.agent.target(operation), json, as: credentials, at: date)
    }

    /// Calls `operation` of the agent protocol and requires success.
    @discardableResult
    func agentOK(
        _ operation: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> JSONValue {
        let reply = try await agent(operation, json, as: credentials)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }

    /// Registers a new agent with the cluster's current join token, unsigned (or re-registers `previous` signed with
    /// its `credential`); answers the instance ARN and the instance credential Register issued.
    func registerAgent(
        cluster: String = "default", token: String? = nil, previous: (arn: String, credential: AWSCredentials)? = nil,
        hostname: String = "host-a"
    ) async throws -> (arn: String, credential: AWSCredentials, index: Int) {
        let joinToken: String
        if let token {
            joinToken = token
        } else {
            joinToken =
                try await agentOK("GetJoinToken", #"{"cluster": "\#(cluster)"}"#)["joinToken"]?.stringValue ?? ""
        }
        let reply = try await agentOK(
            "Register",
            registerBody(
                cluster: cluster, token: previous == nil ? joinToken : nil, previous: previous?.arn, hostname: hostname),
            as: previous?.credential)
        return (
            reply["containerInstanceArn"]?.stringValue ?? "",
            AWSCredentials(
                accessKeyID: reply["accessKeyId"]?.stringValue ?? "",
                secretAccessKey: reply["credential"]?.stringValue ?? ""),
            reply["index"]?.intValue ?? -1
        )
    }
}

func registerBody(
    cluster: String = "default", token: String?, previous: String? = nil, hostname: String = "host-a"
) -> String {
    """
    {"cluster": "\(cluster)", \(token.map { #""joinToken": "\#($0)","# } ?? "") "hostname": "\(hostname)", "address": "127.0.0.2",
     \(previous.map { #""containerInstanceArn": "\#($0)","# } ?? "")
     "resources": {"cpu": 2048, "memory": 4096, "ports": [22]},
     "attributes": [{"name": "ecs.os-type", "value": "linux"}, {"name": "ecs.cpu-architecture", "value": "x86_64"},
                    {"name": "ecs.availability-zone", "value": "zone-a"}, {"name": "rack", "value": "r1"}],
     "versionInfo": {"agentVersion": "0.1.0"}}
    """
}

func pollBody(_ instance: String, index: Int, wait: Int) -> String {
    #"{"containerInstanceArn": "\#(instance)", "index": \#(index), "waitSeconds": \#(wait)}"#
}
