import NIOCore
import NIOPosix

/// A real TCP client on loopback for the balancer tests.
enum TestClient {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }

    /// Sends `GET path`, optionally a body followed by a half-close, and reads the whole response until EOF.
    /// Returns the response body (what follows the header); empty when the connection closed without an answer.
    static func get(
        _ path: String, port: Int, body: [UInt8]? = nil, pauseBetweenReads: Duration? = nil
    ) async throws -> [UInt8] {
        let connection = try await self.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.0\r\n\r\n"))
            if let body {
                try await outbound.write(ByteBuffer(bytes: body))
                outbound.finish()
            }
            var response: [UInt8] = []
            for try await chunk in inbound {
                response += chunk.readableBytesView
                if let pauseBetweenReads { try await Task.sleep(for: pauseBetweenReads) }
            }
            return Self.body(of: response)
        }
    }

    /// The bytes after the first blank line.
    static func body(of response: [UInt8]) -> [UInt8] {
        guard response.count >= 4 else { return [] }
        for index in 0...(response.count - 4)
        where response[index] == 13 && response[index + 1] == 10 && response[index + 2] == 13
            && response[index + 3] == 10
        {
            return Array(response[(index + 4)...])
        }
        return []
    }
}

extension [UInt8] {
    var text: String { String(decoding: self, as: UTF8.self) }
}
