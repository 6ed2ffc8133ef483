import LoadBalancer
import NIOCore
import Testing

@Suite("Connections over real TCP on loopback", .timeLimit(.minutes(10)))
struct ConnectionTests {
    @Test func removedTargetFinishesItsSlowDownloadWhileNewConnectionsGoElsewhere() async throws {
        try await withBackends(2) { backends in
            try await withBalancer(.test(deregistrationDelay: .seconds(60)), targets: backends.map(\.target)) {
                balancer in
                let size = 8 * 1024 * 1024
                try await withThrowingTaskGroup(of: Int.self) { group in
                    // Given a throttled 8 MiB download in flight from backend-0
                    group.addTask { try await TestClient.get("/slow/\(size)", port: balancer.listenerPort).count }
                    #expect(try await eventually { balancer.snapshot().of(backends[0].target)?.activeConnections == 1 })
                    // When backend-0 is removed
                    balancer.updateTargets([backends[1].target])
                    let draining = try #require(balancer.snapshot().of(backends[0].target))
                    #expect(draining.isDraining)
                    #expect(draining.activeConnections == 1)
                    // Then new connections go to backend-1
                    for _ in 0..<5 {
                        #expect(try await TestClient.get("/name", port: balancer.listenerPort).text == backends[1].name)
                    }
                    // And the download completes in full, after which backend-0 leaves the set
                    #expect(try await group.next() == size)
                    #expect(try await eventually { balancer.snapshot().of(backends[0].target) == nil })
                    #expect(backends[0].requests == 1)
                }
            }
        }
    }

    @Test func connectionsOfARemovedTargetAreClosedWhenTheDeregistrationDelayEnds() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(.test(deregistrationDelay: .milliseconds(200)), targets: backends.map(\.target)) {
                balancer in
                // Given a connection held open on the only target
                let connection = try await TestClient.connect(port: balancer.listenerPort)
                let bytesAfterName = try await connection.executeThenClose { inbound, outbound in
                    var reader = inbound.makeAsyncIterator()
                    let name = try await BalancingTests.hold(&reader, outbound)
                    #expect(name == backends[0].name)
                    // When the target is removed
                    balancer.updateTargets([])
                    // Then the balancer closes the connection once the delay ends (the backend never would)
                    var more = 0
                    while let chunk = try await reader.next() { more += chunk.readableBytes }
                    return more
                }
                #expect(bytesAfterName == 0)
                #expect(balancer.snapshot().targets.isEmpty)
            }
        }
    }

    @Test func clientHalfCloseStillGetsTheFullResponse() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(.test(), targets: backends.map(\.target)) { balancer in
                // When a client sends 100 000 body bytes and shuts its write side
                let body = [UInt8](repeating: 7, count: 100_000)
                let response = try await TestClient.get("/echo", port: balancer.listenerPort, body: body)
                // Then the backend saw the end of input and the client still got its answer
                #expect(response.text == "received 100000")
            }
        }
    }

    @Test func slowReaderDoesNotMakeTheBalancerBufferBeyondItsBound() async throws {
        try await withBackends(1) { backends in
            var configuration = LoadBalancerConfiguration.test()
            configuration.writeBufferHighWaterMark = 64 * 1024
            try await withBalancer(configuration, targets: backends.map(\.target)) { balancer in
                // When a client reads a fast 16 MiB response slowly
                let size = 16 * 1024 * 1024
                let body = try await TestClient.get(
                    "/bytes/\(size)", port: balancer.listenerPort, pauseBetweenReads: .milliseconds(1))
                // Then all of it arrived, and the balancer held at most 1 MiB of it at any time (without backpressure
                // it would hold what the kernel buffers do not: several MiB). The bound is the high-water mark, one
                // read cycle (256 KiB), and the backend socket's receive buffer NIO drains when the backend closes
                // (see `writeBufferHighWaterMark`).
                #expect(body.count == size)
                let peak = balancer.snapshot().peakBufferedBytes
                #expect(peak > configuration.writeBufferHighWaterMark)
                #expect(peak <= 1024 * 1024)
            }
        }
    }

    @Test func listenerPortInUseIsATypedErrorNamingThePort() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(.test(), targets: backends.map(\.target)) { first in
                // When a second balancer asks for the first one's port
                var configuration = LoadBalancerConfiguration.test()
                configuration.listenerPort = first.listenerPort
                let error = await #expect(throws: LoadBalancerError.self) {
                    _ = try await LoadBalancer.start(configuration, logger: quietLogger)
                }
                // Then it gets the typed error naming the port, and the first keeps serving
                #expect(error == .listenerPortInUse(host: "127.0.0.1", port: first.listenerPort))
                #expect(error?.description.contains("port \(first.listenerPort)") == true)
                let name = try await TestClient.get("/name", port: first.listenerPort).text
                #expect(name == backends[0].name)
            }
        }
    }

    @Test func countersMatchWhatWasSent() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(.test(), targets: backends.map(\.target)) { balancer in
                // When three clients each send a 1000-byte body and read the answer
                for _ in 0..<3 {
                    let response = try await TestClient.get(
                        "/echo", port: balancer.listenerPort, body: [UInt8](repeating: 1, count: 1000))
                    #expect(response.text == "received 1000")
                }
                // Then the counters hold exactly the bytes of both directions
                let request = "GET /echo HTTP/1.0\r\n\r\n".utf8.count + 1000
                let response = "HTTP/1.0 200 OK\r\n\r\nreceived 1000".utf8.count
                #expect(try await eventually { balancer.snapshot().targets.first?.activeConnections == 0 })
                let counters = try #require(balancer.snapshot().of(backends[0].target))
                #expect(counters.totalConnections == 3)
                #expect(counters.bytesIn == 3 * request)
                #expect(counters.bytesOut == 3 * response)
                #expect(counters.connectErrors == 0)
                #expect(counters.health == .healthy)
            }
        }
    }

    @Test func newTargetJoinsOnlyOnceItsHealthCheckPasses() async throws {
        try await withBackends(1) { backends in
            try await withBalancer(.test(), targets: backends.map(\.target), assumeHealthy: false) { balancer in
                // Given a target not vouched for, When its first check passes
                #expect(balancer.snapshot().targets.first?.health == .initial)
                for await transition in balancer.healthTransitions
                where transition.target == backends[0].target && transition.to == .healthy { break }
                // Then it serves
                let name = try await TestClient.get("/name", port: balancer.listenerPort).text
                #expect(name == backends[0].name)
            }
        }
    }
}
