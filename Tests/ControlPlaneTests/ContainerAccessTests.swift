import AgentProtocol
@testable import ControlPlane
import Crypto
import FlotillaTestKit
import ECSVocabulary
import Foundation
import HTTPTypes
import HummingbirdTesting
import TaskDefinitions
import SigV4
import Testing

@Suite(
    "Container access: ExecuteCommand and GetContainerLogStream hand out the agent's endpoint and a token for it",
    .timeLimit(.minutes(10)))
struct ContainerAccessTests {
    /// The agent's endpoint secret, sent at Register as `agentToken`.
    static let agentToken = "feedfacefeedfacefeedfacefeedface"

    /// The token `text` carries, when it is MACed with `secret` as the agent checks it.
    static func verified(_ text: String?, secret: String = agentToken) throws -> ContainerAccessToken {
        let key = SymmetricKey(data: Data(secret.utf8))
        return try ContainerAccessToken(
            verifying: text ?? "", authenticatedBy: { Data(HMAC<SHA256>.authenticationCode(for: $0, using: key)) })
    }

    /// An instance registered over the agent protocol with an endpoint, a task of `definition` placed on it by RunTask
    /// and, when `running`, reported RUNNING by the agent.
    struct Placed {
        var instance: String
        var credential: AWSCredentials
        var task: String
    }

    func place(
        _ client: any TestClientProtocol, definition: String = webTaskDefinition(), running: Bool = true,
        endpoint: String? = "http://10.213.0.2:51678/"
    ) async throws -> Placed {
        try await client.createCluster()
        try await client.ok("RegisterTaskDefinition", definition)
        let joinToken = try await client.agentOK("GetJoinToken", "{}")["joinToken"]?.stringValue ?? ""
        let endpointFields = endpoint.map { #""agentEndpoint": "\#($0)", "agentToken": "\#(Self.agentToken)","# } ?? ""
        let registered = try await client.agentOK(
            "Register",
            """
            {"joinToken": "\(joinToken)", "hostname": "host-a", "address": "10.213.0.2", \(endpointFields)
             "resources": {"cpu": 2048, "memory": 4096}}
            """)
        let instance = registered["containerInstanceArn"]?.stringValue ?? ""
        let credential = AWSCredentials(
            accessKeyID: registered["accessKeyId"]?.stringValue ?? "",
            secretAccessKey: registered["credential"]?.stringValue ?? "")
        let family = JSONValue.parse(definition)["family"]?.stringValue ?? ""
        let task = try #require(
            try await client.ok("RunTask", #"{"taskDefinition": "\#(family)"}"#)["tasks"]?[0]?["taskArn"]?.stringValue)
        if running {
            let containers = (JSONValue.parse(definition)["containerDefinitions"]?.arrayValue ?? [])
                .compactMap { $0["name"]?.stringValue }
                .map { #"{"name": "\#($0)", "lastStatus": "RUNNING"}"# }.joined(separator: ",")
            try await client.agentOK(
                "SubmitStateChanges",
                """
                {"containerInstanceArn": "\(instance)",
                 "tasks": [{"taskArn": "\(task)", "lastStatus": "RUNNING", "containers": [\(containers)]}]}
                """, as: credential)
        }
        return Placed(instance: instance, credential: credential, task: task)
    }

    @Test func executeCommandAnswersTheAgentsExecURLAndToken() async throws {
        try await withControlPlane { client in
            // Given a RUNNING task on an instance whose agent registered an endpoint
            let placed = try await place(client)
            let taskID = String(placed.task.split(separator: "/").last ?? "")
            // When ExecuteCommand is called as the awscli calls it
            let answer = try await client.ok(
                "ExecuteCommand",
                """
                {"cluster": "default", "task": "\(taskID)", "command": "sh -c 'echo hi'", "interactive": true}
                """)
            // Then the session points at the agent's exec URL with a token for this exec, in ECS's response shape
            #expect(
                answer["session"]?["streamUrl"]?.stringValue
                    == "http://10.213.0.2:51678/v1/tasks/\(taskID)/containers/web/exec")
            let tokenValue = answer["session"]?["tokenValue"]?.stringValue
            #expect(tokenValue != Self.agentToken)
            #expect(tokenValue?.contains(Self.agentToken) == false)
            let token = try Self.verified(tokenValue)
            #expect(token.task == taskID && token.container == "web" && token.action == .exec)
            #expect(token.expiresAt == Int64(testNow.timeIntervalSince1970) + 60)
            // And it is no other agent's
            #expect(throws: ContainerAccessTokenError.forged) {
                try Self.verified(tokenValue, secret: "another agent's secret 0123456789")
            }
            // And the next call answers another token (a new nonce: an exec token is good once)
            let again = try await client.ok(
                "ExecuteCommand",
                #"{"cluster": "default", "task": "\#(taskID)", "command": "ls", "interactive": true}"#)
            let next = try Self.verified(again["session"]?["tokenValue"]?.stringValue)
            #expect(next.nonce != token.nonce)
            #expect(answer["session"]?["sessionId"]?.stringValue?.hasPrefix("ecs-execute-command-") == true)
            #expect(answer["taskArn"]?.stringValue == placed.task)
            #expect(answer["containerName"]?.stringValue == "web")
            #expect(answer["containerArn"]?.stringValue?.contains(":container/default/\(taskID)/") == true)
            #expect(answer["clusterArn"]?.stringValue?.hasSuffix(":cluster/default") == true)
            #expect(answer["interactive"]?.boolValue == true)
        }
    }

    @Test func getContainerLogStreamAnswersTheLogsURLEvenForATaskNotYetRunning() async throws {
        try await withControlPlane { client in
            // Given a task placed but not yet reported RUNNING
            let placed = try await place(client, running: false)
            let taskID = String(placed.task.split(separator: "/").last ?? "")
            // When its log stream is asked for by ARN
            let reply = try await client.raw(
                headers: flotillaHeaders("GetContainerLogStream"),
                body: #"{"task": "\#(placed.task)", "container": "web"}"#)
            // Then it points at the agent's logs URL
            #expect(reply.status == 200)
            #expect(
                reply.body["streamUrl"]?.stringValue == "http://10.213.0.2:51678/v1/tasks/\(taskID)/containers/web/logs"
            )
            let token = try Self.verified(reply.body["tokenValue"]?.stringValue)
            #expect(token.task == taskID && token.container == "web" && token.action == .logs)
            #expect(token.expiresAt == Int64(testNow.timeIntervalSince1970) + 300)
        }
    }

    @Test func refusalsAreECSErrorsNamingTheProblem() async throws {
        try await withControlPlane { client in
            let placed = try await place(client, running: false)
            func exec(_ body: String) async throws -> ECSReply { try await client.ecs("ExecuteCommand", body) }
            // A task not RUNNING
            let pending = try await exec(#"{"task": "\#(placed.task)", "command": "ls", "interactive": true}"#)
            #expect(pending.errorType == "InvalidParameterException")
            #expect(pending.message.contains("not RUNNING"))
            // A cluster that does not exist
            let noCluster = try await exec(
                #"{"cluster": "nope", "task": "\#(placed.task)", "command": "ls", "interactive": true}"#)
            #expect(noCluster.errorType == "ClusterNotFoundException")
            // A task that does not exist
            let noTask = try await exec(#"{"task": "0123456789abcdef", "command": "ls", "interactive": true}"#)
            #expect(noTask.errorType == "InvalidParameterException")
            #expect(noTask.message.hasPrefix("task:"))
            // A missing or empty command
            let noCommand = try await exec(#"{"task": "\#(placed.task)", "interactive": true}"#)
            #expect(
                noCommand.errorType == "InvalidParameterException" || noCommand.errorType == "SerializationException")
            #expect(noCommand.message.contains("command"))
            let emptyCommand = try await exec(#"{"task": "\#(placed.task)", "command": " ", "interactive": true}"#)
            #expect(emptyCommand.message.hasPrefix("command:"))
            // A container the task does not have
            let logs = try await client.raw(
                headers: flotillaHeaders("GetContainerLogStream"),
                body: #"{"task": "\#(placed.task)", "container": "db"}"#)
            #expect(logs.body["__type"]?.stringValue == "InvalidParameterException")
            #expect(logs.body["message"]?.stringValue?.hasPrefix("container:") == true)
        }
    }

    @Test func aTaskWithSeveralContainersNeedsTheContainerNamed() async throws {
        let definition = """
            {"family": "pair", "containerDefinitions": [
                {"name": "app", "image": "flotilla/busybox:1", "memory": 32, "essential": true},
                {"name": "sidecar", "image": "flotilla/busybox:1", "memory": 32, "essential": false}]}
            """
        try await withControlPlane { client in
            let placed = try await place(client, definition: definition)
            // When no container is named
            let unnamed = try await client.ecs(
                "ExecuteCommand", #"{"task": "\#(placed.task)", "command": "ls", "interactive": true}"#)
            // Then the error lists them
            #expect(unnamed.errorType == "InvalidParameterException")
            #expect(unnamed.message.contains("app, sidecar"))
            // When one is named, its URL comes back
            let named = try await client.ok(
                "ExecuteCommand",
                #"{"task": "\#(placed.task)", "container": "sidecar", "command": "ls", "interactive": true}"#)
            #expect(named["session"]?["streamUrl"]?.stringValue?.hasSuffix("/containers/sidecar/exec") == true)
        }
    }

    @Test func anInstanceRegisteredBeforeSealedSecretsMustRegisterAgain() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            let placed = try await place(client)
            // Given the instance's row as migration "v10" leaves it: an endpoint, no sealed secret
            let id = String(placed.instance.split(separator: "/").last ?? "")
            try await store.write { db in
                try db.recordRegistration(
                    instanceID: id, cluster: "default", at: testNow, address: "10.213.0.2",
                    endpoint: "http://10.213.0.2:51678", sealedEndpointSecret: nil)
            }
            // Then exec is refused, saying how to get it back
            let refused = try await client.ecs(
                "ExecuteCommand", #"{"task": "\#(placed.task)", "command": "ls", "interactive": true}"#)
            #expect(refused.errorType == "TargetNotConnectedException")
            #expect(refused.message.contains("no endpoint secret") && refused.message.contains("restart it"))
        }
    }

    @Test func anAgentWithoutEndpointOrDisconnectedIsNotConnected() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            // Given a RUNNING task on an agent that registered no endpoint
            let placed = try await place(client, endpoint: nil)
            let body = #"{"task": "\#(placed.task)", "command": "ls", "interactive": true}"#
            // Then exec is refused as ECS refuses a target without its agent
            let noEndpoint = try await client.ecs("ExecuteCommand", body)
            #expect(noEndpoint.errorType == "TargetNotConnectedException")
            #expect(noEndpoint.message.contains("no endpoint"))
            // Given the agent re-registers (with its own credential) with an endpoint but then goes silent
            try await client.agentOK(
                "Register",
                """
                {"containerInstanceArn": "\(placed.instance)", "hostname": "host-a",
                 "agentEndpoint": "http://10.213.0.2:51678", "agentToken": "\(Self.agentToken)", "resources": {"cpu": 2048, "memory": 4096}}
                """, as: placed.credential)
            #expect(try await client.ecs("ExecuteCommand", body).status == 200)
            try await store.write { db in
                let cluster = try db.activeCluster("default")
                var instance = try #require(try db.containerInstance(placed.instance, in: cluster))
                instance.agentConnected = false
                try db.saveContainerInstance(instance, cluster: cluster)
            }
            // Then exec is refused until it calls again
            let silent = try await client.ecs("ExecuteCommand", body)
            #expect(silent.errorType == "TargetNotConnectedException")
            #expect(silent.message.contains("not connected"))
        }
    }
}

@Suite("Container access: the agent's endpoint secret at rest", .timeLimit(.minutes(10)))
struct EndpointSecretAtRestTests {
    @Test func theEndpointSecretIsSealedInTheStoreAndNeverAnswered() async throws {
        // Given a control plane on a file store, and an agent registered with its endpoint secret
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-endpoint-secret-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ControlPlaneStore.open(directory: directory)
        let secret = ContainerAccessTests.agentToken
        try await withControlPlane(store: store) { client in
            let placed = try await ContainerAccessTests().place(client)
            // When instances and the log stream are described
            let described = try await client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(placed.instance)"]}"#)
            let logs = try await client.raw(
                headers: flotillaHeaders("GetContainerLogStream"), body: #"{"task": "\#(placed.task)"}"#)
            // Then no answer carries the secret
            #expect(!"\(described)".contains(secret))
            #expect(!"\(logs.body)".contains(secret))
            // And exec still gets a token made with it: the control plane opens what it sealed
            _ = try ContainerAccessTests.verified(logs.body["tokenValue"]?.stringValue)
        }
        // And no file of the store (database, WAL) holds it in the clear
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.contains("flotilla.sqlite"))
        for file in files {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the agent's endpoint secret")
        }
    }
}

func flotillaHeaders(_ operation: String) -> HTTPFields {
    [HTTPField.Name("X-Amz-Target")!: TargetPrefix.flotilla.target(operation), .contentType: "application/x-amz-json-1.1"]
}

extension JSONValue {
    /// Parses a JSON text the test wrote itself.
    static func parse(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }
}
