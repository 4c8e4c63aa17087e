//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser

/// Receives the events of one session. Every call happens on the session's event loop,
/// in the order the events occurred; an implementation must not block.
public protocol EngineIOSessionHandler: AnyObject {
    /// A message arrived from the client.
    func sessionDidReceive(_ message: EngineIOMessage)
    /// The session ended; no call follows.
    func sessionDidClose(reason: EngineIOCloseReason)
}

/// The application on top of the engine (the Socket.IO layer, or an echo server).
public protocol EngineIOServerDelegate: Sendable {
    /// A session opened: its open packet is queued. Called on `session.eventLoop`; frames
    /// sent from here follow the open packet.
    func sessionOpened(_ session: EngineIOSession) -> any EngineIOSessionHandler
}
