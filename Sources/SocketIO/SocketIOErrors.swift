//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// Thrown by a connect handler to refuse a connection (Flask-SocketIO's
/// `ConnectionRefusedError`): `message` and `data` reach the client's `connect_error`.
public struct ConnectionRefused: Error, Sendable, Hashable {
    public var message: String
    public var data: SocketIOValue?

    public init(_ message: String = "Connection refused by server", data: SocketIOValue? = nil) {
        self.message = message
        self.data = data
    }
}

/// Why an emit with an acknowledgement got no answer.
public struct SocketIOAckError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case timeout
        case disconnected
        case unknownSocket
        case tooManyPendingAcks
    }

    private let code: Code
    /// No ack within the timeout.
    public static let timeout = Self(code: .timeout)
    /// The socket disconnected before it acked.
    public static let disconnected = Self(code: .disconnected)
    /// No socket with that id is connected.
    public static let unknownSocket = Self(code: .unknownSocket)
    /// The socket already has ``SocketIOConfiguration/maxPendingAcks`` emits waiting for an
    /// ack: this one was not sent.
    public static let tooManyPendingAcks = Self(code: .tooManyPendingAcks)

    public var description: String {
        switch self.code {
        case .timeout: return "ack timed out"
        case .disconnected: return "socket disconnected before acking"
        case .unknownSocket: return "no such socket"
        case .tooManyPendingAcks: return "too many emits waiting for an ack on this socket"
        }
    }
}

/// Why a socket left its namespace. The descriptions are the reference server's strings.
public struct SocketIODisconnectReason: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    private init(_ description: String) { self.description = description }

    /// The client left the namespace (`41`).
    public static let clientNamespaceDisconnect = Self("client namespace disconnect")
    /// The server disconnected the socket.
    public static let serverNamespaceDisconnect = Self("server namespace disconnect")
    /// The connection closed (client close or lost connection).
    public static let transportClose = Self("transport close")
    public static let transportError = Self("transport error")
    public static let pingTimeout = Self("ping timeout")
    /// The client sent something that is not Socket.IO.
    public static let parseError = Self("parse error")
    public static let forcedClose = Self("forced close")
    public static let serverShuttingDown = Self("server shutting down")

    static func engine(_ reason: String) -> Self {
        switch reason {
        case "ping timeout": return .pingTimeout
        case "transport error": return .transportError
        case "parse error": return .parseError
        case "forced close": return .forcedClose
        case "server shutting down": return .serverShuttingDown
        default: return .transportClose
        }
    }
}

/// Values a handler returns as its acknowledgement (Flask: the handler's return value).
public struct SocketIOAck: Sendable, Hashable, ExpressibleByArrayLiteral {
    public var values: [SocketIOValue]
    public init(_ values: [SocketIOValue]) { self.values = values }
    public init(_ values: SocketIOValue...) { self.values = values }
    public init(arrayLiteral elements: SocketIOValue...) { self.values = elements }
    /// No ack arguments.
    public static let none = SocketIOAck([])
}
