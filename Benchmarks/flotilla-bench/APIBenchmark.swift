import ArgumentParser
import ECSVocabulary
import FlotillaClient
import FlotillaTestKit
import Foundation
import SigV4
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// `flotilla-bench api`: the real `ecs-control-plane` on loopback, loaded by wrk over keep-alive connections: one as
/// deployed (HTTPS from its cluster CA, SigV4 signatures checked) and one started with `--insecure-no-auth
/// --insecure-plain-http`, in the same run, so the table shows what TLS and authentication cost together.
///
/// Measures RegisterTaskDefinition (a durable write: one transaction, one fsync) and DescribeServices (a read),
/// with GET /healthz on the same server as the HTTP floor the ratios are taken against.
struct APIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "ECS API throughput and latency of ecs-control-plane under wrk."
    )

    @Option(help: "Seconds of load per scenario (1-120).")
    var duration: Int = 10

    @Option(help: "Open connections (1-256).")
    var connections: Int = 16

    @Option(help: "wrk threads (1-16).")
    var threads: Int = 2

    @Option(help: "The ecs-control-plane binary (default: next to this executable).")
    var binary: String?

    func validate() throws {
        guard (1...120).contains(duration) else { throw ValidationError("--duration: 1 to 120 seconds") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections: 1 to 256") }
        guard (1...16).contains(threads), threads <= connections else {
            throw ValidationError("--threads: 1 to 16, at most --connections")
        }
    }

    struct Scenario {
        var name: String
        var method: String
        var target: String?
        var body: String
    }

    struct Result: Codable {
        var scenario: String
        var requests: Int
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var non2xx: Int
        var socketErrors: Int
    }

    /// One control plane under test: HTTPS and SigV4 (the default) or plain HTTP with `--insecure-no-auth`.
    struct Server {
        var process: Process
        var endpoint: String
        var dataDirectory: URL
        /// The key requests are signed with; nil for the one that checks nothing.
        var credentials: AWSCredentials?
        /// Trusts the server's cluster CA (the setup calls go through it).
        var transport: HTTPTransport = .systemTrust

        func stop() {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: dataDirectory)
        }
    }

    func run() async throws {
        try Machine.install(["wrk": "wrk"])
        let executable =
            binary.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("ecs-control-plane")
        let signing = AWSCredentials(accessKeyID: "AKFLBENCHADMIN000000", secretAccessKey: "flotilla-bench-secret")
        let plain = try await start(executable, credentials: nil)
        defer { plain.stop() }
        let signed = try await start(executable, credentials: signing)
        defer { signed.stop() }

        let scenarios = [
            Scenario(name: "healthz (HTTP floor)", method: "GET", target: nil, body: ""),
            Scenario(
                name: "RegisterTaskDefinition", method: "POST", target: "RegisterTaskDefinition",
                body: Self.taskDefinition),
            Scenario(
                name: "DescribeServices", method: "POST", target: "DescribeServices",
                body: #"{"cluster": "bench", "services": ["web"]}"#),
        ]
        // The two servers take turns per scenario, so a drift of the machine's load falls on both alike.
        var results: [Result] = []
        for scenario in scenarios {
            for server in [plain, signed] where scenario.target != nil || server.credentials == nil {
                var result = try runWrk(scenario, on: server)
                result.scenario += scenario.target == nil ? "" : server.credentials == nil ? " (no auth)" : " (SigV4)"
                results.append(result)
            }
        }

        print("")
        print(
            "ecs-control-plane on loopback, wrk -t\(threads) -c\(connections) -d\(duration)s (SQLite WAL, synchronous=FULL); "
                + "SigV4 over TLS (keep-alive): every request signed and checked, against plain HTTP with --insecure-no-auth"
        )
        print(String(repeating: "-", count: 104))
        print(
            Cell.left("scenario", 35)
                + Cell.right("requests", 10) + Cell.right("req/s", 12) + Cell.right("p50 ms", 10)
                + Cell.right("p99 ms", 10)
                + Cell.right("non-2xx", 10) + Cell.right("ratio to floor", 16))
        let floor = results[0].requestsPerSecond
        for result in results {
            print(
                Cell.left(result.scenario, 35)
                    + Cell.right(String(result.requests), 10)
                    + Cell.right(String(format: "%.0f", result.requestsPerSecond), 12)
                    + Cell.right(String(format: "%.2f", result.p50Milliseconds), 10)
                    + Cell.right(String(format: "%.2f", result.p99Milliseconds), 10)
                    + Cell.right(String(result.non2xx), 10)
                    + Cell.right(String(format: "%.3f", result.requestsPerSecond / max(floor, 1)), 16))
        }
        // results: floor, register plain, register signed, describe plain, describe signed
        func cost(_ plain: Result, _ signed: Result) -> String {
            String(
                format: "req/s %+.1f%%, p99 %+.1f%%",
                (signed.requestsPerSecond / max(plain.requestsPerSecond, 1) - 1) * 100,
                (signed.p99Milliseconds / max(plain.p99Milliseconds, 0.001) - 1) * 100)
        }
        print("SigV4 + TLS cost (against plain HTTP, no auth): RegisterTaskDefinition \(cost(results[1], results[2])); DescribeServices \(cost(results[3], results[4]))")
        struct Summary: Codable {
            var benchmark = "api"
            var tool = "wrk"
            var threads: Int
            var connections: Int
            var durationSeconds: Int
            var results: [Result]
            var registerToFloorRatio: Double
            var describeToFloorRatio: Double
            var registerSigV4ToPlainRatio: Double
            var describeSigV4ToPlainRatio: Double
            var describeSigV4ToPlainP99Ratio: Double
        }
        let summary = Summary(
            threads: threads, connections: connections, durationSeconds: duration, results: results,
            registerToFloorRatio: results[1].requestsPerSecond / max(floor, 1),
            describeToFloorRatio: results[3].requestsPerSecond / max(floor, 1),
            registerSigV4ToPlainRatio: results[2].requestsPerSecond / max(results[1].requestsPerSecond, 1),
            describeSigV4ToPlainRatio: results[4].requestsPerSecond / max(results[3].requestsPerSecond, 1),
            describeSigV4ToPlainP99Ratio: results[4].p99Milliseconds / max(results[3].p99Milliseconds, 0.001)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }

    /// Starts a control plane on a free port and sets up one cluster, one task definition and one service to
    /// describe; with `credentials` as its admin key (in the environment, as an operator gives it), else with
    /// `--insecure-no-auth`.
    func start(_ executable: URL, credentials: AWSCredentials?) async throws -> Server {
        let port = try freePort()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-bench-api-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = executable
        process.arguments =
            ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path, "--log-level", "error"]
            + (credentials == nil
                ? ["--insecure-no-auth", "--insecure-plain-http"] : ["--admin-access-key-id", credentials!.accessKeyID])
        var environment = ProcessInfo.processInfo.environment
        environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] = credentials?.secretAccessKey
        process.environment = environment
        try process.run()
        var server = Server(
            process: process, endpoint: "\(credentials == nil ? "http" : "https")://127.0.0.1:\(port)",
            dataDirectory: dataDirectory, credentials: credentials)
        if credentials != nil {
            // The CA is written before the listener opens.
            let ca = dataDirectory.appendingPathComponent("ca.pem").path
            for _ in 0..<300 where !FileManager.default.fileExists(atPath: ca) {
                try await Task.sleep(for: .milliseconds(50))
            }
            server.transport = try HTTPTransport(trust: .caBundle(path: ca))
        }
        try await waitUntilHealthy(server)
        try await call(server, "CreateCluster", #"{"clusterName": "bench"}"#)
        try await call(server, "RegisterTaskDefinition", Self.taskDefinition)
        try await call(
            server, "CreateService",
            #"{"cluster": "bench", "serviceName": "web", "taskDefinition": "bench", "desiredCount": 2}"#)
        return server
    }

    // MARK: - wrk

    /// wrk replays one request; a signed one carries the signature made for it now (valid for the five minutes
    /// SigV4 allows, longer than any run), so the server checks a real signature on every request.
    func runWrk(_ scenario: Scenario, on server: Server) throws -> Result {
        var lua = "wrk.method = \"\(scenario.method)\"\n"
        if let target = scenario.target {
            var request = URLRequest(url: URL(string: server.endpoint)!)
            request.httpMethod = "POST"
            request.setValue(TargetPrefix.ecs.target(target), forHTTPHeaderField: "X-Amz-Target")
            request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(scenario.body.utf8)
            if let credentials = server.credentials { request.sign(with: credentials, region: "us-east-1") }
            for (name, value) in request.allHTTPHeaderFields ?? [:] {
                lua += "wrk.headers[\"\(name)\"] = \"\(value)\"\n"
            }
            lua += "wrk.body = [==[\(scenario.body)]==]\n"
        }
        let path = scenario.target == nil ? "/healthz" : "/"
        let run = try Wrk.run(
            server.endpoint + path, threads: threads, connections: connections, seconds: duration, script: lua)
        return Result(
            scenario: scenario.name, requests: Int(run.requests), requestsPerSecond: run.requestsPerSecond,
            p50Milliseconds: run.p50Milliseconds, p99Milliseconds: run.p99Milliseconds,
            non2xx: run.non2xx, socketErrors: run.socketErrors)
    }

    // MARK: - HTTP

    func waitUntilHealthy(_ server: Server) async throws {
        for _ in 0..<300 {
            let request = URLRequest(url: URL(string: "\(server.endpoint)/healthz")!)
            if let response = try? await server.transport.send(request, timeout: .seconds(2)),
                response.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw APIBenchmarkError.serverNotHealthy
    }

    func call(_ server: Server, _ operation: String, _ body: String) async throws {
        var request = URLRequest(url: URL(string: server.endpoint)!)
        request.httpMethod = "POST"
        request.setValue(TargetPrefix.ecs.target(operation), forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        if let credentials = server.credentials { request.sign(with: credentials, region: "us-east-1") }
        let response = try await server.transport.send(request, timeout: .seconds(30))
        guard response.statusCode == 200 else {
            throw APIBenchmarkError.setupFailed(operation, String(decoding: response.body, as: UTF8.self))
        }
    }

    static let taskDefinition = """
        {"family": "bench", "networkMode": "bridge", "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1", \
        "cpu": 128, "memory": 64, "essential": true, "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}], \
        "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 3}}]}
        """
}

enum APIBenchmarkError: Error {
    case serverNotHealthy
    case setupFailed(String, String)
}
