import FlotillaTestKit
import Foundation
import HTTPServerLimits
import Logging
import Testing
@testable import NodeAgent

@Suite("Agent endpoint: slow and idle clients are cut, connections beyond the cap refused", .timeLimit(.minutes(10)))
struct EndpointLimitTests {
    func withEndpoint(_ limits: HTTPServerLimits, _ body: (EndpointHarness, Int) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-endpoint-limits-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtime = try ContainerRuntime(dataDirectory: root, logger: Logger(label: "test.runtime"))
        try await EndpointHarness.with(runtime: runtime, limits: limits) { endpoint in
            try await body(endpoint, endpoint.baseURL.port ?? 0)
        }
    }

    @Test func slowlorisSlowBodyAndIdleConnectionsAreClosedAtTheirDeadlinesWhileRequestsAreServed() async throws {
        // (3 s: the served request's connection must outlive a loaded machine's stalls; only the attackers reach it.)
        let limits = HTTPServerLimits(
            headerTimeout: .seconds(3), bodyTimeout: .seconds(3), idleTimeout: .seconds(3), maxConnections: 64)
        try await withEndpoint(limits) { (endpoint: EndpointHarness, port: Int) async throws in
            // When the three attackers play at once
            async let slowloris = SlowClients.slowlorisIsCut(port: port)
            async let slowBody = SlowClients.slowBodyIsCut(port: port, path: "/v1/tasks/t/containers/c/exec")
            async let idle = SlowClients.idleIsClosed(port: port)
            // Then a normal request is served meanwhile, and each attacker is cut
            #expect(
                try await endpoint.request(
                    endpoint.baseURL.appendingPathComponent("healthz"), authorization: .noToken
                ).status == 200
            )
            #expect(try await slowloris)
            #expect(try await slowBody)
            #expect(try await idle)
            #expect(try await SlowClients.get(port: port) == "HTTP/1.1 200 OK")
        }
    }

    @Test func aConnectionBeyondTheCapIsAnswered503WhileOpenOnesAreServed() async throws {
        let limits = HTTPServerLimits(
            headerTimeout: .seconds(60), bodyTimeout: .seconds(60), idleTimeout: .seconds(60), maxConnections: 2)
        try await withEndpoint(limits) { (_: EndpointHarness, port: Int) async throws in
            let (refusal, admitted, served) = try await SlowClients.beyondCap(port: port, maxConnections: 2)
            #expect(admitted == 2)
            #expect(refusal.hasPrefix("HTTP/1.1 503"))
            #expect(refusal.contains("maximum of 2 connections"))
            #expect(served)
        }
    }

    @Test func limitFlagsAreParsedAndBadOnesNamed() throws {
        let parsed = try HTTPServerLimits.fromFlags(
            headerTimeout: "500ms", bodyTimeout: "2m", idleTimeout: "30", maxConnections: 9
        ).get()
        #expect(
            parsed
                == HTTPServerLimits(
                    headerTimeout: .milliseconds(500), bodyTimeout: .seconds(120), idleTimeout: .seconds(30),
                    maxConnections: 9))
        #expect(throws: HTTPServerLimits.FlagError.self) {
            try HTTPServerLimits.fromFlags(
                headerTimeout: "soon", bodyTimeout: "1s", idleTimeout: "1s", maxConnections: 1
            ).get()
        }
        if case .failure(let error) = HTTPServerLimits.fromFlags(
            headerTimeout: "1s", bodyTimeout: "1s", idleTimeout: "1s", maxConnections: 0)
        {
            #expect(error.message.hasPrefix("--max-connections"))
        } else {
            Issue.record("--max-connections 0 was accepted")
        }
    }
}
