import ArgumentParser
import ECSVocabulary
import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// `flotilla-bench api`: the real `ecs-control-plane` on loopback, loaded by wrk.
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

    func run() async throws {
        try Machine.install(["wrk": "wrk"])
        let executable =
            binary.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("ecs-control-plane")
        let port = try freePort()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-bench-api-\(UUID().uuidString)")
        let server = Process()
        server.executableURL = executable
        server.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path, "--log-level", "error"]
        try server.run()
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
            try? FileManager.default.removeItem(at: dataDirectory)
        }
        let endpoint = "http://127.0.0.1:\(port)"
        try await waitUntilHealthy(endpoint)

        // Setup: one cluster, one task definition, one service to describe.
        try await call(endpoint, "CreateCluster", #"{"clusterName": "bench"}"#)
        try await call(endpoint, "RegisterTaskDefinition", Self.taskDefinition)
        try await call(
            endpoint, "CreateService",
            #"{"cluster": "bench", "serviceName": "web", "taskDefinition": "bench", "desiredCount": 2}"#)

        let scenarios = [
            Scenario(name: "healthz (HTTP floor)", method: "GET", target: nil, body: ""),
            Scenario(
                name: "RegisterTaskDefinition", method: "POST", target: "RegisterTaskDefinition",
                body: Self.taskDefinition),
            Scenario(
                name: "DescribeServices", method: "POST", target: "DescribeServices",
                body: #"{"cluster": "bench", "services": ["web"]}"#),
        ]
        var results: [Result] = []
        for scenario in scenarios {
            results.append(try runWrk(scenario, endpoint: endpoint))
        }

        print("")
        print(
            "ecs-control-plane on loopback, wrk -t\(threads) -c\(connections) -d\(duration)s (SQLite WAL, synchronous=FULL)"
        )
        print(String(repeating: "-", count: 94))
        print(
            Cell.left("scenario", 25)
                + Cell.right("requests", 10) + Cell.right("req/s", 12) + Cell.right("p50 ms", 10)
                + Cell.right("p99 ms", 10)
                + Cell.right("non-2xx", 10) + Cell.right("ratio to floor", 16))
        let floor = results[0].requestsPerSecond
        for result in results {
            print(
                Cell.left(result.scenario, 25)
                    + Cell.right(String(result.requests), 10)
                    + Cell.right(String(format: "%.0f", result.requestsPerSecond), 12)
                    + Cell.right(String(format: "%.2f", result.p50Milliseconds), 10)
                    + Cell.right(String(format: "%.2f", result.p99Milliseconds), 10)
                    + Cell.right(String(result.non2xx), 10)
                    + Cell.right(String(format: "%.3f", result.requestsPerSecond / max(floor, 1)), 16))
        }
        struct Summary: Codable {
            var benchmark = "api"
            var tool = "wrk"
            var threads: Int
            var connections: Int
            var durationSeconds: Int
            var results: [Result]
            var registerToFloorRatio: Double
            var describeToFloorRatio: Double
        }
        let summary = Summary(
            threads: threads, connections: connections, durationSeconds: duration, results: results,
            registerToFloorRatio: results[1].requestsPerSecond / max(floor, 1),
            describeToFloorRatio: results[2].requestsPerSecond / max(floor, 1)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }

    // MARK: - wrk

    func runWrk(_ scenario: Scenario, endpoint: String) throws -> Result {
        var lua = "wrk.method = \"\(scenario.method)\"\n"
        if let target = scenario.target {
            lua += "wrk.headers[\"X-Amz-Target\"] = \"\(TargetPrefix.ecs.target(target))\"\n"
            lua += "wrk.headers[\"Content-Type\"] = \"application/x-amz-json-1.1\"\n"
            lua += "wrk.body = [==[\(scenario.body)]==]\n"
        }
        let path = scenario.target == nil ? "/healthz" : "/"
        let run = try Wrk.run(
            endpoint + path, threads: threads, connections: connections, seconds: duration, script: lua)
        return Result(
            scenario: scenario.name, requests: Int(run.requests), requestsPerSecond: run.requestsPerSecond,
            p50Milliseconds: run.p50Milliseconds, p99Milliseconds: run.p99Milliseconds,
            non2xx: run.non2xx, socketErrors: run.socketErrors)
    }

    // MARK: - HTTP

    func waitUntilHealthy(_ endpoint: String) async throws {
        for _ in 0..<300 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(endpoint)/healthz")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw APIBenchmarkError.serverNotHealthy
    }

    func call(_ endpoint: String, _ operation: String, _ body: String) async throws {
        var request = URLRequest(url: URL(string: endpoint)!)
        request.httpMethod = "POST"
        request.setValue(TargetPrefix.ecs.target(operation), forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw APIBenchmarkError.setupFailed(operation, String(decoding: data, as: UTF8.self))
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
