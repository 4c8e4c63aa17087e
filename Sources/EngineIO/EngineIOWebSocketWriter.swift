//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore

/// The write side of an Engine.IO WebSocket, as a session drives it.
///
/// ``EngineIOWebSocketConnection`` (NIO's pipeline, below the frame encoder, flushes batched
/// per loop) is the one the engine builds, whichever listener accepted the connection; the
/// protocol keeps the session independent of it. Class-bound: a session tells its
/// transports apart by identity (`===`).
package protocol EngineIOWebSocketWriter: AnyObject, Sendable {
    /// `false` for `b64=1` clients: binary goes out as `b<base64>` text.
    var supportsBinary: Bool { get }
    /// Whether a write now leaves without waiting (Node's `transport.writable`). On the
    /// session's loop.
    var isWritable: Bool { get }
    /// Writes frames in order; the flush may be batched. Safe from any thread.
    func write(_ frames: [EngineIOFrame])
    /// Stops or resumes reading from the client (application backpressure). Safe from any thread.
    func setReadingPaused(_ paused: Bool)
    /// Sends a close frame (1000), then closes the connection. Safe from any thread.
    func close()
    /// Sends a close frame 1001 (going away: the server stops) after what was written
    /// before, then closes the connection. Safe from any thread.
    func goAway()
}

extension EngineIOWebSocketWriter {
    /// A writer that cannot say "going away" closes normally: clients reconnect after
    /// either close frame, since neither follows a `1` packet.
    package func goAway() { self.close() }
}

extension EngineIOWebSocketConnection: EngineIOWebSocketWriter {
    var isWritable: Bool { self.channel.isWritable }
}
