import NIOCore
import NIOPosix
import Synchronization

/// A real TCP backend on loopback speaking just enough HTTP/1.0 for the balancer tests.
///
/// Routes: `/health` (200, not counted), `/name` (its name, then close), `/hold` (its name and a newline, kept
/// open), `/bytes/N` (N bytes as fast as the socket takes them), `/slow/N` (N bytes, 64 KiB every 5 ms),
/// `/trickle/N` (N bytes, 1 KiB every 50 ms: always moving, never enough to fill a socket buffer),
/// `/echo` (reads the body until the client half-closes, answers `received N`). Every route but `/health` counts
/// as one request.
final class TestBackend: Sendable {
    let name: String
    let port: Int
    private let server: any Channel
    private let state: BackendState

    private init(name: String, server: any Channel, state: BackendState) {
        self.name = name
        self.server = server
        self.port = server.localAddress!.port!
        self.state = state
    }

    static func start(name: String) async throws -> TestBackend {
        let state = BackendState()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                state.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(name: name, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestBackend(name: name, server: server, state: state)
    }

    /// Requests served, health checks excluded.
    var requests: Int { self.state.requests.load(ordering: .relaxed) }

    /// Closes the listener and every open connection, like a killed process.
    func kill() async {
        try? await self.server.close()
        for channel in self.state.openChannels() { try? await channel.close() }
    }
}

private final class BackendState: Sendable {
    let requests = Atomic<Int>(0)
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.removeValue(forKey: id) } }
    }

    func openChannels() -> [any Channel] { self.channels.withLock { Array($0.values) } }
}

private final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String
    private let state: BackendState
    private var header = ByteBuffer()
    private var route: String?
    private var bodyBytes = 0

    init(name: String, state: BackendState) {
        self.name = name
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        guard self.route == nil else {
            self.bodyBytes += buffer.readableBytes
            return
        }
        self.header.writeBuffer(&buffer)
        let view = self.header.readableBytesView
        guard let end = Self.endOfHeader(view) else { return }
        let headerText = String(decoding: view[view.startIndex..<end], as: UTF8.self)
        self.bodyBytes = view.count - (end - view.startIndex) - 4
        let path = headerText.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        self.route = path
        self.respond(to: path, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, self.route == "/echo" {
            self.send("HTTP/1.0 200 OK\r\n\r\nreceived \(self.bodyBytes)", context: context, thenClose: true)
        } else if case ChannelEvent.inputClosed = event, self.route == nil {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to path: String, context: ChannelHandlerContext) {
        if path != "/health" { self.state.requests.add(1, ordering: .relaxed) }
        switch path {
        case "/health":
            self.send("HTTP/1.0 200 OK\r\n\r\n", context: context, thenClose: true)
        case "/name":
            self.send("HTTP/1.0 200 OK\r\n\r\n\(self.name)", context: context, thenClose: true)
        case "/hold":
            self.send("HTTP/1.0 200 OK\r\n\r\n\(self.name)\n", context: context, thenClose: false)
        case "/echo":
            break  // answered once the client half-closes
        case _ where path.hasPrefix("/bytes/"):
            let count = Int(path.dropFirst("/bytes/".count)) ?? 0
            context.write(NIOAny(context.channel.allocator.buffer(string: "HTTP/1.0 200 OK\r\n\r\n")), promise: nil)
            var remaining = count
            while remaining > 0 {
                let chunk = min(remaining, 64 * 1024)
                context.write(NIOAny(Self.payload(chunk, allocator: context.channel.allocator)), promise: nil)
                remaining -= chunk
            }
            self.send("", context: context, thenClose: true)
        case _ where path.hasPrefix("/slow/"):
            let count = Int(path.dropFirst("/slow/".count)) ?? 0
            context.writeAndFlush(
                NIOAny(context.channel.allocator.buffer(string: "HTTP/1.0 200 OK\r\n\r\n")), promise: nil)
            self.sendSlowly(remaining: count, chunkSize: 64 * 1024, every: .milliseconds(5), context: context)
        case _ where path.hasPrefix("/trickle/"):
            let count = Int(path.dropFirst("/trickle/".count)) ?? 0
            context.writeAndFlush(
                NIOAny(context.channel.allocator.buffer(string: "HTTP/1.0 200 OK\r\n\r\n")), promise: nil)
            self.sendSlowly(remaining: count, chunkSize: 1024, every: .milliseconds(50), context: context)
        default:
            self.send("HTTP/1.0 404 Not Found\r\n\r\n", context: context, thenClose: true)
        }
    }

    private func sendSlowly(remaining: Int, chunkSize: Int, every interval: TimeAmount, context: ChannelHandlerContext)
    {
        guard remaining > 0 else {
            self.send("", context: context, thenClose: true)
            return
        }
        let chunk = min(remaining, chunkSize)
        context.writeAndFlush(NIOAny(Self.payload(chunk, allocator: context.channel.allocator)), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            guard context.channel.isActive else { return }
            self.sendSlowly(remaining: remaining - chunk, chunkSize: chunkSize, every: interval, context: context)
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext, thenClose: Bool) {
        let written = context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)))
        if thenClose {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    static func payload(_ count: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: count)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: count)
        return buffer
    }

    private static func endOfHeader(_ view: ByteBufferView) -> Int? {
        let bytes = Array(view)
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return view.startIndex + index
        }
        return nil
    }
}
