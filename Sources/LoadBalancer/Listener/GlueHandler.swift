import NIOCore
import Synchronization

/// Joins two channels of one balanced connection (client side and target side): what one reads, the other writes.
///
/// Backpressure: both channels run with `autoRead` off and this handler asks for each read, only while the partner
/// is writable (its queue is below the high-water mark); otherwise the read waits until the partner drains. Half-close: end of input on one side becomes end of output on the
/// other, after everything queued before it is written. Shape follows swift-nio-extras' `GlueHandler`.
final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// This side's channel writability, kept from `channelWritabilityChanged` (NIO fires it on every change, on the
    /// loop, before the write that caused it returns), so the per-read path asks no channel through an existential.
    private var isWritable = false
    /// Where this side's received bytes are counted: `bytesIn` for the client side, `bytesOut` for the target side.
    private let counters: TargetCounters
    private let isClientSide: Bool
    private var receivedTotal = 0

    private let peakBufferedBytes: PeakGauge
    /// The client side closes the connection when no byte moved either way for this long (nil: never).
    private let idleTimeout: TimeAmount?
    private let onIdle: @Sendable () -> Void
    private var idleCheck: Scheduled<Void>?
    /// Bytes moved both ways at the last idle check, and when they last changed.
    private var movedAtLastCheck = 0
    private var lastMovement = NIODeadline.now()

    private init(
        counters: TargetCounters, isClientSide: Bool, peakBufferedBytes: PeakGauge, idleTimeout: TimeAmount?,
        onIdle: @escaping @Sendable () -> Void
    ) {
        self.counters = counters
        self.isClientSide = isClientSide
        self.peakBufferedBytes = peakBufferedBytes
        self.idleTimeout = idleTimeout
        self.onIdle = onIdle
    }

    /// A client-side and a target-side handler joined to each other; the client side watches for idleness.
    static func matchedPair(
        counters: TargetCounters, peakBufferedBytes: PeakGauge, idleTimeout: TimeAmount? = nil,
        onIdle: @escaping @Sendable () -> Void = {}
    ) -> (client: GlueHandler, target: GlueHandler) {
        let client = GlueHandler(
            counters: counters, isClientSide: true, peakBufferedBytes: peakBufferedBytes,
            idleTimeout: idleTimeout, onIdle: onIdle)
        let target = GlueHandler(
            counters: counters, isClientSide: false, peakBufferedBytes: peakBufferedBytes,
            idleTimeout: nil, onIdle: {})
        client.partner = target
        target.partner = client
        return (client, target)
    }

    /// Bytes this side received and forwarded.
    var forwardedBytes: Int { self.receivedTotal }

    // MARK: - Called by the partner

    private func partnerWrite(_ data: NIOAny) {
        guard let context = self.context else { return }
        context.write(data, promise: nil)
        // Below the high-water mark the queue is small by definition; only a held-back queue is worth a look.
        if !self.isWritable, let buffered = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes) {
            self.peakBufferedBytes.observe(buffered)
        }
    }

    private func partnerFlush() {
        self.context?.flush()
    }

    /// The partner's input ended: end our output once everything queued before is written.
    private func partnerInputClosed() {
        guard let context = self.context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: written)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in
            loopBound.value.close(mode: .output, promise: nil)
        }
    }

    private func partnerClosed() {
        self.context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if self.pendingRead {
            self.pendingRead = false
            self.context?.read()
        }
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.isWritable = context.channel.isWritable
        if context.channel.isActive { self.readIfPartnerWritable(context: context) }
        if let idleTimeout { self.scheduleIdleCheck(context: context, in: idleTimeout) }
    }

    /// Idleness is checked a few times per timeout, by the bytes both sides have read (reads stop on their own while
    /// a side cannot take more, so a stalled reader makes the connection idle too): no per-read timestamp or timer.
    private func scheduleIdleCheck(context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.idleCheck = context.eventLoop.scheduleTask(in: delay) {
            loopBound.value.checkIdle()
        }
    }

    private func checkIdle() {
        guard let context = self.context, let idleTimeout = self.idleTimeout else { return }
        let moved = self.receivedTotal + (self.partner?.receivedTotal ?? 0)
        let now = NIODeadline.now()
        if moved != self.movedAtLastCheck {
            self.movedAtLastCheck = moved
            self.lastMovement = now
        } else if now - self.lastMovement >= idleTimeout {
            self.onIdle()
            context.close(promise: nil)
            return
        }
        let remaining = self.lastMovement + idleTimeout - now
        self.scheduleIdleCheck(
            context: context, in: min(remaining, max(.nanoseconds(idleTimeout.nanoseconds / 4), .milliseconds(10))))
    }

    func channelActive(context: ChannelHandlerContext) {
        self.isWritable = context.channel.isWritable
        self.readIfPartnerWritable(context: context)
        context.fireChannelActive()
    }

    /// Both channels run with `autoRead` off: this is the only place a read is asked for, and only while the
    /// partner can take more; otherwise the read waits for the partner to become writable.
    private func readIfPartnerWritable(context: ChannelHandlerContext) {
        if self.partner?.isWritable ?? false {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
        self.idleCheck = nil
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = Self.unwrapInboundIn(data).readableBytes
        self.receivedTotal += count
        if self.isClientSide {
            self.counters.bytesIn.add(count, ordering: .relaxed)
        } else {
            self.counters.bytesOut.add(count, ordering: .relaxed)
        }
        self.partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.partnerFlush()
        self.readIfPartnerWritable(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.partnerClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            self.partner?.partnerInputClosed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a failed write ends the whole connection; the partner follows through channelInactive.
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.isWritable = context.channel.isWritable
        if self.isWritable {
            self.partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        self.readIfPartnerWritable(context: context)
    }
}

/// The largest number of bytes the balancer held queued for one direction of one connection, since start.
final class PeakGauge: Sendable {
    private let peak = Atomic<Int>(0)

    func observe(_ value: Int) {
        _ = self.peak.max(value, ordering: .relaxed)
    }

    var value: Int { self.peak.load(ordering: .relaxed) }
}
