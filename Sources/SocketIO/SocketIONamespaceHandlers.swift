//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
public import SocketIOParser

/// Runs when a client connects to a namespace. Return `false` or throw
/// ``ConnectionRefused`` to refuse.
public typealias SocketIOConnectHandler = @Sendable (SocketIOSocket, SocketIOValue?) async throws -> Bool
/// Handles one named event; the returned values are the acknowledgement.
public typealias SocketIOEventHandler = @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> SocketIOAck
/// Handles one named event without suspending; the returned values are the
/// acknowledgement. It runs inline on the connection's event loop, with no task.
public typealias SocketIOSyncEventHandler = @Sendable (SocketIOSocket, [SocketIOValue]) throws -> SocketIOAck
/// Runs when a socket leaves its namespace (`disconnect`), or as it starts leaving while
/// it is still in its rooms (`disconnecting`).
public typealias SocketIODisconnectHandler = @Sendable (SocketIOSocket, SocketIODisconnectReason) async -> Void
/// Handles an error thrown by a handler; its return value (if any) is the acknowledgement.
public typealias SocketIOErrorHandler = @Sendable (any Error, SocketIOErrorContext) async -> SocketIOAck?
/// Runs before a socket exists in its namespace (Node `io.use`): throw to refuse the
/// connection; a ``ConnectionRefused`` gives the client its message and data.
public typealias SocketIOMiddleware = @Sendable (SocketIOSocket) async throws -> Void

/// Runs on every event a socket receives, before its handler (Node `socket.use`): throw
/// to drop the event (the error goes to the error handler).
public typealias SocketIOPacketMiddleware = @Sendable (_ socket: SocketIOSocket, _ event: String, _ arguments: [SocketIOValue]) throws -> Void

/// What an error handler knows about the failed call (Flask's `request.event`).
public struct SocketIOErrorContext: Sendable {
    /// The socket whose handler failed.
    public let socket: SocketIOSocket
    /// The event name (`connect` for a failing connect handler).
    public let event: String
    /// The event's arguments.
    public let arguments: [SocketIOValue]
}

/// An event handler as the server keeps it. A synchronous one can run inline, on the
/// connection's loop as the event is read, with no task; an asynchronous one runs on the
/// socket's handler task. Both get the event's ack responder: the handler's registration
/// form decides whether it answers.
enum SocketIOStoredEventHandler: Sendable {
    case sync(@Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) throws -> Void)
    case async(@Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) async throws -> Void)

    /// Calls the handler, whichever kind it is.
    func callAsFunction(_ socket: SocketIOSocket, _ name: String, _ arguments: [SocketIOValue], _ ack: SocketIOAckResponder) async throws {
        switch self {
        case .sync(let handler): try handler(socket, name, arguments, ack)
        case .async(let handler): try await handler(socket, name, arguments, ack)
        }
    }
}

/// The handlers of one namespace (or of a parent namespace, shared by its children).
struct SocketIONamespaceHandlers: Sendable {
    var connect: SocketIOConnectHandler?
    var disconnecting: SocketIODisconnectHandler?
    var disconnect: SocketIODisconnectHandler?
    var events: [String: SocketIOStoredEventHandler] = [:]
    /// Events that have no handler of their own (Flask `on('*')`).
    var catchAll: SocketIOStoredEventHandler?
    var error: SocketIOErrorHandler?
    var middlewares: [SocketIOMiddleware] = []

    /// The handler of an event: its own, else the catch-all.
    func eventHandler(_ name: String) -> SocketIOStoredEventHandler? {
        self.events[name] ?? self.catchAll
    }
}

/// The handlers of a namespace behind one lock: read on every event, written when
/// handlers are registered. A parent namespace shares its box with its children, so a
/// handler added to the parent later reaches them too.
final class SocketIOHandlerBox: Sendable {
    private let box = NIOLockedValueBox(SocketIONamespaceHandlers())

    func update(_ body: (inout SocketIONamespaceHandlers) -> Void) {
        self.box.withLockedValue { body(&$0) }
    }

    /// The handler of one event, without copying the tables.
    func eventHandler(_ name: String) -> SocketIOStoredEventHandler? {
        self.box.withLockedValue { $0.eventHandler(name) }
    }

    func read<Value>(_ body: (SocketIONamespaceHandlers) -> Value) -> Value {
        self.box.withLockedValue { body($0) }
    }
}
