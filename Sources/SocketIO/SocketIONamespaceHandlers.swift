//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// Runs when a client connects to a namespace. Return `false` or throw
/// ``ConnectionRefused`` to refuse.
public typealias SocketIOConnectHandler = @Sendable (SocketIOSocket, SocketIOValue?) async throws -> Bool
/// Handles one named event; the returned values (if any) are the acknowledgement.
public typealias SocketIOEventHandler = @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> SocketIOAck?
/// Handles one named event without suspending; the returned values (if any) are the
/// acknowledgement. It runs inline on the connection's event loop, with no task.
public typealias SocketIOSyncEventHandler = @Sendable (SocketIOSocket, [SocketIOValue]) throws -> SocketIOAck?
/// Handles every event that has no handler of its own (Flask `on('*')`).
public typealias SocketIOCatchAllHandler = @Sendable (SocketIOSocket, String, [SocketIOValue]) async throws -> SocketIOAck?
/// Runs when a socket leaves its namespace.
public typealias SocketIODisconnectHandler = @Sendable (SocketIOSocket, SocketIODisconnectReason) async -> Void
/// Handles an error thrown by a handler; its return value (if any) is the acknowledgement.
public typealias SocketIOErrorHandler = @Sendable (any Error, SocketIOErrorContext) async -> SocketIOAck?

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
/// socket's handler task.
enum SocketIOStoredEventHandler: Sendable {
    case sync(@Sendable (SocketIOSocket, String, [SocketIOValue]) throws -> SocketIOAck?)
    case async(@Sendable (SocketIOSocket, String, [SocketIOValue]) async throws -> SocketIOAck?)

    /// Wraps a named event's handler (which does not need the name).
    static func named(_ handler: @escaping SocketIOEventHandler) -> Self {
        .async { socket, _, arguments in try await handler(socket, arguments) }
    }

    /// Wraps a named event's synchronous handler.
    static func named(_ handler: @escaping SocketIOSyncEventHandler) -> Self {
        .sync { socket, _, arguments in try handler(socket, arguments) }
    }

    /// Wraps a named event's handler that gives no acknowledgement (an ack the client asked
    /// for carries no arguments).
    static func withoutAck(_ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> Void) -> Self {
        .async { socket, _, arguments in
            try await handler(socket, arguments)
            return nil
        }
    }

    /// Wraps a named event's synchronous handler that gives no acknowledgement.
    static func withoutAck(_ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) throws -> Void) -> Self {
        .sync { socket, _, arguments in
            try handler(socket, arguments)
            return nil
        }
    }

    /// Calls the handler, whichever kind it is.
    func callAsFunction(_ socket: SocketIOSocket, _ name: String, _ arguments: [SocketIOValue]) async throws -> SocketIOAck? {
        switch self {
        case .sync(let handler): try handler(socket, name, arguments)
        case .async(let handler): try await handler(socket, name, arguments)
        }
    }
}

/// The handlers of one namespace.
struct SocketIONamespaceHandlers: Sendable {
    var connect: SocketIOConnectHandler?
    var disconnect: SocketIODisconnectHandler?
    var events: [String: SocketIOStoredEventHandler] = [:]
    /// Events that have no handler of their own (Flask `on('*')`).
    var catchAll: SocketIOStoredEventHandler?
    var error: SocketIOErrorHandler?

    /// The handler of an event: its own, else the catch-all.
    func eventHandler(_ name: String) -> SocketIOStoredEventHandler? {
        self.events[name] ?? self.catchAll
    }
}
