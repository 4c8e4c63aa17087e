//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// Where handlers are registered: a namespace (`io.of("/chat")`), a parent namespace
/// (`io.of(/^\/team-\d+$/)`, shared by every child it creates) or the server itself (its
/// main namespace `/`, as Node's `io.on` and Flask's `@socketio.on` without `namespace=`).
///
/// ## Which form sends which acknowledgement
/// - `on(event) { socket, args in … }`: no acknowledgement is ever sent. A client that asked
///   for one times out (and retries, with `retries`), as with a Node listener that never
///   calls its ack.
/// - `on(event) { socket, args, ack in … }`: the handler answers through ``SocketIOAckResponder``
///   now, later, or never; nothing goes out unless it answers.
/// - `onWithAck(event) { socket, args in return [...] }` (Flask's style): the returned values
///   are the acknowledgement, sent when the client asked for one.
/// - A handler that throws goes to the error handler (``onError(_:)``); the value the
///   error handler returns, if any, is the acknowledgement (Flask).
///
/// A closure that never awaits picks the synchronous overload (Swift prefers it over
/// converting the closure to `async`). Such a handler runs inline, on the connection's
/// event loop as the event is read, with no task: the cheap path for the common handler
/// that emits, broadcasts, joins rooms or acks. It must not block. An `async` handler runs
/// on the socket's handler task. Either way a socket's handlers run one at a time, in
/// arrival order (unless ``SocketIOConfiguration/concurrentHandlers`` is set).
public protocol SocketIOHandlerRegistering: Sendable {
    /// The namespace (or parent namespace template) whose handlers this registers.
    var registrationNamespace: SocketIONamespace { get }
}

extension SocketIOHandlerRegistering {
    private func update(_ body: (inout SocketIONamespaceHandlers) -> Void) {
        self.registrationNamespace.handlers.update(body)
    }

    // MARK: Events

    /// Handles an event; no acknowledgement is sent.
    public func on(_ event: String, _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> Void) {
        self.update { $0.events[event] = .async { socket, _, arguments, _ in try await handler(socket, arguments) } }
    }

    /// Handles an event with a handler that does not suspend: it runs inline on the
    /// connection's event loop (no task) and must not block. No acknowledgement is sent.
    public func on(_ event: String, _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) throws -> Void) {
        self.update { $0.events[event] = .sync { socket, _, arguments, _ in try handler(socket, arguments) } }
    }

    /// Handles an event and answers its acknowledgement on demand (Node's ack callback):
    /// now, after awaiting, or never.
    public func on(
        _ event: String,
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue], SocketIOAckResponder) async throws -> Void
    ) {
        self.update { $0.events[event] = .async { socket, _, arguments, ack in try await handler(socket, arguments, ack) } }
    }

    /// Handles an event inline (it must not block) and answers its acknowledgement on
    /// demand; the responder may be kept and answered later, from any task.
    public func on(
        _ event: String,
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue], SocketIOAckResponder) throws -> Void
    ) {
        self.update { $0.events[event] = .sync { socket, _, arguments, ack in try handler(socket, arguments, ack) } }
    }

    /// Handles an event; the returned values are the acknowledgement (Flask: the handler's
    /// return value), sent when the client asked for one. A separate name, because Swift
    /// cannot tell a closure that returns nothing from one that returns an ack when the
    /// body has several statements.
    public func onWithAck(_ event: String, _ handler: @escaping SocketIOEventHandler) {
        self.update { $0.events[event] = .async { socket, _, arguments, ack in ack.send(try await handler(socket, arguments).values) } }
    }

    /// Handles an event with a handler that does not suspend; the returned values are the
    /// acknowledgement. It runs inline on the connection's event loop and must not block.
    public func onWithAck(_ event: String, _ handler: @escaping SocketIOSyncEventHandler) {
        self.update { $0.events[event] = .sync { socket, _, arguments, ack in ack.send(try handler(socket, arguments).values) } }
    }

    /// Handles an event whose first argument decodes as `T` (a `Codable` payload). A
    /// payload that does not decode goes to the error handler. No acknowledgement is sent.
    public func on<T: Decodable & Sendable>(
        _ event: String,
        as type: T.Type,
        _ handler: @escaping @Sendable (SocketIOSocket, T) async throws -> Void
    ) {
        self.update {
            $0.events[event] = .async { socket, _, arguments, _ in
                try await handler(socket, try SocketIOValueCoder.decode(T.self, from: arguments.first ?? .null))
            }
        }
    }

    /// Handles an event whose first argument decodes as `T`, with a handler that does not
    /// suspend (it runs inline on the connection's event loop and must not block).
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type, _ handler: @escaping @Sendable (SocketIOSocket, T) throws -> Void) {
        self.update {
            $0.events[event] = .sync { socket, _, arguments, _ in
                try handler(socket, try SocketIOValueCoder.decode(T.self, from: arguments.first ?? .null))
            }
        }
    }

    /// Handles every event that has no handler of its own (Flask `on('*')`); no
    /// acknowledgement is sent.
    public func onAny(_ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue]) async throws -> Void) {
        self.update { $0.catchAll = .async { socket, event, arguments, _ in try await handler(socket, event, arguments) } }
    }

    /// Handles every event that has no handler of its own, inline (it must not block); no
    /// acknowledgement is sent.
    public func onAny(_ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue]) throws -> Void) {
        self.update { $0.catchAll = .sync { socket, event, arguments, _ in try handler(socket, event, arguments) } }
    }

    /// Handles every event that has no handler of its own (Flask `on('*')`); the responder
    /// answers the acknowledgement on demand.
    public func onAny(_ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) async throws -> Void) {
        self.update { $0.catchAll = .async(handler) }
    }

    /// Handles every event that has no handler of its own, with a handler that does not
    /// suspend (it runs inline on the connection's event loop).
    public func onAny(_ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) throws -> Void) {
        self.update { $0.catchAll = .sync(handler) }
    }

    // MARK: Lifecycle

    /// Adds a middleware (Node `io.use` / `namespace.use`): middlewares run in order before
    /// the socket joins its namespace (before any room and any connect handler). One that
    /// throws refuses the connection: the client's `connect_error` gets the message and
    /// data of a ``ConnectionRefused``, or the description of any other error.
    public func use(_ middleware: @escaping SocketIOMiddleware) {
        self.update { $0.middlewares.append(middleware) }
    }

    /// Runs when a client connects (after the middlewares); return `false` (Flask's
    /// `return False`) or throw ``ConnectionRefused`` to refuse. A separate name from
    /// ``onConnect(_:)`` for the same reason as ``onWithAck(_:_:)-(_,SocketIOEventHandler)``.
    public func onConnectWithDecision(_ handler: @escaping SocketIOConnectHandler) {
        self.update { $0.connect = handler }
    }

    /// Runs when a client connects (Node's `connection` event; Flask's `connect` handler
    /// with the auth payload); throw ``ConnectionRefused`` to refuse.
    public func onConnect(_ handler: @escaping @Sendable (SocketIOSocket, SocketIOValue?) async throws -> Void) {
        self.update {
            $0.connect = { socket, auth in
                try await handler(socket, auth)
                return true
            }
        }
    }

    /// Runs as a socket starts leaving its namespace, while it is still in its rooms
    /// (Node's `disconnecting`): the place to tell a room that a member goes.
    public func onDisconnecting(_ handler: @escaping SocketIODisconnectHandler) {
        self.update { $0.disconnecting = handler }
    }

    /// Runs when a socket has left the namespace (and its rooms), with the reason (Node's
    /// `disconnect`, Flask-SocketIO 5's `disconnect(reason)`).
    public func onDisconnect(_ handler: @escaping SocketIODisconnectHandler) {
        self.update { $0.disconnect = handler }
    }

    /// Handles errors thrown by this namespace's handlers (Flask `on_error`); no
    /// acknowledgement results.
    public func onError(_ handler: @escaping @Sendable (any Error, SocketIOErrorContext) async -> Void) {
        self.update {
            $0.error = { error, context in
                await handler(error, context)
                return nil
            }
        }
    }

    /// Handles errors thrown by this namespace's handlers; a returned value is the
    /// acknowledgement of the failed event (Flask: the error handler's return value).
    public func onErrorWithAck(_ handler: @escaping SocketIOErrorHandler) {
        self.update { $0.error = handler }
    }
}
