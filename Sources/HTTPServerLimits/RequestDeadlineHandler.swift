import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow, and answers 503 on a connection over the cap.
///
/// Sits after HTTP decoding, so it sees whole request heads, body parts and ends, and the response parts going out:
/// - waiting for a request head: `headerTimeout` on a new connection, `idleTimeout` after a response;
/// - reading a request body: `bodyTimeout` from its head;
/// - while a response is pending: nothing (a blocking poll or a followed log may take long).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Deadline: String {
        case header, body, idle
    }

    private let gate: ConnectionGate
    /// Over the cap: the first request head is answered 503 and the connection closed; nothing reaches the router.
    private let refusing: Bool
    private var timer: Scheduled<Void>?
    /// Requests whose response has not ended (HTTP/1.1 pipelining may queue several).
    private var pendingResponses = 0
    private var isReadingRequest = false

    init(gate: ConnectionGate, refusing: Bool) {
        self.gate = gate
        self.refusing = refusing
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(.header, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if refusing {
            if case .head = part { refuse(context: context) }
            return
        }
        switch part {
        case .head:
            pendingResponses += 1
            isReadingRequest = true
            arm(.body, context: context)
        case .body:
            break
        case .end:
            isReadingRequest = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            pendingResponses = max(0, pendingResponses - 1)
            if pendingResponses == 0, !isReadingRequest { arm(.idle, context: context) }
        }
        context.write(data, promise: promise)
    }

    // MARK: - Deadlines

    private func arm(_ deadline: Deadline, context: ChannelHandlerContext) {
        disarm()
        let limits = gate.limits
        let delay =
            switch deadline {
            case .header: limits.headerTimeout
            case .body: limits.bodyTimeout
            case .idle: limits.idleTimeout
            }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let gate = self.gate
        timer = context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
            gate.timedOut(deadline)
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    /// Answers 503 with ECS's error shape and closes once it is written.
    private func refuse(context: ChannelHandlerContext) {
        disarm()
        let message =
            #"{"__type":"ServiceUnavailableException","message":"The server has its maximum of \#(gate.limits.maxConnections) connections open; retry later."}"#
        var body = context.channel.allocator.buffer(capacity: message.utf8.count)
        body.writeString(message)
        var fields = HTTPFields()
        fields[.contentType] = "application/x-amz-json-1.1"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        fields[.retryAfter] = "1"
        context.write(
            wrapOutboundOut(.head(HTTPResponse(status: .serviceUnavailable, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
