import NIOCore
import Synchronization

/// Notices that the client of a followed log went away. Hummingbird allows remote half-closure, so a client that
/// closes its socket leaves the channel active with only its input closed: this handler, put first in the pipeline
/// for the length of a follow, records that event (and a channel that became inactive).
final class ClientDepartureWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let departed = Atomic<Bool>(false)

    /// The client closed its side of the connection, or the connection is gone.
    var hasDeparted: Bool { departed.load(ordering: .relaxed) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { departed.store(true, ordering: .relaxed) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        departed.store(true, ordering: .relaxed)
        context.fireChannelInactive()
    }
}
