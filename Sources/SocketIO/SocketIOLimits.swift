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
    /// Backpressure that an ordinary slow handler causes: logged at debug.
    let maxQueuedEvents = LimitReporter(
        prefix: "socketio",
        name: "maxQueuedEvents",
        message: "handlers behind: reading from the connection paused",
        level: .debug
    )
}
