import AgentProtocol
import FlotillaClient
import FlotillaTestKit
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
///
/// The endpoint checks tokens against `clock`, which starts at the real time and moves only when a test advances it.
struct EndpointHarness {
    /// The agent's endpoint secret (what it sends at Register as `agentToken`).
    static let secret = "0123456789abcdef0123456789abcdef"

    let baseURL: URL
    let directory: FakeContainerDirectory
    let clock: ManualClock

    func url(task: String, container: String, _ action: String) -> URL {
        baseURL.appendingPathComponent("v1/tasks/\(task)/containers/\(container)/\(action)")
    }

    /// A token for `action` on `container` of `task`, as the control plane mints it, under `secret`, from `now`.
    static func token(
        task: String = "t1", container: String = "web", _ action: ContainerAccessAction, now: Date = Date(),
        secret: String = EndpointHarness.secret
    ) -> String {
        var generator = SystemRandomNumberGenerator()
        return ContainerAccessToken.mint(task: task, container: container, action: action, now: now, using: &generator)
            .encoded(authenticatedBy: { ContainerAccessCheck.mac($0, secret: secret) })
    }

    /// A token minted at the endpoint's clock.
    func token(task: String = "t1", container: String = "web", _ action: ContainerAccessAction) -> String {
        Self.token(task: task, container: container, action, now: clock.date)
    }

    /// How a test request authorizes itself.
    enum Authorization {
        /// A fresh token for the task, container and action the URL names.
        case minted
        case noToken
        case bearer(String)
    }

    static func with(
        runtime: ContainerRuntime, limits: HTTPServerLimits = AgentEndpoint.defaultLimits,
        _ body: (EndpointHarness) async throws -> Void
    ) async throws {
        let directory = FakeContainerDirectory()
        let clock = ManualClock(start: Date())
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let endpoint = AgentEndpoint(
            host: "127.0.0.1", port: 0, secret: secret, clock: { clock.date }, directory: directory, runtime: runtime,
            logger: Logger(label: "test.endpoint"), metrics: { Array("flotilla_agent_test 1\n".utf8) }, limits: limits,
            onServerRunning: { portContinuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await endpoint.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(
                EndpointHarness(
                    baseURL: URL(string: "http://127.0.0.1:\(port)")!, directory: directory, clock: clock))
            group.cancelAll()
        }
    }

    /// One plain request; answers the status and the body as text.
    func request(
        _ url: URL, method: String = "GET", authorization: Authorization = .minted,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        let token: String? =
            switch authorization {
            case .noToken: nil
            case .bearer(let token): token
            case .minted:
                // .../v1/tasks/<task>/containers/<container>/<action>; none for another path
                { () -> String? in
                    let parts = Array(url.pathComponents.suffix(4))
                    guard parts.count == 4, let action = ContainerAccessAction(rawValue: parts[3]) else { return nil }
                    return self.token(task: parts[0], container: parts[2], action)
                }()
            }
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
            token: token(task: task, container: container, .logs), follow: false, tail: tail)
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
