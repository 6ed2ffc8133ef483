import ControlPlane
import FlotillaTestKit
import ECSVocabulary
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SigV4
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
///
/// The control plane checks signatures (`.sigV4`) with `TestAccessKeys.administrator` as its admin key, unless
/// `insecure`; the client's calls sign with that key unless they say otherwise. The API's time is `clock`'s (a test
/// moves it), else `testNow`; calls are signed at `testNow` unless they say `at:`, and a signature is good for five
/// minutes either way of the API's time.
func withControlPlane(
    store: ControlPlaneStore? = nil,
    configuration: ControlPlaneConfiguration = ControlPlaneConfiguration(),
    insecure: Bool = false,
    clock: ManualClock? = nil,
    logger: Logger = Logger(label: "flotilla.test"),
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let store = try store ?? ControlPlaneStore.inMemory()
    let api = ECSAPI(
        store: store, configuration: configuration,
        authentication: insecure ? .insecureNoAuth : try await testAuthentication(store: store),
        clock: { clock?.date ?? testNow })
    let application = Application(
        router: ControlPlaneApplication.router(api: api, metrics: { Array("flotilla_test 1\n".utf8) }),
        logger: logger)
    try await application.test(.router, body)
}

/// The master key of every test store: one per test process, so a store reopened by a later control plane opens.
let testSecretBox = SecretBox.ephemeral()

/// SigV4 with the store's keys, `TestAccessKeys.administrator` among them.
func testAuthentication(store: ControlPlaneStore) async throws -> APIAuthentication {
    let ring = try await AccessKeyRing.load(store: store, box: testSecretBox)
    let administrator = TestAccessKeys.administrator
    try await AdministratorKey.ensure(
        ring: ring, store: store, given: (administrator.accessKeyID, administrator.secretAccessKey),
        dataDirectory: FileManager.default.temporaryDirectory, now: testNow,
        logger: Logger(label: "flotilla.test"))
    return .sigV4(ring)
}

extension TestClientProtocol {
    /// Calls one ECS operation the way the awscli does, signed with `credentials` (nil: unsigned).
    func ecs(
        _ operation: String, _ json: String = "{}", headers extra: HTTPFields = [:],
        as credentials: AWSCredentials? = TestAccessKeys.administrator, region: String = "us-east-1"
    ) async throws -> ECSReply {
        try await call(TargetPrefix.ecs.target(operation), json, headers: extra, as: credentials, region: region)
    }

    /// Calls `target` with `json` and the `extra` headers, signed with `credentials` (nil: unsigned) at `date`.
    func call(
        _ target: String, _ json: String, headers extra: HTTPFields = [:],
        as credentials: AWSCredentials? = TestAccessKeys.administrator, region: String = "us-east-1",
        at date: Date = testNow
    ) async throws -> ECSReply {
        var headers: HTTPFields = [
            HTTPField.Name("X-Amz-Target")!: target,
            .contentType: "application/x-amz-json-1.1",
        ]
        for field in extra { headers[field.name] = field.value }
        return try await raw(headers: headers, body: json, as: credentials, region: region, at: date)
    }

    /// Posts `body` with `headers`, signed over all of them with `credentials` at `date` for host `localhost`
    /// (nil: exactly `headers`, unsigned).
    ///
    /// The signature's service is the target's (`TestAccessKeys.signature`) unless `service` says.
    func raw(
        headers: HTTPFields, body: String, as credentials: AWSCredentials? = TestAccessKeys.administrator,
        region: String = "us-east-1", at date: Date = testNow, service: String? = nil
    ) async throws -> ECSReply {
        var headers = headers
        if let credentials {
            let signature = TestAccessKeys.signature(
                credentials, host: "localhost", headers: headers.map { ($0.name.rawName, $0.value) }, body: body,
                at: date, region: region, service: service)
            for (name, value) in signature { headers[HTTPField.Name(name)!] = value }
        }
        return try await execute(uri: "/", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
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
