import FlotillaClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ECSClientTests {
    /// A loopback port held bound but not listening, so connecting to it is refused for as long as `body` runs.
    func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        return try await body(Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func refusedConnectionIsUnreachableNamingTheEndpoint() async throws {
        try await withRefusingPort { port in
            // Given a client of a loopback port that refuses connections
            let endpoint = URL(string: "http://127.0.0.1:\(port)")!
            let client = ECSClient(endpoint: endpoint, timeout: 10)

            // When it calls ListClusters
            let error = await #expect(throws: ECSClientError.self) {
                try await client.call(.listClusters)
            }

            // Then the error is `unreachable` and names the endpoint
            guard case .unreachable(let named, _)? = error else {
                Issue.record("expected unreachable, got \(String(describing: error))")
                return
            }
            #expect(named == endpoint)
            #expect(error?.description.hasPrefix("could not connect to the endpoint http://127.0.0.1:\(port)") == true)
        }
    }
}
