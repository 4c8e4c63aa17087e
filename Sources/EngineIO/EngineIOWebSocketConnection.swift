//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import Logging
import NIOCore
import NIOWebSocket

/// The write side of one Engine.IO WebSocket: turns frames into WebSocket messages.
///
/// Frames that carry their WebSocket form (every encoded Socket.IO packet) are written as
/// is, one buffer per message, below NIO's frame encoder; others go through the encoder.
/// Flushes are batched per loop (``FlushBatcher``), except that what answers a client's own
/// read leaves as soon as that read is handled.
///
/// Reading stops while the client does not read what the server writes (the channel is not
/// writable) or while the application asks (``setReadingPaused(_:)``):
/// ``EngineIOWebSocketHandler`` withholds the channel's `read()` then, so the client's bytes
/// wait in the kernel and TCP flow control holds it back.
///
/// `Sendable`: the `let`s are immutable; the encoder context, the flush flag and the read
/// state are loop-bound, and every write runs on the channel's loop (one hop per batch when
/// called from elsewhere).
final class EngineIOWebSocketConnection: Sendable {
    let channel: any Channel
    /// `false` for `b64=1` clients: binary goes out as `b<base64>` text.
    let supportsBinary: Bool
    /// Unwritten bytes allowed before a client that does not read is dropped.
    let maxBufferedBytes: Int
    /// The context of NIO's WebSocket frame encoder: writing a ready message from it skips
    /// the encoder. `nil` when the pipeline has none (then everything goes through frames).
    private let encoderContext: NIOLoopBound<ChannelHandlerContext?>
    /// The loop-bound state, in one box (one allocation per connection).
    private let state: NIOLoopBoundBox<State>
    /// The engine (its limits and logger); `nil` in tests that build a connection alone.
    private let server: EngineIOServer?

    struct State {
        /// Written but not flushed yet.
        var flushPending = false
        /// The application asked to stop reading (see ``EngineIOSession/pauseReading()``).
        var pausedByApplication = false
        /// A `read()` arrived while reading was paused; it is issued on resume.
        var withheld = false
        /// The connection is being dropped as a slow reader: nothing more is written.
        var dropping = false
        /// What the unwritten bytes count against
        /// ``EngineIOConfiguration/maxTotalBufferedBytes`` (updated only while the channel
        /// is not writable).
        var budgetAccount = OutboundBudgetAccount()
    }

    init(
        channel: any Channel,
        supportsBinary: Bool,
        maxBufferedBytes: Int,
        server: EngineIOServer? = nil
    ) {
        self.channel = channel
        self.supportsBinary = supportsBinary
        self.maxBufferedBytes = maxBufferedBytes
        self.server = server
        self.state = NIOLoopBoundBox(State(), eventLoop: channel.eventLoop)
        channel.eventLoop.preconditionInEventLoop()
        let encoder = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        self.encoderContext = NIOLoopBound(encoder, eventLoop: channel.eventLoop)
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
        // One read of the loop-bound state per call (each access checks the loop).
        let state = self.state.value
        guard !state.dropping else { return }
        let encoder = self.encoderContext.value
        for frame in frames {
            if let encoder, let message = frame.webSocketMessage, frame.kind == .text || self.supportsBinary {
                encoder.write(NIOAny(message), promise: nil)
            } else {
                self.channel.write(self.webSocketFrame(frame), promise: nil)
            }
        }
        self.wrote(flushPending: state.flushPending)
    }

    /// Answers a client's WebSocket PING (RFC 6455 §5.5.3) through the same path as every
    /// other write: it counts against ``maxBufferedBytes``, and while it cannot leave,
    /// reading stops, so a ping flood from a client that does not read costs nothing more.
    /// On the loop.
    func writePong(_ payload: ByteBuffer) {
        guard self.channel.isActive else { return }
        let state = self.state.value
        guard !state.dropping else { return }
        self.channel.write(WebSocketFrame(fin: true, opcode: .pong, data: payload), promise: nil)
        self.wrote(flushPending: state.flushPending)
    }

    /// After a write: schedule the flush (unless one is pending already, as read before the
    /// write), and drop a client whose backlog passed the limit.
    private func wrote(flushPending: Bool) {
        if !flushPending {
            self.state.value.flushPending = true
            FlushBatcher.flushSoon(self, on: self.channel.eventLoop)
        }
        if !self.channel.isWritable {
            self.dropIfSlowReader()
        }
    }

    // MARK: Reading

    /// Whether the channel may read now. Called by the handler for each `read()`; a `false`
    /// answer records the read as withheld.
    func mayRead() -> Bool {
        if self.state.value.pausedByApplication || !self.channel.isWritable {
            if !self.state.value.withheld, !self.channel.isWritable {
                if let server = self.server { server.limits.webSocketReadPaused.hit(server.logger) }
            }
            self.state.value.withheld = true
            return false
        }
        return true
    }

    /// Issues a withheld read once nothing pauses reading any more (after writability came
    /// back, or the application resumed). On the loop.
    func resumeReadingIfPossible() {
        guard self.state.value.withheld, !self.state.value.pausedByApplication, self.channel.isWritable else { return }
        self.state.value.withheld = false
        self.channel.read()
    }

    /// Pauses or resumes reading on behalf of the application. Safe from any thread.
    func setReadingPaused(_ paused: Bool) {
        let apply: @Sendable () -> Void = {
            self.state.value.pausedByApplication = paused
            if !paused { self.resumeReadingIfPossible() }
        }
        if self.channel.eventLoop.inEventLoop { apply() } else { self.channel.eventLoop.execute(apply) }
    }

    /// Flushes what was written and not flushed yet (on the loop): called by the batcher,
    /// and by the read side when the client's read is done (see
    /// ``EngineIOWebSocketHandler/channelReadComplete(context:)``). Once flushed, the
    /// batcher's later call does nothing.
    ///
    /// The flush starts at the frame encoder's context, as the ready messages' writes do:
    /// the handlers behind it (``EngineIOWebSocketHandler``, a duplex handler since it
    /// withholds reads) have nothing to flush, and the encoder writes each frame through at
    /// once (it buffers nothing for a flush), so starting below them skips a pass through
    /// each without changing what leaves.
    func flushNow() {
        guard self.state.value.flushPending else { return }
        self.state.value.flushPending = false
        if let encoder = self.encoderContext.value, self.channel.isActive {
            encoder.flush()
        } else {
            self.channel.flush()
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
    ///
    /// The close runs after the current call returns: closing fires `channelInactive`, which
    /// ends the session and calls into the application, and the writer may be in the middle
    /// of the application's own call (holding its lock).
    ///
    /// While not writable it also counts the backlog against the process-wide
    /// ``EngineIOConfiguration/maxTotalBufferedBytes`` (released by ``releaseBudget()``):
    /// when the total passes it, the connection or session with the largest backlog is
    /// dropped the same way.
    private func dropIfSlowReader() {
        guard let options = self.channel.syncOptions,
            let buffered = try? options.getOption(ChannelOptions.bufferedWritableBytes)
        else { return }
        if buffered <= self.maxBufferedBytes {
            guard let server = self.server else { return }
            self.state.value.budgetAccount.update(
                buffered: buffered,
                budget: server.outboundBudget,
                drop: { [self] in self.channel.eventLoop.execute { self.dropForBudget() } }
            )
            return
        }
        self.state.value.dropping = true
        self.server?.logger.debug("closing websocket: client does not read", metadata: [EngineIOLoggingKeys.bufferedBytes: "\(buffered)"])
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }

    /// Closes this connection: its backlog was the largest when the process passed
    /// ``EngineIOConfiguration/maxTotalBufferedBytes``. On the loop.
    private func dropForBudget() {
        guard !self.state.value.dropping, let server = self.server else { return }
        self.state.value.dropping = true
        server.limits.maxTotalBufferedBytes.hit(server.logger)
        self.channel.close(promise: nil)
    }

    /// Returns what the backlog counted against the process-wide budget: the channel is
    /// writable again, or closed. On the loop.
    func releaseBudget() {
        guard let server = self.server else { return }
        self.state.value.budgetAccount.release(budget: server.outboundBudget)
    }

    /// Sends a WebSocket close frame (1000) and closes the connection.
    func close() {
        self.close(code: .normalClosure)
    }

    /// Sends a WebSocket close frame 1001 (going away) and closes the connection.
    func goAway() {
        self.close(code: .goingAway)
    }

    /// Sends a WebSocket close frame with `code` after what was written before (the write
    /// flushes them too), then closes the connection.
    private func close(code: WebSocketErrorCode) {
        let channel = self.channel
        let close: @Sendable () -> Void = {
            guard channel.isActive else { return }
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: code)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
            channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop { close() } else { channel.eventLoop.execute(close) }
    }
}
