//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// The shape every sender of Socket.IO events shares: the server, a namespace, a socket,
/// a broadcast operator and the emitter (which does not link the server). Node's
/// `BroadcastOperator`: an immutable value that collects rooms to address and rooms to
/// leave out, then emits.
///
/// ```swift
/// io.to("a").to("b").except("c").emit("news", ["n": 1])
/// socket.to("lobby").emit("joined", .string(socket.id))   // everyone in lobby but the sender
/// emitter.of("/chat").to("room").emit("tick")
/// ```
///
/// `emit` only enqueues: it is synchronous, never blocks, and so keeps a handler that
/// broadcasts on the inline path. Adding a room never changes the value it is called on.
public protocol SocketIOBroadcasting: Sendable {
    /// The operator that `to` and `except` return.
    associatedtype Broadcast: SocketIOBroadcasting

    /// Adds rooms (or socket ids) to address; the union of all rooms added is addressed.
    func to(_ rooms: [String]) -> Broadcast
    /// Adds rooms (or socket ids) whose members are left out.
    func except(_ rooms: [String]) -> Broadcast
    /// Emits an event to the addressed sockets (everyone when no room was added).
    func emit(_ event: String, arguments: [SocketIOValue])
}

extension SocketIOBroadcasting {
    /// Adds rooms to address (Node `to`, Flask `to=` / `room=`).
    public func to(_ room: String, _ more: String...) -> Broadcast {
        self.to([room] + more)
    }

    /// Adds rooms to address (Node's synonym of `to`).
    public func `in`(_ room: String, _ more: String...) -> Broadcast {
        self.to([room] + more)
    }

    /// Adds rooms to address (Node's synonym of `to`).
    public func `in`(_ rooms: [String]) -> Broadcast {
        self.to(rooms)
    }

    /// Leaves out the members of rooms (Node `except`, Flask `skip_sid=`).
    public func except(_ room: String, _ more: String...) -> Broadcast {
        self.except([room] + more)
    }

    /// Emits an event.
    public func emit(_ event: String, _ arguments: SocketIOValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Sends an unnamed message: the `message` event (Node and Flask `send`), or the `json`
    /// event with `json: true` (Flask `send(..., json=True)`).
    public func send(_ message: SocketIOValue, json: Bool = false) {
        self.emit(json ? "json" : "message", arguments: [message])
    }
}
