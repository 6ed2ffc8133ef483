import AgentProtocol
import FlotillaClient
import FlotillaTestKit
import Foundation
import Logging
import ServiceLifecycle
import TaskDefinitions
import Testing
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

@Suite("Agent endpoint: health, identity, tokens and errors over real HTTP", .timeLimit(.minutes(10)))
struct EndpointProtocolTests {
    func withHarness(_ body: (EndpointHarness) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-endpoint-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtime = try ContainerRuntime(dataDirectory: root, logger: Logger(label: "test.runtime"))
        try await EndpointHarness.with(runtime: runtime, body)
    }

    @Test func healthMetadataAndMetricsNeedNoToken() async throws {
        try await withHarness { endpoint in
            // When health, metadata and metrics are asked without a token
            let health = try await endpoint.request(
                endpoint.baseURL.appendingPathComponent("healthz"), authorization: .noToken)
            let metadata = try await endpoint.request(
                endpoint.baseURL.appendingPathComponent("v1/metadata"), authorization: .noToken)
            let metrics = try await endpoint.request(
                endpoint.baseURL.appendingPathComponent("metrics"), authorization: .noToken)
            // Then each answers
            #expect(health.status == 200 && health.body == "ok\n")
            #expect(metadata.status == 200)
            let json = JSONValue.parse(metadata.body)
            #expect(json["cluster"]?.stringValue == "demo")
            #expect(json["agentVersion"]?.stringValue == "0.1.0-test")
            #expect(json["containerInstanceArn"]?.stringValue?.hasSuffix("container-instance/demo/abc") == true)
            #expect(metrics.status == 200 && metrics.body.contains("flotilla_agent_test 1"))
        }
    }

    @Test(
        "A missing, malformed or wrong token gets 401 before anything else is looked at; so does the agent's secret",
        arguments: [
            nil, "", EndpointHarness.secret, "0123456789abcdef", "0123456789abcdef0123456789abcdef0", "a.b", ".",
            EndpointHarness.token(.logs, secret: "another agent's secret 0123456789"),
            EndpointHarness.token(.exec, secret: "another agent's secret 0123456789"),
        ])
    func wrongTokenIsRefused(token: String?) async throws {
        try await withHarness { endpoint in
            await endpoint.directory.put(
                task: "t1", container: "web",
                AgentContainerHandle(containerID: "x", running: true, logDirectory: "/nonexistent"))
            for (method, action) in [("GET", "logs"), ("POST", "exec")] {
                // When
                let reply = try await endpoint.request(
                    endpoint.url(task: "t1", container: "web", action), method: method,
                    authorization: token.map { .bearer($0) } ?? .noToken,
                    body: method == "POST" ? #"{"command": ["true"]}"# : nil)
                // Then
                #expect(reply.status == 401, "\(method) \(action)")
                #expect(JSONValue.parse(reply.body)["__type"]?.stringValue == "AccessDeniedException")
            }
        }
    }

    @Test func unknownTaskOrContainerIs404() async throws {
        try await withHarness { endpoint in
            await endpoint.directory.put(
                task: "t1", container: "web",
                AgentContainerHandle(containerID: "x", running: true, logDirectory: "/nonexistent"))
            for (task, container) in [("t2", "web"), ("t1", "db")] {
                let reply = try await endpoint.request(endpoint.url(task: task, container: container, "logs"))
                #expect(reply.status == 404)
                let json = JSONValue.parse(reply.body)
                #expect(json["__type"]?.stringValue == "ResourceNotFoundException")
                #expect(json["message"]?.stringValue?.contains(container) == true)
            }
        }
    }

    @Test(
        "Bad parameters get 400 naming the field",
        arguments: [
            ("logs?tail=-1", "GET", "", "tail:"),
            ("logs?tail=many", "GET", "", "tail:"),
            ("logs?follow=yes", "GET", "", "follow:"),
            ("exec", "POST", "not json", "body:"),
            ("exec", "POST", #"{"command": []}"#, "command:"),
            ("exec", "POST", #"{"command": "echo hi"}"#, "command:"),
            ("exec", "POST", #"{"command": ["echo", 3]}"#, "command[1]:"),
            ("exec", "POST", #"{"command": ["true"], "timeoutSeconds": 0}"#, "timeoutSeconds:"),
            ("exec", "POST", #"{"command": ["true"], "timeoutSeconds": 1.5}"#, "timeoutSeconds:"),
        ])
    func badParameters(path: String, method: String, body: String, field: String) async throws {
        try await withHarness { endpoint in
            await endpoint.directory.put(
                task: "t1", container: "web",
                AgentContainerHandle(containerID: "x", running: true, logDirectory: "/nonexistent"))
            let url = URL(string: endpoint.baseURL.absoluteString + "/v1/tasks/t1/containers/web/" + path)!
            let reply = try await endpoint.request(url, method: method, body: method == "POST" ? body : nil)
            #expect(reply.status == 400)
            let json = JSONValue.parse(reply.body)
            #expect(json["__type"]?.stringValue == "InvalidParameterException")
            #expect(json["message"]?.stringValue?.hasPrefix(field) == true, "\(json)")
        }
    }

    /// One request with `token` to `action` on `container` of `task`: status, `__type` and message.
    func attempt(
        _ endpoint: EndpointHarness, _ token: String, task: String = "t1", container: String = "web",
        _ action: ContainerAccessAction
    ) async throws -> (status: Int, type: String?, message: String) {
        let reply = try await endpoint.request(
            endpoint.url(task: task, container: container, action.rawValue),
            method: action == .exec ? "POST" : "GET", authorization: .bearer(token),
            body: action == .exec ? #"{"command": ["true"]}"# : nil)
        let json = JSONValue.parse(reply.body)
        return (reply.status, json["__type"]?.stringValue, json["message"]?.stringValue ?? "")
    }

    func putContainers(_ endpoint: EndpointHarness) async {
        for (task, container) in [("t1", "web"), ("t2", "web"), ("t1", "db")] {
            await endpoint.directory.put(
                task: task, container: container,
                AgentContainerHandle(
                    containerID: "missing-\(task)-\(container)", running: true, logDirectory: "/nonexistent"))
        }
    }

    @Test(
        "A token opens only its task, its container and its action",
        arguments: [
            (ContainerAccessAction.exec, "t2", "web", ContainerAccessAction.exec, "another task"),
            (.exec, "t1", "db", .exec, "another container"),
            (.exec, "t1", "web", .logs, "for exec, not logs"),
            (.logs, "t2", "web", .logs, "another task"),
            (.logs, "t1", "db", .logs, "another container"),
            (.logs, "t1", "web", .exec, "for logs, not exec"),
        ])
    func aTokenOpensOnlyWhatItWasMintedFor(
        minted: ContainerAccessAction, task: String, container: String, used: ContainerAccessAction, problem: String
    ) async throws {
        try await withHarness { endpoint in
            // Given containers web of t1 and t2, db of t1, and a token for `minted` on web of t1
            await putContainers(endpoint)
            let token = endpoint.token(task: "t1", container: "web", minted)
            // When it is used elsewhere
            let refused = try await attempt(endpoint, token, task: task, container: container, used)
            // Then it is refused, naming the problem
            #expect(refused.status == 401)
            #expect(refused.type == "AccessDeniedException")
            #expect(refused.message.contains(problem), "\(refused.message)")
            // And where it was minted for, it passes the check (what the fake container answers then is not ours)
            let allowed = try await attempt(endpoint, token, minted)
            #expect(allowed.status != 401, "\(allowed.message)")
        }
    }

    @Test func tokensExpireWithTheirLifetime() async throws {
        try await withHarness { endpoint in
            await putContainers(endpoint)
            // Given an exec token and a logs token minted now
            let exec = endpoint.token(.exec)
            let logs = endpoint.token(.logs)
            // When 61 seconds pass, the exec token has expired; the logs token still opens the logs
            endpoint.clock.advance(seconds: 61)
            let lateExec = try await attempt(endpoint, exec, .exec)
            #expect(lateExec.status == 401 && lateExec.message.contains("expired"), "\(lateExec.message)")
            #expect(try await attempt(endpoint, logs, .logs).status != 401)
            // When 5 minutes have passed, the logs token has expired too
            endpoint.clock.advance(seconds: 240)
            let lateLogs = try await attempt(endpoint, logs, .logs)
            #expect(lateLogs.status == 401 && lateLogs.message.contains("expired"), "\(lateLogs.message)")
            // And a token expiring further ahead than any the control plane mints is refused
            let future = EndpointHarness.token(.logs, now: endpoint.clock.date.addingTimeInterval(3600))
            let tooLong = try await attempt(endpoint, future, .logs)
            #expect(tooLong.status == 401 && tooLong.message.contains("later"), "\(tooLong.message)")
        }
    }

    @Test func anExecTokenIsGoodOnceALogsTokenAgain() async throws {
        try await withHarness { endpoint in
            await putContainers(endpoint)
            let exec = endpoint.token(.exec)
            let logs = endpoint.token(.logs)
            // When each is used twice
            let first = try await attempt(endpoint, exec, .exec)
            let second = try await attempt(endpoint, exec, .exec)
            // Then the exec token passes once and is refused the second time
            #expect(first.status != 401, "\(first.message)")
            #expect(second.status == 401 && second.message.contains("already used"), "\(second.message)")
            // And a logs token may reopen the log (a followed log reconnects)
            #expect(try await attempt(endpoint, logs, .logs).status != 401)
            #expect(try await attempt(endpoint, logs, .logs).status != 401)
        }
    }

    @Test func usedExecTokensAreForgottenOnlyOnceExpiredAndTheLedgerIsBounded() throws {
        // Given a check that remembers at most 2 exec tokens
        let clock = ManualClock(start: Date())
        let check = ContainerAccessCheck(secret: EndpointHarness.secret, clock: { clock.date }, capacity: 2)
        func use(_ token: String) -> ContainerAccessTokenError? {
            do {
                try check.authorize(token, task: "t1", container: "web", action: .exec)
                return nil
            } catch {
                return error
            }
        }
        let tokens = (0..<3).map { _ in EndpointHarness.token(.exec, now: clock.date) }
        // When two are used, a third is refused while the two are still valid
        #expect(use(tokens[0]) == nil && use(tokens[1]) == nil)
        #expect(use(tokens[2]) == .tooManySessions)
        #expect(use(tokens[0]) == .reused)
        // When they have expired, a new one is taken and the ledger never holds more than 2
        clock.advance(seconds: 61)
        #expect(use(EndpointHarness.token(.exec, now: clock.date)) == nil)
        #expect(check.rememberedNonces <= 2)
    }

    @Test func tokenComparisonIsExact() {
        let token = Array("0123456789abcdef".utf8)
        #expect(ContainerAccessToken.constantTimeEqual(token, token))
        #expect(!ContainerAccessToken.constantTimeEqual(Array("0123456789abcdeF".utf8), token))
        #expect(!ContainerAccessToken.constantTimeEqual(Array("0123456789abcde".utf8), token))
        #expect(!ContainerAccessToken.constantTimeEqual([], token))
        #expect(!ContainerAccessToken.constantTimeEqual(token + [0x30], token))
    }
}

@Suite(
    "Agent endpoint: logs and exec of real busybox containers", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct EndpointContainerTests {
    /// Creates and starts `arguments` in a busybox container and lists it in the fake directory as task `t1`, `web`.
    func start(
        _ arguments: [String], fixture: RuntimeFixture, endpoint: EndpointHarness,
        configure: (inout ContainerSpec) -> Void = { _ in }
    ) async throws -> ContainerInfo {
        let info = try await fixture.runtime.create(fixture.spec(arguments, configure: configure))
        try await fixture.runtime.start(info.id)
        await endpoint.directory.put(
            task: "t1", container: "web",
            AgentContainerHandle(containerID: info.id, running: true, logDirectory: info.directory))
        return info
    }

    @Test func logsReturnWhatTheContainerPrinted() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a running container that printed to stdout and stderr
                let info = try await start(
                    ["sh", "-c", "echo one; echo two >&2; echo three; exec sleep 600"],
                    fixture: fixture, endpoint: endpoint)
                #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "three"))
                #expect(try await RuntimeFixture.waitForLog(info.stderrLogPath, containing: "two"))
                // When its logs are read
                let text = try await endpoint.logs(task: "t1", container: "web")
                // Then stdout comes whole, then stderr
                #expect(text == "one\nthree\ntwo\n")
            }
        }
    }

    @Test func tailReadsTheLastLinesAcrossRotatedFiles() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a container that wrote 200 lines into logs rotated every 256 bytes
                let info = try await start(
                    ["sh", "-c", "i=1; while [ $i -le 200 ]; do echo line$i; i=$((i+1)); done"],
                    fixture: fixture, endpoint: endpoint
                ) {
                    $0.logMaxBytes = 256
                    $0.logMaxFiles = 50
                }
                _ = try await fixture.runtime.wait(info.id)
                await endpoint.directory.markStopped(task: "t1", container: "web")
                #expect(FileManager.default.fileExists(atPath: info.stdoutLogPath + ".2"))
                // When everything, the last 5 lines, and no lines are asked for
                let all = try await endpoint.logs(task: "t1", container: "web")
                let last5 = try await endpoint.logs(task: "t1", container: "web", tail: 5)
                let none = try await endpoint.logs(task: "t1", container: "web", tail: 0)
                let more = try await endpoint.logs(task: "t1", container: "web", tail: 1000)
                // Then the lines come in order across the rotated files
                #expect(all == (1...200).map { "line\($0)\n" }.joined())
                #expect(last5 == (196...200).map { "line\($0)\n" }.joined())
                #expect(none.isEmpty)
                #expect(more == all)
            }
        }
    }

    @Test func followDeliversOutputPrintedAfterTheRequestAndEndsWhenTheContainerStops() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a container that prints "first", then "second" only once /tmp/go exists
                let info = try await start(
                    [
                        "sh", "-c",
                        "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; exec sleep 600",
                    ],
                    fixture: fixture, endpoint: endpoint)
                #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "first"))
                // When the log is followed
                let stream = AgentClient().logs(
                    url: endpoint.url(task: "t1", container: "web", "logs"),
                    token: endpoint.token(.logs), follow: true, tail: nil)
                var received = ""
                var released = false
                for try await chunk in stream {
                    received += String(decoding: chunk, as: UTF8.self)
                    if received.contains("first\n") && !released {
                        // And the container prints after the request started
                        released = true
                        let touched = try await fixture.runtime.exec(info.id, arguments: ["touch", "/tmp/go"])
                        #expect(touched.exit.exitCode == 0)
                    }
                    if received.contains("second\n") {
                        // And then stops
                        _ = try await fixture.runtime.stop(info.id, timeout: .seconds(5))
                        await endpoint.directory.markStopped(task: "t1", container: "web")
                    }
                }
                // Then the stream carried both lines and ended by itself once the container stopped
                #expect(received == "first\nsecond\n")
            }
        }
    }

    @Test func aFollowEndsWhenTheClientGoesAway() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a followed log of a container that keeps running
                let info = try await start(
                    ["sh", "-c", "echo first; exec sleep 600"], fixture: fixture, endpoint: endpoint)
                #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "first"))
                try await Self.readUntil(
                    "first",
                    from: AgentClient().logs(
                        url: endpoint.url(task: "t1", container: "web", "logs"), token: endpoint.token(.logs),
                        follow: true, tail: nil))
                // When the client stopped reading and closed the connection (the stream was dropped)
                // Then the endpoint lets go of the log files, although the container still runs
                var released = false
                for _ in 0..<100 where !released {
                    try await Task.sleep(for: .milliseconds(100))
                    released = Self.openFiles(under: info.directory) == 0
                }
                #expect(released)
            }
        }
    }

    @Test func gracefulShutdownEndsAFollowAndTheServer() async throws {
        try await RuntimeFixture.with { fixture in
            // Given an endpoint in a ServiceGroup, as the agent runs it, and a followed running container
            let info = try await fixture.runtime.create(fixture.spec(["sh", "-c", "echo first; exec sleep 600"]))
            try await fixture.runtime.start(info.id)
            let directory = FakeContainerDirectory()
            await directory.put(
                task: "t1", container: "web",
                AgentContainerHandle(containerID: info.id, running: true, logDirectory: info.directory))
            let (ports, portContinuation) = AsyncStream<Int>.makeStream()
            let endpoint = AgentEndpoint(
                host: "127.0.0.1", port: 0, secret: EndpointHarness.secret, directory: directory,
                runtime: fixture.runtime, logger: Logger(label: "test.endpoint"),
                onServerRunning: { portContinuation.yield($0) })
            let group = ServiceGroup(services: [endpoint], logger: Logger(label: "test.group"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let url = URL(string: "http://127.0.0.1:\(port)/v1/tasks/t1/containers/web/logs")!
                var received = ""
                for try await chunk in AgentClient().logs(
                    url: url, token: EndpointHarness.token(.logs), follow: true, tail: nil)
                {
                    received += String(decoding: chunk, as: UTF8.self)
                    // When the agent shuts down gracefully while the log is followed
                    if received.contains("first\n") { await group.triggerGracefulShutdown() }
                }
                // Then the follow ends (the container still runs) and so does the server
                #expect(received == "first\n")
                try await tasks.waitForAll()
            }
        }
    }

    /// Reads `stream` until `text` arrives and checks the endpoint holds the log open; dropping the stream on return
    /// closes the connection.
    static func readUntil(_ text: String, from stream: AsyncThrowingStream<Data, any Error>) async throws {
        for try await chunk in stream where String(decoding: chunk, as: UTF8.self).contains(text) { break }
    }

    /// This process's open files inside `directory` (the endpoint runs in the test process).
    static func openFiles(under directory: String) -> Int {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.filter { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?.hasPrefix(
                directory + "/") == true
        }.count
    }

    @Test func execReturnsExitCodeAndOutput() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a running container
                _ = try await start(["sleep", "600"], fixture: fixture, endpoint: endpoint)
                // When a command is run through the endpoint
                let result = try await AgentClient().exec(
                    url: endpoint.url(task: "t1", container: "web", "exec"), token: endpoint.token(.exec),
                    command: ["sh", "-c", "echo out; echo err >&2; hostname >/dev/null; exit 3"], timeoutSeconds: 20)
                // Then its exit code and both outputs come back
                #expect(result.exitCode == 3)
                #expect(result.stdout == "out\n")
                #expect(result.stderr == "err\n")
                #expect(!result.timedOut)
            }
        }
    }

    @Test func execTimesOutAndAStoppedContainerIs409() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                let info = try await start(["sleep", "600"], fixture: fixture, endpoint: endpoint)
                let url = endpoint.url(task: "t1", container: "web", "exec")
                // When a command runs past its timeout
                let slow = try await AgentClient().exec(
                    url: url, token: endpoint.token(.exec), command: ["sleep", "30"],
                    timeoutSeconds: 1)
                // Then it is killed and said so
                #expect(slow.timedOut)
                // When the container has stopped
                _ = try await fixture.runtime.stop(info.id, timeout: .seconds(5))
                await endpoint.directory.markStopped(task: "t1", container: "web")
                let reply = try await endpoint.request(url, method: "POST", body: #"{"command": ["true"]}"#)
                // Then exec is refused with 409
                #expect(reply.status == 409)
                #expect(JSONValue.parse(reply.body)["__type"]?.stringValue == "InvalidParameterException")
            }
        }
    }
}
