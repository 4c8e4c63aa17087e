//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import Foundation
public import HTTPTypes
public import NIOCore
public import SocketIOParser

/// What a client sent when it connected to a namespace: Node's `socket.handshake`, and the
/// handler's view of Flask's `request` during `connect`.
public struct SocketIOHandshake: Sendable {
    /// The CONNECT payload (Node: `handshake.auth`; the JavaScript client's `auth` option), or `nil`.
    public let auth: SocketIOValue?
    /// The Engine.IO handshake request (query, headers, cookies, address).
    public let request: EngineIORequest
    /// The wall-clock time the socket connected (Node keeps it as ``time`` and ``issued``).
    public let date: Date
    /// When the socket connected on the monotonic clock of its event loop (for durations).
    public let connectedAt: NIODeadline

    public init(auth: SocketIOValue?, request: EngineIORequest, date: Date = Date(), connectedAt: NIODeadline = .now()) {
        self.auth = auth
        self.request = request
        self.date = date
        self.connectedAt = connectedAt
    }

    /// Node: `handshake.time`, the connection time as JavaScript's `new Date().toString()`
    /// writes it, in UTC: `Sun Nov 29 2026 18:30:00 GMT+0000 (Coordinated Universal Time)`.
    public var time: String { JavaScriptDate.string(self.date) }

    /// Node: `handshake.issued`, the connection time in milliseconds since 1970 (UTC).
    public var issued: Int64 { JavaScriptDate.milliseconds(self.date) }

    /// Node: `handshake.query` reduced to the first value of each name (Flask: `request.args`
    /// with `.get`). ``queryItems`` and ``query(_:)`` keep repeated values.
    public var query: [String: String] { self.request.query }
    /// Every query parameter of the handshake URL in the order sent, repeated names included
    /// (Node: `handshake.query`, where a repeated name is an array).
    public var queryItems: [(name: String, value: String)] { self.request.queryItems }
    /// Every value of query parameter `name`, in order (Flask: `request.args.getlist(name)`).
    public func query(_ name: String) -> [String] {
        self.request.queryItems.filter { $0.name == name }.map(\.value)
    }
    /// Headers of the handshake request (Node: `handshake.headers`; Flask: `request.headers`).
    public var headers: HTTPFields { self.request.headers }
    /// Cookies of the handshake request, the first value of each name (Flask: `request.cookies`;
    /// Node has them only in the `cookie` header).
    public var cookies: [String: String] { self.request.cookies }
    /// The request target of the handshake, e.g. `/socket.io/?EIO=4&transport=polling`
    /// (Node: `handshake.url`; Flask: `request.full_path`).
    public var url: String { self.request.uri }
    /// The peer address (the proxy, behind one).
    public var remoteAddress: SocketAddress? { self.request.remoteAddress }
    /// The client's address (`X-Forwarded-For` when the proxy is trusted).
    public var clientAddress: String? { self.request.clientAddress }
    /// The client's IP address (Node: `handshake.address`; Flask: `request.remote_addr`):
    /// ``clientAddress``.
    public var address: String? { self.clientAddress }
    /// Whether the client connected over TLS (Node: `handshake.secure`; Flask: `request.is_secure`).
    /// This server has no TLS of its own, so it is true only behind a trusted proxy
    /// (``EngineIOConfiguration/trustForwardedFor``, `--trust-proxy`) whose right-most
    /// `X-Forwarded-Proto` is `https`; a client cannot claim it without one.
    public var secure: Bool {
        guard self.request.trustsForwardedFor,
            let proto = self.request.headers.commaSeparated(.xForwardedProto).last
        else { return false }
        return proto.filter { $0 != " " && $0 != "\t" }.lowercased() == "https"
    }
}
