import ControlPlane
import FlotillaTestKit
import ECSVocabulary
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TaskDefinitions

/// The fixed time every API test runs at.
let testNow = Date(timeIntervalSince1970: 1_700_000_000)

/// One ECS answer: HTTP status and the JSON body.
struct ECSReply: Sendable {
    var status: Int
    var body: JSONValue

    /// `__type` of an error answer.
    var errorType: String? { body["__type"]?.stringValue }
    var message: String { body["message"]?.stringValue ?? "" }
}

/// Runs `body` against a control plane on an in-memory store, through Hummingbird's router test client.
func withControlPlane(
    store: ControlPlaneStore? = nil,
    configuration: ControlPlaneConfiguration = ControlPlaneConfiguration(),
    logger: Logger = Logger(label: "flotilla.test"),
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let api = ECSAPI(store: try store ?? ControlPlaneStore.inMemory(), configuration: configuration, clock: { testNow })
    let application = Application(
        router: ControlPlaneApplication.router(api: api, metrics: { Array("flotilla_test 1\n".utf8) }),
        logger: logger)
    try await application.test(.router, body)
}

extension TestClientProtocol {
    /// Calls one ECS operation the way the awscli does.
    func ecs(_ operation: String, _ json: String = "{}", headers extra: HTTPFields = [:]) async throws -> ECSReply {
        var headers: HTTPFields = [
            HTTPField.Name("X-Amz-Target")!: TargetPrefix.ecs.target(operation),
            .contentType: "application/x-amz-json-1.1",
        ]
        for field in extra { headers[field.name] = field.value }
        return try await raw(headers: headers, body: json)
    }

    /// Posts `body` with exactly `headers`.
    func raw(headers: HTTPFields, body: String) async throws -> ECSReply {
        try await execute(uri: "/", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            let data = Data(response.body.readableBytesView)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
            return ECSReply(status: Int(response.status.code), body: json)
        }
    }

    /// Calls `operation` and requires success.
    @discardableResult
    func ok(_ operation: String, _ json: String = "{}") async throws -> JSONValue {
        let reply = try await ecs(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }

    // MARK: - Fixtures

    func createCluster(_ name: String = "default") async throws {
        try await ok("CreateCluster", #"{"clusterName": "\#(name)"}"#)
    }

    func registerWeb(family: String = "web", hostPort: Int = 0) async throws -> JSONValue {
        try await ok("RegisterTaskDefinition", webTaskDefinition(family: family, hostPort: hostPort))
    }

    func registerInstance(cluster: String = "default", cpu: Int = 2048, memory: Int = 4096) async throws -> String {
        let body = try await ok(
            "RegisterContainerInstance",
            """
            {"cluster": "\(cluster)", "totalResources": [
                {"name": "CPU", "type": "INTEGER", "integerValue": \(cpu)},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": \(memory)},
                {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22"]}],
             "attributes": [{"name": "ecs.os-type", "value": "linux"}]}
            """)
        return body["containerInstance"]?["containerInstanceArn"]?.stringValue ?? ""
    }
}

enum HarnessError: Error { case unexpected(String) }

func webTaskDefinition(family: String = "web", hostPort: Int = 0) -> String {
    """
    {"family": "\(family)", "networkMode": "bridge",
     "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1", "cpu": 128, "memory": 64, "essential": true,
        "portMappings": [{"containerPort": 80, "hostPort": \(hostPort), "protocol": "tcp"}]}],
     "tags": [{"key": "app", "value": "web"}]}
    """
}
