//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// Settings of the Engine.IO engine. Defaults are the reference server's.
public struct EngineIOConfiguration: Sendable {
    /// The transports a client may use.
    public struct Transports: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let polling = Transports(rawValue: 1)
        public static let websocket = Transports(rawValue: 2)
        public static let all: Transports = [.polling, .websocket]
    }

    /// HTTP compression of polling responses.
    public struct Compression: Sendable, Hashable {
        /// Compress polling responses when the client accepts gzip or deflate.
        public var enabled: Bool
        /// Only bodies of at least this many bytes are compressed.
        public var threshold: Int
        public init(enabled: Bool = true, threshold: Int = 1024) {
            self.enabled = enabled
            self.threshold = threshold
        }
        public static let disabled = Compression(enabled: false)
    }

    /// The request path the engine serves; requests under it are Engine.IO.
    public var path: String
    /// Interval between server pings.
    public var pingInterval: TimeAmount
    /// How long the server waits for a pong before it closes the session.
    public var pingTimeout: TimeAmount
    /// Largest accepted message or POST body, advertised as `maxPayload`.
    public var maxPayload: Int
    /// Whether polling clients may upgrade to WebSocket.
    public var allowUpgrades: Bool
    /// The transports on offer.
    public var transports: Transports
    /// How long an upgrade may take between the probe and `5`.
    public var upgradeTimeout: TimeAmount
    /// While a client upgrades, how often the server checks for a polling GET it still holds
    /// and answers it with a noop (`6`), so that the client, which waits for its poll to
    /// return before it sends `5`, completes the upgrade quickly (Node's fixed 100 ms).
    /// Until then the GET can carry what the application sends right after the probe (a
    /// Socket.IO CONNECT reply). The check starts at the probe (`2probe`) and stops when
    /// the upgrade completes or fails, or the session closes. Set after `init`; at least 1 ms.
    public var upgradeCheckInterval: TimeAmount = .milliseconds(100)
    /// Cross-origin policy.
    public var cors: CORSConfiguration
    /// The session cookie, or `nil` (the default) for none.
    public var cookie: CookieConfiguration?
    /// Compression of polling responses.
    public var compression: Compression
    /// Largest number of packets accepted in one polling POST.
    public var maxPacketsPerPayload: Int
    /// Most packets in one polling response; the rest go in the next one. python-engineio's
    /// client refuses payloads of more than 16 packets, so 16 is the default.
    public var maxPacketsPerPollResponse: Int
    /// Outbound bytes a session may have waiting (unsent polling frames, or unwritten
    /// WebSocket bytes of a client that does not read) before it is closed.
    public var maxBufferedBytes: Int
    /// Whether `X-Forwarded-For` from the proxy in front names the client (turn on only
    /// behind a proxy that sets it: clients could otherwise claim any address). Only from
    /// the peers in ``trustedProxies``.
    public var trustForwardedFor: Bool
    /// With ``trustForwardedFor``, the peers whose `X-Forwarded-For` counts (default: any
    /// peer, for a server only the proxy can reach). Set it when clients could reach the
    /// server past the proxy: `try TrustedProxies(["10.0.0.0/8"])`.
    public var trustedProxies: TrustedProxies = .any
    /// A cookie naming this node, set on polling handshakes (e.g. `sio_node=127.0.0.1:5001`),
    /// so that a proxy can route every request of a session to the node that owns it even
    /// when its balancing changes (nodes added or removed).
    public var nodeCookie: CookieConfiguration.NodeCookie?

    public init(
        path: String = "/socket.io/",
        pingInterval: TimeAmount = .seconds(25),
        pingTimeout: TimeAmount = .seconds(20),
        maxPayload: Int = 1_000_000,
        allowUpgrades: Bool = true,
        transports: Transports = .all,
        upgradeTimeout: TimeAmount = .seconds(10),
        cors: CORSConfiguration = .sameOrigin,
        cookie: CookieConfiguration? = nil,
        compression: Compression = Compression(),
        maxPacketsPerPayload: Int = 1_000,
        maxPacketsPerPollResponse: Int = 16,
        maxBufferedBytes: Int = 16 * 1024 * 1024,
        trustForwardedFor: Bool = false,
        nodeCookie: CookieConfiguration.NodeCookie? = nil
    ) {
        self.path = path
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.allowUpgrades = allowUpgrades
        self.transports = transports
        self.upgradeTimeout = upgradeTimeout
        self.cors = cors
        self.cookie = cookie
        self.compression = compression
        self.maxPacketsPerPayload = maxPacketsPerPayload
        self.maxPacketsPerPollResponse = maxPacketsPerPollResponse
        self.maxBufferedBytes = maxBufferedBytes
        self.trustForwardedFor = trustForwardedFor
        self.nodeCookie = nodeCookie
    }

    /// Whether a request from `peer` may name its client in `X-Forwarded-For`.
    package func trustsForwardedFor(from peer: SocketAddress?) -> Bool {
        self.trustForwardedFor && self.trustedProxies.contains(peer)
    }

    // MARK: - Limits
    // Set after `init` (`var c = EngineIOConfiguration(); c.maxSessions = 10_000`). Each limit
    // has a counter `engineio.limit.hits{limit=<name>}` and logs on its 1st, 10th, 100th… hit.

    /// Most live sessions on this server, every transport together. A handshake beyond it is
    /// refused: `403 {"code":4,"message":"Too many sessions"}` (polling and WebSocket alike;
    /// the Engine.IO answer of a refused handshake, as Node's `allowRequest` gives). Sessions
    /// already open are not affected. No peer has this limit; 0 turns it off.
    public var maxSessions: Int = 100_000
    /// Most half-open polling sessions per client address (``EngineIORequest/clientAddress``):
    /// sessions whose handshake was answered but whose client has sent no message yet (a
    /// Socket.IO client sends its CONNECT at once). A polling handshake beyond it gets
    /// `403 {"code":4,"message":"Too many sessions from this address"}`; the address may
    /// open sessions again as its others send their first message or expire (after
    /// `pingInterval + pingTimeout`). Behind a proxy without ``trustForwardedFor`` every
    /// client has the proxy's address. No peer has this limit; 0 turns it off.
    public var maxHalfOpenSessionsPerAddress: Int = 1_000
    /// Most outbound bytes all sessions of this server together may hold for clients that
    /// do not read (unsent polling frames, unwritten WebSocket bytes): ``maxBufferedBytes``
    /// bounds one session, this bounds the process when many slow readers add up. Buffers
    /// are counted in 64 KiB steps (a session that keeps up, with less than that waiting or
    /// a writable WebSocket, counts nothing and costs nothing). The session whose growth
    /// takes the total over it is closed as a slow reader, as at ``maxBufferedBytes``
    /// (polling: the session ends and its next request gets `400 Session ID unknown`;
    /// WebSocket: the connection closes); other sessions are not affected. No peer has this
    /// limit; 0 turns it off.
    public var maxTotalBufferedBytes: Int = 256 * 1024 * 1024

    // MARK: - HTTP timeouts

    /// Limits on plain HTTP connections (polling, pages, probes), with Node's `http.Server`
    /// names and defaults. A connection upgraded to WebSocket leaves them behind: the
    /// Engine.IO heartbeat watches it from then on.
    public struct HTTPTimeouts: Sendable, Hashable {
        /// How long a connection may take to send a request's complete headers (Node
        /// `headersTimeout`, 60 s): for a new connection, from the moment it opens. The
        /// connection is closed when it passes.
        public var headersTimeout: TimeAmount
        /// How long a request may take from its headers to the end of its body (Node
        /// `requestTimeout`, 300 s). A long-polling GET the server holds is complete and is
        /// not affected. The connection is closed when it passes.
        public var requestTimeout: TimeAmount
        /// How long a kept-alive connection may sit idle between a response and the next
        /// request's headers (Node `keepAliveTimeout`, 5 s). The connection is closed.
        public var keepAliveTimeout: TimeAmount
        /// Most header fields in one request (Node `maxHeadersCount` counts 2000 but only
        /// truncates). More: `400 Bad Request` and the connection is closed.
        public var maxHeaderCount: Int
        /// Most bytes of one request's header names and values (Node `maxHeaderSize`,
        /// 16 KiB). More: `400 Bad Request` and the connection is closed.
        public var maxHeaderBytes: Int

        public init(
            headersTimeout: TimeAmount = .seconds(60),
            requestTimeout: TimeAmount = .seconds(300),
            keepAliveTimeout: TimeAmount = .seconds(5),
            maxHeaderCount: Int = 100,
            maxHeaderBytes: Int = 16 * 1024
        ) {
            self.headersTimeout = headersTimeout
            self.requestTimeout = requestTimeout
            self.keepAliveTimeout = keepAliveTimeout
            self.maxHeaderCount = maxHeaderCount
            self.maxHeaderBytes = maxHeaderBytes
        }
    }

    /// Timeouts and header limits of HTTP connections.
    public var httpTimeouts = HTTPTimeouts()

    /// The path without a trailing slash, for prefix matching.
    package var normalizedPath: String {
        var path = self.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path.hasPrefix("/") ? path : "/" + path
    }
}
