//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import NIOCore
import NIOHTTP1

/// Gives a declined upgrade request to the HTTP pipeline.
///
/// NIO's typed upgrade handler keeps neither the head nor the end of a request with an
/// `Upgrade` header while it looks for an upgrader, so when none accepts (the engine or the
/// application refused it, or it is not the engine's) the HTTP pipeline would never see the
/// request and the client would wait forever. This handler, in front of the upgrade
/// handler, remembers such a head and sends it again (with its end) once the HTTP pipeline
/// is in place; the upgrade handler buffers both until then.
final class SocketIODeclinedUpgradeReplay: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private var context: ChannelHandlerContext?
    private var seenFirstHead = false
    private var upgradeHead: HTTPRequestHead?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !self.seenFirstHead, case .head(let head) = self.unwrapInboundIn(data) {
            self.seenFirstHead = true
            // The condition under which NIO's handler does not buffer the request.
            if !head.headers[canonicalForm: "upgrade"].isEmpty {
                self.upgradeHead = head
            }
        }
        context.fireChannelRead(data)
    }

    /// Sends the declined upgrade request on (once), if the first request was one.
    func replay() {
        guard let head = self.upgradeHead, let context = self.context else { return }
        self.upgradeHead = nil
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
        context.fireChannelRead(self.wrapInboundOut(.end(nil)))
    }
}

@available(*, unavailable)
extension SocketIODeclinedUpgradeReplay: Sendable {}
#endif
