import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The number of open connections, shared by every connection's `ConnectionLimitHandler`.
final class ConnectionLimit: Sendable {
    let maxConnections: Int
    private let open = Atomic<Int>(0)

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    /// Counts a new connection; false when that makes more than `maxConnections`.
    func opened() -> Bool { open.add(1, ordering: .relaxed).newValue <= maxConnections }

    func closed() { open.subtract(1, ordering: .relaxed) }

    var current: Int { open.load(ordering: .relaxed) }
}

/// Answers a connection over the limit with 503 and closes it at once. Without it, idle
/// sockets (1,100 were enough) used up the unit's descriptors and `/healthz` stopped
/// answering; with it, HQ keeps `LimitNOFILE − max_connections` descriptors for its store.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let limit: ConnectionLimit
    private var counted = false

    init(limit: ConnectionLimit) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            limit.closed()
        }
        context.fireChannelInactive()
    }

    private func opened(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        guard limit.opened() else {
            let head = HTTPResponse(
                status: .serviceUnavailable,
                headerFields: [.connection: "close", .retryAfter: "5", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.close(promise: nil)
            return
        }
    }
}
