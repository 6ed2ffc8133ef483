import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection's request-answer exchange, at the end of its pipeline: writes a request, collects its
/// answer (bounded by the exchange's byte limit and deadline), and fails the exchange when the connection errs or
/// closes first. One exchange at a time: the transport pools connections, it never pipelines.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// A complete answer.
    struct Answer {
        var head: HTTPResponseHead
        var body: ByteBuffer
    }

    private struct Exchange {
        var promise: EventLoopPromise<Answer>
        var limit: Int
        var deadline: Scheduled<Void>?
        var head: HTTPResponseHead?
        var body: ByteBuffer
    }

    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// The error that ended the connection (a TLS failure), answered to an exchange started after it.
    private var failure: HTTPTransportError?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `head` and `body` and completes `promise` with the answer, or fails it: `responseTooLarge` past
    /// `limit` body bytes, `timedOut` at `timeout`, the connection's error or `connectionClosed`. Call on the loop.
    func send(
        head: HTTPRequestHead, body: ByteBuffer?, limit: Int, timeout: TimeAmount, promise: EventLoopPromise<Answer>
    ) {
        guard let context, context.channel.isActive, exchange == nil else {
            promise.fail(failure ?? .connectionClosed)
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let deadline = context.eventLoop.scheduleTask(in: timeout) { bound.value.fail(.timedOut) }
        exchange = Exchange(
            promise: promise, limit: limit, deadline: deadline, body: context.channel.allocator.buffer(capacity: 0))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var current = exchange else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            current.head = head
            exchange = current
        case .body(var part):
            guard current.body.readableBytes + part.readableBytes <= current.limit else {
                fail(.responseTooLarge(limit: current.limit))
                return
            }
            exchange = nil  // no copy-on-write of the body while it grows
            current.body.writeBuffer(&part)
            exchange = current
        case .end:
            exchange = nil
            current.deadline?.cancel()
            guard let head = current.head else {
                current.promise.fail(HTTPTransportError.connectionClosed)
                context.close(promise: nil)
                return
            }
            current.promise.succeed(Answer(head: head, body: current.body))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped = HTTPTransportError.from(error)
        failure = failure ?? mapped
        fail(mapped)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(failure ?? .connectionClosed)
        context.fireChannelInactive()
    }

    /// Fails the exchange in progress (if any) and closes the connection: it is in no state to be reused.
    private func fail(_ error: HTTPTransportError) {
        if let current = exchange {
            exchange = nil
            current.deadline?.cancel()
            current.promise.fail(error)
        }
        context?.close(promise: nil)
    }
}
