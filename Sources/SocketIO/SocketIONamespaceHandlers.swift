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

/// The handlers of one namespace.
struct SocketIONamespaceHandlers: Sendable {
    var connect: SocketIOConnectHandler?
    var disconnect: SocketIODisconnectHandler?
    var events: [String: SocketIOEventHandler] = [:]
    var catchAll: SocketIOCatchAllHandler?
    var error: SocketIOErrorHandler?
}
