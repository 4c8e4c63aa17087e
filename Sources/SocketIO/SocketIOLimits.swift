//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import Logging

/// The Socket.IO layer's limits (``SocketIOConfiguration``'s Limits section), each with its
/// counter `socketio.limit.hits{limit=<name>}` and its log line, created once per server.
struct SocketIOLimitReporters: Sendable {
    let maxPendingAcks = LimitReporter(
        prefix: "socketio",
        name: "maxPendingAcks",
        message: "emit with ack refused: too many acks pending on the socket"
    )
    let maxRoomsPerSocket = LimitReporter(
        prefix: "socketio",
        name: "maxRoomsPerSocket",
        message: "join refused: the socket is in too many rooms"
    )
    let maxRoomNameBytes = LimitReporter(
        prefix: "socketio",
        name: "maxRoomNameBytes",
        message: "join refused: the room name is too long"
    )
    /// Connection state recovery's log dropped its oldest events
    /// (``SocketIOConnectionStateRecovery/maxPackets``).
    let maxPackets = LimitReporter(
        prefix: "socketio",
        name: "maxPackets",
        message: "recovery log full: oldest events dropped (their clients get a new session)"
    )
    /// Connection state recovery dropped the oldest disconnected session
    /// (``SocketIOConnectionStateRecovery/maxSessions``).
    let maxSessions = LimitReporter(
        prefix: "socketio",
        name: "maxSessions",
        message: "too many disconnected sessions kept: the oldest dropped (its client gets a new session)"
    )
    /// Backpressure that an ordinary slow handler causes: logged at debug.
    let maxQueuedEvents = LimitReporter(
        prefix: "socketio",
        name: "maxQueuedEvents",
        message: "handlers behind: reading from the connection paused",
        level: .debug
    )
}
