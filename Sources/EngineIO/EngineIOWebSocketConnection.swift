//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import NIOWebSocket

/// The write side of one Engine.IO WebSocket: turns frames into WebSocket messages.
///
/// Frames that carry their WebSocket form (every encoded Socket.IO packet) are written as
/// is, one buffer per message, below NIO's frame encoder; others go through the encoder.
/// Flushes are batched per loop (``FlushBatcher``), except that what answers a client's own
/// read leaves as soon as that read is handled.
///
/// `Sendable`: the `let`s are immutable; the encoder context and the flush flag are
/// loop-bound, and every write runs on the channel's loop (one hop per batch when called
/// from elsewhere).
final class EngineIOWebSocketConnection: Sendable {
    let channel: any Channel
    /// `false` for `b64=1` clients: binary goes out as `b<base64>` text.
    let supportsBinary: Bool
    /// Unwritten bytes allowed before a client that does not read is dropped.
    let maxBufferedBytes: Int
    /// The context of NIO's WebSocket frame encoder: writing a ready message from it skips
    /// the encoder. `nil` when the pipeline has none (then everything goes through frames).
    private let encoderContext: NIOLoopBound<ChannelHandlerContext?>
    private let flushPending: NIOLoopBoundBox<Bool>

    init(channel: any Channel, supportsBinary: Bool, maxBufferedBytes: Int) {
        self.channel = channel
        self.supportsBinary = supportsBinary
        self.maxBufferedBytes = maxBufferedBytes
        channel.eventLoop.preconditionInEventLoop()
        let encoder = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        self.encoderContext = NIOLoopBound(encoder, eventLoop: channel.eventLoop)
        self.flushPending = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
    }

    /// Writes frames in order; the flush follows at the end of the loop's current batch.
    func write(_ frames: [EngineIOFrame]) {
        if self.channel.eventLoop.inEventLoop {
            self.writeOnLoop(frames)
        } else {
            self.channel.eventLoop.execute { self.writeOnLoop(frames) }
        }
    }

    private func writeOnLoop(_ frames: [EngineIOFrame]) {
        guard self.channel.isActive else { return }
        let encoder = self.encoderContext.value
        for frame in frames {
            if let encoder, let message = frame.webSocketMessage, frame.kind == .text || self.supportsBinary {
                encoder.write(NIOAny(message), promise: nil)
            } else {
                self.channel.write(self.webSocketFrame(frame), promise: nil)
            }
        }
        if !self.flushPending.value {
            self.flushPending.value = true
            FlushBatcher.flushSoon(self, on: self.channel.eventLoop)
        }
        if !self.channel.isWritable {
            self.dropIfSlowReader()
        }
    }

    /// Flushes what was written and not flushed yet (on the loop): called by the batcher,
    /// and by the read side when the client's read is done (see
    /// ``EngineIOWebSocketHandler/channelReadComplete(context:)``). Once flushed, the
    /// batcher's later call does nothing.
    func flushNow() {
        guard self.flushPending.value else { return }
        self.flushPending.value = false
        self.channel.flush()
    }

    private func webSocketFrame(_ frame: EngineIOFrame) -> WebSocketFrame {
        switch frame.kind {
        case .text:
            return WebSocketFrame(fin: true, opcode: .text, data: frame.bytes)
        case .binary where self.supportsBinary:
            return WebSocketFrame(fin: true, opcode: .binary, data: frame.bytes)
        case .binary:
            var text = ByteBuffer()
            frame.writeText(into: &text)
            return WebSocketFrame(fin: true, opcode: .text, data: text)
        }
    }

    /// Closes a connection whose unread backlog passed the limit, so that one client that
    /// stops reading cannot hold unbounded memory.
    private func dropIfSlowReader() {
        guard let options = self.channel.syncOptions,
            let buffered = try? options.getOption(ChannelOptions.bufferedWritableBytes),
            buffered > self.maxBufferedBytes
        else { return }
        self.channel.close(promise: nil)
    }

    /// Sends a WebSocket close frame (1000) and closes the connection.
    func close() {
        let channel = self.channel
        let close: @Sendable () -> Void = {
            guard channel.isActive else { return }
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
            channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop { close() } else { channel.eventLoop.execute(close) }
    }
}
