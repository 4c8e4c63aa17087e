//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// A class-based namespace (Flask-SocketIO's `Namespace`): subclass it, override the
/// lifecycle methods, and list the event handlers in ``routes(_:)``.
///
/// Swift has no run-time lookup of methods by name, so where Flask maps `my_event` to
/// `on_my_event` by reflection, a controller names its handlers once:
///
/// ```swift
/// final class Chat: SocketIONamespaceController {
///     override func routes(_ router: inout SocketIONamespaceRouter) {
///         router.on("my_event") { [unowned self] socket, args in try await self.onMyEvent(socket, args) }
///         router.onWithAck("sum") { socket, args in [.int(args.compactMap(\.intValue).reduce(0, +))] }
///     }
/// }
/// io.register(Chat(namespace: "/chat"))
/// ```
///
/// `@unchecked Sendable`: the base class holds only its immutable namespace name;
/// subclasses that add mutable state must protect it themselves.
open class SocketIONamespaceController: @unchecked Sendable {
    /// The namespace served.
    public let namespace: String

    public init(namespace: String) {
        self.namespace = namespace
    }

    /// Lists the event handlers.
    open func routes(_ router: inout SocketIONamespaceRouter) {}

    /// A client connects; return `false` or throw ``ConnectionRefused`` to refuse.
    open func onConnect(_ socket: SocketIOSocket, auth: SocketIOValue?) async throws -> Bool { true }

    /// A socket left the namespace.
    open func onDisconnect(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {}

    /// An event without a listed handler arrived (default: ignored).
    open func onEvent(_ socket: SocketIOSocket, event: String, arguments: [SocketIOValue]) async throws -> SocketIOAck? { nil }

    /// A handler of this namespace threw; the result (if any) is the acknowledgement.
    /// Default: handled by the server's default error handler.
    open func onError(_ error: any Error, context: SocketIOErrorContext) async -> SocketIOAck? {
        await context.socket.server.reportToDefaultHandler(error, context: context)
    }
}

/// Collects a controller's event handlers. As on the server, a closure that never awaits
/// picks the synchronous overload and runs inline on the connection's event loop; the
/// forms send acknowledgements as ``SocketIOHandlerRegistering`` describes.
public struct SocketIONamespaceRouter: Sendable {
    var events: [String: SocketIOStoredEventHandler] = [:]

    /// Handles an event; no acknowledgement is sent.
    public mutating func on(_ event: String, _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> Void) {
        self.events[event] = .async { socket, _, arguments, _ in try await handler(socket, arguments) }
    }

    /// Handles an event with a handler that does not suspend (it must not block).
    public mutating func on(_ event: String, _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) throws -> Void) {
        self.events[event] = .sync { socket, _, arguments, _ in try handler(socket, arguments) }
    }

    /// Handles an event and answers its acknowledgement on demand.
    public mutating func on(
        _ event: String,
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue], SocketIOAckResponder) async throws -> Void
    ) {
        self.events[event] = .async { socket, _, arguments, ack in try await handler(socket, arguments, ack) }
    }

    /// Handles an event; the returned values are the acknowledgement.
    public mutating func onWithAck(_ event: String, _ handler: @escaping SocketIOEventHandler) {
        self.events[event] = .async { socket, _, arguments, ack in ack.send(try await handler(socket, arguments).values) }
    }

    /// Handles an event with a handler that does not suspend; the returned values are the
    /// acknowledgement.
    public mutating func onWithAck(_ event: String, _ handler: @escaping SocketIOSyncEventHandler) {
        self.events[event] = .sync { socket, _, arguments, ack in ack.send(try handler(socket, arguments).values) }
    }
}
