//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import NIOWebSocket

/// The write side of one Engine.IO WebSocket: turns frames into WebSocket frames.
///
/// Immutable, so `Sendable`; every write runs on the channel's loop (one hop per batch
/// when called from elsewhere).
final class EngineIOWebSocketConnection: Sendable {
    let channel: any Channel
    /// `false` for `b64=1` clients: binary goes out as `b<base64>` text.
    let supportsBinary: Bool
    /// Unwritten bytes allowed before a client that does not read is dropped.
    let maxBufferedBytes: Int

    init(channel: any Channel, supportsBinary: Bool, maxBufferedBytes: Int) {
        self.channel = channel
        self.supportsBinary = supportsBinary
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Writes frames in order and flushes once.
    func write(_ frames: [EngineIOFrame]) {
        if self.channel.eventLoop.inEventLoop {
            self.writeOnLoop(frames)
        } else {
            self.channel.eventLoop.execute { self.writeOnLoop(frames) }
        }
    }

    private func writeOnLoop(_ frames: [EngineIOFrame]) {
        guard self.channel.isActive else { return }
        for frame in frames {
            self.channel.write(self.webSocketFrame(frame), promise: nil)
        }
        self.channel.flush()
        if !self.channel.isWritable {
            self.dropIfSlowReader()
        }
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
