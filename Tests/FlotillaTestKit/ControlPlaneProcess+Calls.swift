import ECSVocabulary
import FlotillaClient
public import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The control plane's API as tests call it: raw (`call`, `post`: status and body) or decoded (`ecs`, `invoke`: the
/// JSON answer, `APIError` unless 200), and what its `/metrics` and `/healthz` say.
extension ControlPlaneProcess {
    /// Calls one ECS operation over HTTP, signed with `credentials` (nil: unsigned); returns the status and the JSON
    /// body.
    public func call(
        _ operation: String, _ json: String = "{}", as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> (status: Int, body: Data) {
        try await post(TargetPrefix.ecs.target(operation), json, as: credentials)
    }

    /// Posts `json` as the operation `target` names (any prefix), signed with `credentials` (nil: unsigned).
    public func post(
        _ target: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> (status: Int, body: Data) {
        try await signedPost(endpoint: endpoint, target: target, json, as: credentials, region: region)
    }

    public func isHealthy() async -> Bool { await httpGet("\(endpoint)/healthz") != nil }

    /// The value of an unlabelled series on `/metrics` (e.g. `flotilla_reconciler_passes_total`), nil when absent.
    public func metric(_ name: String) async -> Double? {
        guard let text = await httpGet("\(endpoint)/metrics") else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// Waits until the reconciler has finished `count` more passes (bounded: 60 s); false when it did not.
    public func reconcilerPasses(_ count: Int) async -> Bool {
        let start = await metric("flotilla_reconciler_passes_total") ?? 0
        return await eventually(within: .seconds(60), every: .milliseconds(100)) {
            await metric("flotilla_reconciler_passes_total") ?? 0 >= start + Double(count)
        }
    }

    // MARK: - API

    /// One ECS operation (`AmazonEC2ContainerServiceV20141113.<operation>`); throws `APIError` unless 200.
    @discardableResult
    public func ecs(_ operation: String, _ body: [String: Any] = [:]) async throws -> JSONValue {
        try await invoke(TargetPrefix.ecs.target(operation), body)
    }

    /// Any operation by its full `X-Amz-Target` (`FlotillaAgentV1.GetJoinToken`, `FlotillaV1.CreateLoadBalancer`),
    /// signed with `credentials` (the administrator's unless said); the answer, or `APIError` unless 200.
    @discardableResult
    public func invoke(
        _ target: String, _ body: [String: Any] = [:], as credentials: AWSCredentials = TestAccessKeys.administrator
    ) async throws -> JSONValue {
        let (status, data) = try await signedPost(
            endpoint: endpoint, target: target,
            String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self), as: credentials)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        guard status == 200 else {
            throw APIError(
                target: target, status: status, type: json["__type"]?.stringValue ?? "",
                message: json["message"]?.stringValue ?? String(decoding: data, as: UTF8.self))
        }
        return json
    }

    /// The cluster's join token (`FlotillaAgentV1.GetJoinToken`).
    public func joinToken(cluster: String) async throws -> String {
        let answer = try await invoke(TargetPrefix.agent.target("GetJoinToken"), ["cluster": cluster])
        guard let token = answer["joinToken"]?.stringValue else {
            throw ClusterHarnessError.unexpected("GetJoinToken answered without joinToken: \(answer)")
        }
        return token
    }
}

/// One JSON 1.1 `POST /` to `endpoint` as the operation `target` names, signed with `credentials` for `region` (nil:
/// unsigned), the way the awscli calls, trusting the test CA; the status and the body.
public func signedPost(
    endpoint: String, target: String, _ json: String,
    as credentials: AWSCredentials? = TestAccessKeys.administrator, region: String = "us-east-1"
) async throws -> (status: Int, body: Data) {
    var request = URLRequest(url: URL(string: endpoint)!, timeoutInterval: 30)
    request.httpMethod = "POST"
    request.setValue(target, forHTTPHeaderField: "X-Amz-Target")
    request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
    request.httpBody = Data(json.utf8)
    if let credentials { request.sign(with: credentials, region: region) }
    let response = try await TestPKI.transport.send(request, timeout: .seconds(30))
    return (response.statusCode, response.body)
}

/// An API call that did not answer 200.
public struct APIError: Error, CustomStringConvertible {
    public var target: String
    public var status: Int
    public var type: String
    public var message: String
    public var description: String { "\(target): \(status) \(type): \(message)" }
}

extension JSONValue {
    /// The element at `index` of a JSON array, nil when out of range or not an array (tests read ECS answers with it).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let values) = self, values.indices.contains(index) else { return nil }
        return values[index]
    }
}
