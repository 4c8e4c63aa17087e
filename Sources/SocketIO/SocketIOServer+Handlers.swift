//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Logging
import SocketIOParser

/// Running a socket's handlers: middlewares, connect, events, errors, disconnect.
extension SocketIOServer {
    /// Middlewares, then the socket joins its namespace (its own room), then the connect
    /// handler decides. A socket that ended before it could join stops there (Node ignores
    /// a socket whose client left during the middlewares).
    func runConnect(_ socket: SocketIOSocket) async {
        let (middlewares, handler) = socket.nsp.handlers.read { ($0.middlewares, $0.connect) }
        if !socket.skipsMiddlewares {
            for middleware in middlewares {
                do {
                    try await middleware(socket)
                } catch {
                    // Refused before joining: no room, no connect handler, no disconnect.
                    socket.refuse(Self.refusal(for: error), alreadyConnected: false)
                    return
                }
            }
        }
        guard socket.joinNamespace() else { return }
        let alwaysConnect = self.configuration.alwaysConnect
        if alwaysConnect { socket.markConnected() }
        do {
            let accepted = try await handler?(socket, socket.handshake.auth) ?? true
            if accepted {
                if !alwaysConnect { socket.markConnected() }
            } else {
                socket.refuse(ConnectionRefused("Connection rejected by server"), alreadyConnected: alwaysConnect)
            }
        } catch let refusal as ConnectionRefused {
            socket.refuse(refusal, alreadyConnected: alwaysConnect)
        } catch {
            _ = await self.report(error, context: SocketIOErrorContext(socket: socket, event: "connect", arguments: []))
            socket.refuse(ConnectionRefused("Connection rejected by server"), alreadyConnected: alwaysConnect)
        }
    }

    /// What a client's `connect_error` gets for a middleware's error: a
    /// ``ConnectionRefused``'s message and data, else the error's description (Node sends
    /// `err.message`).
    static func refusal(for error: any Error) -> ConnectionRefused {
        (error as? ConnectionRefused) ?? ConnectionRefused(String(describing: error))
    }

    /// Runs an event's handler on the handler task; a thrown error goes to the error
    /// handler, whose answer (if any) is the acknowledgement.
    func runEvent(
        _ socket: SocketIOSocket,
        name: String,
        arguments: [SocketIOValue],
        ack: SocketIOAckResponder,
        handler: SocketIOStoredEventHandler?
    ) async {
        guard let handler else {
            self.logger.debug("no handler for event", metadata: [SocketIOLoggingKeys.event: "\(name)", SocketIOLoggingKeys.namespace: "\(socket.namespace)"])
            return
        }
        do {
            try await handler(socket, name, arguments, ack)
        } catch {
            await self.runErrorHandler(error, socket: socket, name: name, arguments: arguments, ack: ack)
        }
    }

    /// Runs a synchronous handler inline (no task).
    /// - Returns: `nil` when it is done, or the error it threw, for the error handler,
    ///   which may suspend and so runs on the socket's handler task.
    func runInline(
        _ handler: @Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) throws -> Void,
        socket: SocketIOSocket,
        name: String,
        arguments: [SocketIOValue],
        ack: SocketIOAckResponder
    ) -> (any Error)? {
        do {
            try handler(socket, name, arguments, ack)
            return nil
        } catch {
            return error
        }
    }

    /// The error handler of a handler (or a packet middleware) that threw; its result is
    /// the acknowledgement, unless the handler had answered already.
    func runErrorHandler(_ error: any Error, socket: SocketIOSocket, name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder) async {
        if let answer = await self.report(error, context: SocketIOErrorContext(socket: socket, event: name, arguments: arguments)) {
            ack.send(answer.values)
        }
    }

    /// The socket is leaving and still has its rooms: the `disconnecting` handler.
    func runDisconnecting(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {
        await socket.nsp.handlers.read({ $0.disconnecting })?(socket, reason)
    }

    /// The socket has left its rooms: the `disconnect` handler, with the reason.
    func runDisconnect(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {
        await socket.nsp.handlers.read({ $0.disconnect })?(socket, reason)
    }

    /// Routes a handler error to the namespace's error handler, else the default one,
    /// else the log.
    func report(_ error: any Error, context: SocketIOErrorContext) async -> SocketIOAck? {
        if let handler = context.socket.nsp.handlers.read({ $0.error }) {
            return await handler(error, context)
        }
        return await self.reportToDefaultHandler(error, context: context)
    }
}
