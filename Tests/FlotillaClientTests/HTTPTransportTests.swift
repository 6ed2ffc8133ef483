import FlotillaClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The clients' transport, without a server: what it refuses before any byte leaves.
@Suite(.timeLimit(.minutes(10)))
struct HTTPTransportTests {
    @Test func plainHTTPBeyondLoopbackIsRefusedBeforeConnecting() async throws {
        // Given the default transport (no plain HTTP beyond loopback)
        let transport = try HTTPTransport()
        // When a request goes to http:// on a name that is not loopback (`.invalid`: nothing would answer anyway)
        let error = await #expect(throws: HTTPTransportError.self) {
            try await transport.send(URLRequest(url: URL(string: "http://flotilla.invalid:8080/")!), timeout: .seconds(5))
        }
        // Then it is refused, naming the host and the fix
        #expect(error == .plainHTTPRefused(host: "flotilla.invalid"))
        #expect(error?.description == "refusing plain http:// to flotilla.invalid, which is not loopback: use https://")
    }

    @Test func aCABundleThatCannotBeUsedIsOneErrorNamingIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-bundle-\(UUID()).pem")
        try Data("hello\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: HTTPTransportError.caBundle(path: "/nonexistent/ca.pem", problem: "cannot be read")) {
            try HTTPTransport(trust: .caBundle(path: "/nonexistent/ca.pem"))
        }
        #expect(throws: HTTPTransportError.self) {
            try HTTPTransport(trust: .caBundle(path: file.path))
        }
    }
}
