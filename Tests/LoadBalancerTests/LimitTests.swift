import FlotillaTestKit
import LoadBalancer
import NIOCore
import Testing

@Suite(
    "Balancer limits: idle connections closed, long downloads kept, connections beyond the cap refused",
    .timeLimit(.minutes(10)))
struct LimitTests {
    static func configuration(
        idleTimeout: Duration = .seconds(350), maxConnections: Int = 10_000
    ) -> LoadBalancerConfiguration {
        var configuration = LoadBalancerConfiguration.test()
        configuration.idleTimeout = idleTimeout
        configuration.maxConnections = maxConnections
        return configuration
    }

    @Test func aConnectionMovingNoBytesIsClosedAtTheIdleTimeoutWhileALongDownloadAndNewRequestsGoOn() async throws {
        try await withBackends(1) { backends in
            // (3 s: every connection of the test, the download and the new request too, must outlive a loaded
            // machine's stalls; only the connection that sends nothing may reach it.)
            try await withBalancer(Self.configuration(idleTimeout: .seconds(3)), targets: backends.map(\.target)) {
                balancer in
                // Given a download that takes longer than the idle timeout (150 KiB at 1 KiB per 50 ms: 7.5 s at
                // least), small enough never to fill a socket buffer, so its bytes keep moving through the balancer
                // even while a loaded machine keeps this test's task from reading them
                let size = 150 * 1024
                async let download = TestClient.get("/trickle/\(size)", port: balancer.listenerPort).count
                // When a client gets its answer and then sends nothing, and the backend holds the connection open
                let idle = try RawConnection(port: balancer.listenerPort)
                idle.send("GET /hold HTTP/1.0\r\n\r\n")
                #expect(await idle.waitFor(backends[0].name, within: .seconds(10)))
                // Then the balancer closes it
                #expect(await idle.waitForClose(within: .seconds(10)))
                // while new requests are served and the download completes in full
                #expect(try await TestClient.get("/name", port: balancer.listenerPort) == Array(backends[0].name.utf8))
                #expect(try await download == size)
            }
        }
    }

    @Test func aConnectionBeyondTheCapIsClosedBeforeAnyByteWhileOpenOnesWork() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(Self.configuration(maxConnections: 2), targets: backends.map(\.target)) { balancer in
                // Given the cap reached by two held connections
                var held: [RawConnection] = []
                for _ in 0..<2 {
                    let connection = try RawConnection(port: balancer.listenerPort)
                    connection.send("GET /hold HTTP/1.0\r\n\r\n")
                    #expect(await connection.waitFor(backends[0].name, within: .seconds(10)))
                    held.append(connection)
                }
                // When a third connects
                let extra = try RawConnection(port: balancer.listenerPort)
                extra.send("GET /name HTTP/1.0\r\n\r\n")
                // Then it is closed without a byte, and the held ones are still open
                #expect(await extra.waitForClose(within: .seconds(10)))
                #expect(extra.received.isEmpty)
                #expect(held.allSatisfy { !$0.isClosed })
                #expect(backends[0].requests == 2)
                // When one held connection is reset (a plain close is a half-close the balancer forwards and waits on)
                held.removeFirst().reset()
                let served = await eventually(within: .seconds(10), every: .milliseconds(50)) {
                    (try? await TestClient.get("/name", port: balancer.listenerPort)) == Array(backends[0].name.utf8)
                        ? true : nil
                }
                #expect(served == true)
            }
        }
    }

    @Test func theLimitsAreValidated() {
        #expect(throws: LoadBalancerError.self) { try Self.configuration(maxConnections: 0).validate() }
        #expect(throws: LoadBalancerError.self) { try Self.configuration(idleTimeout: .zero).validate() }
    }
}
