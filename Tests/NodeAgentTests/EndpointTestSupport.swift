import FlotillaClient
import Foundation
import HTTPServerLimits
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TaskDefinitions
import Testing
@testable import NodeAgent

/// A fake of the agent's task table for the endpoint: containers put in by hand, keyed by task ID and name.
actor FakeContainerDirectory: AgentContainerDirectory {
    private var containers: [String: AgentContainerHandle] = [:]

    func container(taskID: String, containerName: String) -> AgentContainerHandle? {
        containers["\(taskID)/\(containerName)"]
    }

    func metadata() -> AgentMetadata {
        AgentMetadata(
            cluster: "demo", containerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/demo/abc",
            agentVersion: "0.1.0-test")
    }

    func put(task: String, container: String, _ handle: AgentContainerHandle) {
        containers["\(task)/\(container)"] = handle
    }

    func markStopped(task: String, container: String) {
        containers["\(task)/\(container)"]?.running = false
    }
}

/// Runs an `AgentEndpoint` on a free loopback port for `body`, then stops it.
struct EndpointHarness {
    static let token = "0123456789abcdef0123456789abcdef"

    let baseURL: URL
    let directory: FakeContainerDirectory

    func url(task: String, container: String, _ action: String) -> URL {
        baseURL.appendingPathComponent("v1/tasks/\(task)/containers/\(container)/\(action)")
    }

    static func with(
        runtime: ContainerRuntime, limits: HTTPServerLimits = AgentEndpoint.defaultLimits,
        _ body: (EndpointHarness) async throws -> Void
    ) async throws {
        let directory = FakeContainerDirectory()
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let endpoint = AgentEndpoint(
            host: "127.0.0.1", port: 0, token: token, directory: directory, runtime: runtime,
            logger: Logger(label: "test.endpoint"), metrics: { Array("flotilla_agent_test 1\n".utf8) }, limits: limits,
            onServerRunning: { portContinuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await endpoint.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(EndpointHarness(baseURL: URL(string: "http://127.0.0.1:\(port)")!, directory: directory))
            group.cancelAll()
        }
    }

    /// One plain request; answers the status and the body as text.
    func request(
        _ url: URL, method: String = "GET", token: String? = EndpointHarness.token,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The whole log answer (not followed) as text.
    func logs(task: String, container: String, tail: Int? = nil) async throws -> String {
        var text = Data()
        for try await chunk in AgentClient().logs(
            url: url(task: task, container: container, "logs"),
            token: Self.token, follow: false, tail: tail)
        {
            text.append(chunk)
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension JSONValue {
    /// Parses an answer body for assertions.
    static func parse(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }
}
