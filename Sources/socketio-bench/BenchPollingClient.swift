//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// An Engine.IO v4 long-polling client on one keep-alive connection, for the `connect`
/// scenario: handshake GET, `40` by POST, GET until `40{...}`, then it holds the session
/// with a pending GET and answers pings by POST.
///
/// Requests alternate on the one connection (a GET is never pending while a POST is sent),
/// which is what HTTP/1.1 allows without pipelining.
final class BenchPollingClient: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum Phase {
        case handshake
        case joinPost
        case joinGet
        case holding
        case pongPost
        case closed
    }

    let index: Int
    private let host: String
    private let path: String
    private let namespace: String
    private let onConnected: (Int) -> Void
    private let onFailed: (Int, String) -> Void
    private var phase = Phase.handshake
    /// Where a pong POST returns to (holding, or still waiting for `40`).
    private var pongResumePhase = Phase.holding
    private var sid = ""
    private var status = 0
    private var body = ByteBuffer()
    private var context: ChannelHandlerContext?

    init(
        index: Int,
        host: String,
        path: String,
        namespace: String,
        onConnected: @escaping (Int) -> Void,
        onFailed: @escaping (Int, String) -> Void
    ) {
        self.index = index
        self.host = host
        self.path = path
        self.namespace = namespace
        self.onConnected = onConnected
        self.onFailed = onFailed
    }

    /// The TCP connect failed (the pipeline never became active).
    func connectFailed(_ reason: String) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.onFailed(self.index, reason)
    }

    /// Closes a client that has not completed its handshake.
    func closeUnlessConnected() {
        if self.phase != .holding, self.phase != .pongPost { self.close() }
    }

    func close() {
        self.phase = .closed
        self.context?.close(promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        self.get(context: context)
        context.fireChannelActive()
    }

    private var query: String {
        self.sid.isEmpty ? "\(self.path)?EIO=4&transport=polling" : "\(self.path)?EIO=4&transport=polling&sid=\(self.sid)"
    }

    private func get(context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: self.query)
        head.headers.add(name: "Host", value: self.host)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func post(_ text: String, context: ChannelHandlerContext) {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: self.query)
        head.headers.add(name: "Host", value: self.host)
        head.headers.add(name: "Content-Type", value: "text/plain;charset=UTF-8")
        head.headers.add(name: "Content-Length", value: String(text.utf8.count))
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
            self.body.clear()
        case .body(var part):
            self.body.writeBuffer(&part)
        case .end:
            guard self.status == 200 else {
                self.fail("HTTP \(self.status) in phase \(self.phase)", context: context)
                return
            }
            self.responseReceived(context: context)
        }
    }

    private func responseReceived(context: ChannelHandlerContext) {
        let text = self.body.getString(at: self.body.readerIndex, length: self.body.readableBytes) ?? ""
        let packets = text.split(separator: "\u{1e}", omittingEmptySubsequences: true)
        switch self.phase {
        case .handshake:
            guard let open = packets.first, open.hasPrefix("0"), let sid = Self.sid(in: open) else {
                self.fail("bad handshake: \(text.prefix(80))", context: context)
                return
            }
            self.sid = sid
            self.phase = .joinPost
            self.post(self.namespace == "/" ? "40" : "40\(self.namespace),", context: context)
        case .joinPost:
            self.phase = .joinGet
            self.get(context: context)
        case .joinGet, .holding:
            if packets.contains(where: { $0.hasPrefix("1") }) {
                self.fail("engine.io close packet", context: context)
                return
            }
            if self.phase == .joinGet, packets.contains(where: { $0.hasPrefix("40") }) {
                self.phase = .holding
                self.onConnected(self.index)
            } else if packets.contains(where: { $0.hasPrefix("44") }) {
                self.fail("connect refused: \(text.prefix(120))", context: context)
                return
            }
            guard self.phase != .closed else { return }
            if packets.contains("2") {
                let resume = self.phase
                self.phase = .pongPost
                self.pongResumePhase = resume
                self.post("3", context: context)
            } else {
                self.get(context: context)
            }
        case .pongPost:
            self.phase = self.pongResumePhase
            self.get(context: context)
        case .closed:
            break
        }
    }

    /// The `sid` of an open packet, without a JSON parser: the value of `"sid":"…"`.
    private static func sid(in open: Substring) -> String? {
        guard let key = open.firstRange(of: "\"sid\"") else { return nil }
        let rest = open[key.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        guard rest.first == "\"" else { return nil }
        let value = rest.dropFirst().prefix(while: { $0 != "\"" })
        return value.isEmpty ? nil : String(value)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.onFailed(self.index, reason)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.phase != .closed {
            self.phase = .closed
            self.onFailed(self.index, "connection closed")
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail("\(error)", context: context)
    }
}

@available(*, unavailable)
extension BenchPollingClient: Sendable {}
