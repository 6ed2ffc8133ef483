import NIOCore
import NIOPosix

/// One active health check of one target: a TCP connect, or an HTTP `GET` whose status must be 2xx or 3xx.
enum HealthProbe {
    /// True when `target` passed `healthCheck` within its timeout. Never throws: every failure is a failed check.
    static func check(_ target: Target, _ healthCheck: TargetHealthCheck, group: any EventLoopGroup) async -> Bool {
        let timeout = TimeAmount(healthCheck.timeout)
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .connect(host: target.host, port: target.port)
                .get()
            switch healthCheck.kind {
            case .tcp:
                channel.close(promise: nil)
                return true
            case .http(let path):
                let passed = channel.eventLoop.makePromise(of: Bool.self)
                let request = "GET \(path) HTTP/1.0\r\nHost: \(target.address)\r\nUser-Agent: flotilla-lb\r\n\r\n"
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPStatusProbe(request: request, timeout: timeout, result: passed))
                }.get()
                return try await passed.futureResult.get()
            }
        } catch {
            return false
        }
    }
}

/// Sends one HTTP/1.0 request and completes with whether the status line says 2xx or 3xx.
private final class HTTPStatusProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let request: String
    private let timeout: TimeAmount
    private let result: EventLoopPromise<Bool>
    private var received: ByteBuffer?
    private var isDone = false
    private var deadline: Scheduled<Void>?

    init(request: String, timeout: TimeAmount, result: EventLoopPromise<Bool>) {
        self.request = request
        self.timeout = timeout
        self.result = result
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.deadline = context.eventLoop.scheduleTask(in: self.timeout) {
            let (probe, context) = loopBound.value
            probe.finish(context: context, passed: false)
        }
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: self.request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        self.received.setOrWriteBuffer(&buffer)
        guard let received = self.received, let line = received.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        else {
            if (self.received?.readableBytes ?? 0) > 4096 { self.finish(context: context, passed: false) }
            return
        }
        let statusLine = String(decoding: received.readableBytesView[..<line], as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        let status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        self.finish(context: context, passed: (200..<400).contains(status))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(context: context, passed: false)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(context: context, passed: false)
    }

    private func finish(context: ChannelHandlerContext, passed: Bool) {
        guard !self.isDone else { return }
        self.isDone = true
        self.deadline?.cancel()
        self.result.succeed(passed)
        context.close(promise: nil)
    }
}
