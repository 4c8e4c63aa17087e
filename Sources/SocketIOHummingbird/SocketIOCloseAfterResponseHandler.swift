//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes the connection after a response that must be its last.
///
/// Hummingbird closes a connection after a request with `Connection: close`, but not after
/// such a response, and a route cannot close its connection. Two answers must end it:
/// - a response with `Connection: close` (the engine's 413 mid-body, a refused upgrade);
/// - any response to a request with `Upgrade` that reached HTTP (the upgrade was declined,
///   by the engine or the application's middleware): NIO's HTTP decoder parses no more
///   requests after it, so the connection cannot serve another one.
final class SocketIOCloseAfterResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var closeAfterResponse = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data), head.headerFields[.upgrade] != nil {
            self.closeAfterResponse = true
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" {
                self.closeAfterResponse = true
            }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard self.closeAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            let written = promise ?? context.eventLoop.makePromise()
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.write(data, promise: written)
        }
    }
}

@available(*, unavailable)
extension SocketIOCloseAfterResponseHandler: Sendable {}
#endif
