import LoadBalancer
import NIOCore
import NIOPosix
import Testing

@Suite("Balancing over real TCP on loopback", .timeLimit(.minutes(10)))
struct BalancingTests {
    @Test func roundRobinSpreadsConnectionsExactlyOverThreeBackends() async throws {
        try await withBackends { backends in
            try await withBalancer(.test(), targets: backends.map(\.target)) { balancer in
                // When nine clients connect one after the other
                var names: [String] = []
                for _ in 0..<9 { names.append(try await TestClient.get("/name", port: balancer.listenerPort).text) }
                // Then each backend served exactly three, in turn
                #expect(backends.map(\.requests) == [3, 3, 3])
                #expect(Set(names.prefix(3)) == Set(backends.map(\.name)))
                #expect(names == Array(repeating: Array(names.prefix(3)), count: 3).flatMap { $0 })
                #expect(balancer.snapshot().targets.map(\.totalConnections) == [3, 3, 3])
            }
        }
    }

    @Test func leastOutstandingSendsNewConnectionsToTheIdleBackend() async throws {
        try await withBackends { backends in
            try await withBalancer(.test(algorithm: .leastOutstandingConnections), targets: backends.map(\.target)) {
                balancer in
                // Given two connections held open on two backends
                let first = try await TestClient.connect(port: balancer.listenerPort)
                let second = try await TestClient.connect(port: balancer.listenerPort)
                try await first.executeThenClose { firstIn, firstOut in
                    try await second.executeThenClose { secondIn, secondOut in
                        var firstReader = firstIn.makeAsyncIterator()
                        var secondReader = secondIn.makeAsyncIterator()
                        let held = [
                            try await Self.hold(&firstReader, firstOut), try await Self.hold(&secondReader, secondOut),
                        ]
                        #expect(Set(held).count == 2)
                        // When three short requests come one after the other
                        var names: [String] = []
                        for _ in 0..<3 {
                            // (once the balancer has seen the previous short connection close)
                            #expect(
                                try await eventually {
                                    balancer.snapshot().targets.map(\.activeConnections).reduce(0, +) == 2
                                })
                            names.append(try await TestClient.get("/name", port: balancer.listenerPort).text)
                        }
                        // Then all go to the backend holding nothing
                        let idle = Set(backends.map(\.name)).subtracting(held)
                        #expect(Set(names) == idle)
                        #expect(names.count == 3)
                    }
                }
            }
        }
    }

    @Test func killedBackendGetsNoNewConnectionAfterItsFailedCheckAndNoRequestFails() async throws {
        try await withBackends { backends in
            try await withBalancer(.test(), targets: backends.map(\.target)) { balancer in
                // Given traffic reaches all three backends
                for _ in 0..<3 { _ = try await TestClient.get("/name", port: balancer.listenerPort) }
                #expect(backends.map(\.requests) == [1, 1, 1])
                // When backend-1 is killed and its next health check fails
                await backends[1].kill()
                for await transition in balancer.healthTransitions
                where transition.target == backends[1].target && transition.to == .unhealthy { break }
                let before = try #require(balancer.snapshot().of(backends[1].target))
                // Then thirty requests all succeed on the other two, and the balancer never tries backend-1
                var failures = 0
                for _ in 0..<30 {
                    let name = try await TestClient.get("/name", port: balancer.listenerPort).text
                    if name != backends[0].name && name != backends[2].name { failures += 1 }
                }
                #expect(failures == 0)
                #expect(backends[0].requests + backends[2].requests == 32)
                let after = try #require(balancer.snapshot().of(backends[1].target))
                #expect(after.health == .unhealthy)
                #expect(after.totalConnections == before.totalConnections)
                #expect(after.connectErrors == before.connectErrors)
            }
        }
    }

    @Test func connectErrorIsRetriedOnAnotherTargetBeforeTheClientSeesAByte() async throws {
        try await withBackends(2) { backends in
            // Given a target whose port refuses connections, still believed healthy (threshold 10)
            let refused = try await Self.refusedTarget()
            var configuration = LoadBalancerConfiguration.test(interval: .seconds(60))
            configuration.healthCheck.unhealthyThreshold = 10
            try await withBalancer(configuration, targets: [refused] + backends.map(\.target)) { balancer in
                // When nine clients connect
                var names: [String] = []
                for _ in 0..<9 { names.append(try await TestClient.get("/name", port: balancer.listenerPort).text) }
                // Then every one got an answer from a live backend
                #expect(names.allSatisfy { $0 == backends[0].name || $0 == backends[1].name })
                #expect(backends[0].requests + backends[1].requests == 9)
                let dead = try #require(balancer.snapshot().of(refused))
                #expect(dead.connectErrors >= 3)
                #expect(dead.totalConnections == 0)
            }
        }
    }

    @Test(arguments: [1, 3])
    func connectErrorsTakeADeadTargetOutAfterTheUnhealthyThresholdWithoutWaitingForActiveChecks(
        threshold: Int
    ) async throws {
        try await withBackends { backends in
            // Given active checks only once a minute, and traffic reaching all three backends
            var configuration = LoadBalancerConfiguration.test(interval: .seconds(60))
            configuration.healthCheck.unhealthyThreshold = threshold
            try await withBalancer(configuration, targets: backends.map(\.target)) { balancer in
                for _ in 0..<3 { _ = try await TestClient.get("/name", port: balancer.listenerPort) }
                #expect(backends.map(\.requests) == [1, 1, 1])
                // When backend-1 dies and thirty clients connect before any active check runs again
                await backends[1].kill()
                var names: [String] = []
                for _ in 0..<30 { names.append(try await TestClient.get("/name", port: balancer.listenerPort).text) }
                // Then every client got an answer from a live backend, at most `threshold` of them paid a failed
                // connect (round robin alone would have sent 10 there), and backend-1 is out
                #expect(names.allSatisfy { $0 == backends[0].name || $0 == backends[2].name })
                let dead = try #require(balancer.snapshot().of(backends[1].target))
                #expect(dead.health == .unhealthy)
                #expect((1...threshold).contains(dead.connectErrors))
                #expect(dead.totalConnections == 1)
            }
        }
    }

    /// Sends `GET /hold` and reads the backend's name line; the connection stays open.
    static func hold(
        _ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws -> String {
        try await outbound.write(ByteBuffer(string: "GET /hold HTTP/1.0\r\n\r\n"))
        var response: [UInt8] = []
        while response.last != UInt8(ascii: "\n"), let chunk = try await inbound.next() {
            response += chunk.readableBytesView
        }
        return String(TestClient.body(of: response).text.dropLast())
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func refusedTarget() async throws -> Target {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return Target(id: "refused", host: "127.0.0.1", port: port)
    }
}
