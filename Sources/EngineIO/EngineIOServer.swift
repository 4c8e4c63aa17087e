//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
package import HTTPTypes
public import Logging
import NIOConcurrencyHelpers
import NIOCore
package import NIOHTTP1

/// Why the application refuses a handshake: the client gets 403 `{"code":4,"message":…}`.
public struct EngineIORequestRefusal: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String = "Forbidden") { self.message = message }
}

/// The Engine.IO engine: the session table, request routing and handshakes.
///
/// It owns no sockets; ``EngineIOHTTPServer`` feeds it HTTP requests and WebSockets.
public final class EngineIOServer: Sendable {
    /// Decides whether a handshake may proceed (Node `allowRequest`). Return a refusal to
    /// answer 403.
    public typealias AllowRequest = @Sendable (EngineIORequest) async -> EngineIORequestRefusal?

    public let configuration: EngineIOConfiguration
    let delegate: any EngineIOServerDelegate
    package let allowRequest: AllowRequest?
    let logger: Logger
    let metrics = EngineIOMetrics()
    let limits = EngineIOLimitReporters()
    /// ``EngineIOConfiguration/maxTotalBufferedBytes``, shared by every session.
    let outboundBudget: OutboundBudget
    /// One lock around the one table of live sessions.
    private let sessions = NIOLockedValueBox(SessionTable())

    /// The live sessions, and how many half-open polling sessions each address holds
    /// (``EngineIOConfiguration/maxHalfOpenSessionsPerAddress``).
    struct SessionTable {
        var byID: [String: EngineIOSession] = [:]
        var halfOpen: [String: Int] = [:]
        /// Set once by ``EngineIOServer/beginDraining()``: no new sessions from then on.
        var draining = false
        /// Shutdowns waiting for the table to empty (``closeAllSessions(reason:)``).
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []

        mutating func releaseHalfOpen(_ address: String) {
            guard let count = self.halfOpen[address] else { return }
            self.halfOpen[address] = count > 1 ? count - 1 : nil
        }
    }

    /// Creates an engine.
    /// - Parameters:
    ///   - configuration: protocol settings.
    ///   - delegate: the application that receives sessions.
    ///   - allowRequest: an optional hook that may refuse handshakes.
    ///   - logger: where the engine logs (at `info` or below).
    public init(
        configuration: EngineIOConfiguration,
        delegate: any EngineIOServerDelegate,
        allowRequest: AllowRequest? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.outboundBudget = OutboundBudget(limit: configuration.maxTotalBufferedBytes)
        self.delegate = delegate
        self.allowRequest = allowRequest
        self.logger = logger
    }

    /// The number of live sessions.
    public var sessionCount: Int { self.sessions.withLockedValue { $0.byID.count } }

    /// The live session with this id.
    public func session(id: String) -> EngineIOSession? {
        self.sessions.withLockedValue { $0.byID[id] }
    }

    /// Closes every session (used on shutdown) and waits until each has been told. With
    /// ``EngineIOCloseReason/serverShuttingDown`` the clients get no `1` but a lost transport,
    /// after what was buffered for them, so that they reconnect (see
    /// ``EngineIOSessionStateMachine/close(reason:now:)``), and it waits until every session
    /// has closed; another reason sends `1`.
    public func closeAllSessions(reason: EngineIOCloseReason = .serverShuttingDown) async {
        let sessions = self.sessions.withLockedValue { Array($0.byID.values) }
        await withTaskGroup(of: Void.self) { group in
            for session in sessions {
                group.addTask {
                    try? await session.eventLoop.submit { session.close(reason: reason) }.get()
                }
            }
        }
        // A polling session closed by a shutdown may wait (at most its drain timeout) for
        // the GET that takes what was buffered for it: the caller closes the connections
        // only after that.
        if reason == .serverShuttingDown {
            // A safety bound above the sessions' own (a session whose loop no longer runs
            // would never report its close): shutdown goes on regardless after it.
            let bound = Task {
                try? await Task.sleep(for: Self.drainWaitLimit)
                self.releaseEmptyWaiters()
            }
            await self.allSessionsClosed()
            bound.cancel()
        }
    }

    /// The longest ``closeAllSessions(reason:)`` waits for the sessions a shutdown closed:
    /// above the 5 s a polling session waits for its last GETs.
    static let drainWaitLimit: Duration = .seconds(10)

    /// Returns once no session is left (or ``releaseEmptyWaiters()``).
    private func allSessionsClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = self.sessions.withLockedValue { table -> Bool in
                if table.byID.isEmpty { return true }
                table.emptyWaiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }

    /// Stops taking new sessions and closes every live one with
    /// ``EngineIOCloseReason/serverShuttingDown``: each client gets what was buffered for it,
    /// then its transport ends without a close packet (a WebSocket with 1001, a pending GET
    /// with a noop), so that python-socketio and socket.io-client both reconnect, to another
    /// node behind a load balancer. Returns once every session has closed (a polling one may
    /// wait a few seconds for the GET that takes what was buffered for it).
    /// From now on a handshake is refused with 403 `{"code":4,"message":"Server shutting down"}`.
    /// Only the first call does anything; later calls return at once.
    public func beginDraining() async {
        let first = self.sessions.withLockedValue { table -> Bool in
            guard !table.draining else { return false }
            table.draining = true
            return true
        }
        guard first else { return }
        self.logger.debug("draining: new handshakes refused, sessions closing")
        await self.closeAllSessions(reason: .serverShuttingDown)
    }

    /// Whether ``beginDraining()`` was called.
    public var isDraining: Bool { self.sessions.withLockedValue { $0.draining } }

    // MARK: Routing

    /// Whether a request is for the engine: its path is the engine path, or lies under it
    /// with Engine.IO query parameters. Other paths under it (e.g. `/socket.io/socket.io.js`,
    /// the client bundle Node's server also serves there) go to the application's router.
    package func isEngineRequest(path: String, query: [String: String]) -> Bool {
        let enginePath = self.configuration.normalizedPath
        if path == enginePath || path == enginePath + "/" { return true }
        return path.hasPrefix(enginePath + "/") && (query["EIO"] != nil || query["transport"] != nil)
    }

    /// The application's view of a request that arrived on `channel`, with the request
    /// context of the framework that mounted the engine (if any); `headers`: the head's
    /// fields when the caller converted them already.
    package func request(
        for head: HTTPRequestHead,
        headers: HTTPFields? = nil,
        on channel: any Channel,
        context: (any Sendable)? = nil
    ) -> EngineIORequest {
        EngineIORequest(
            head: head,
            headers: headers,
            remoteAddress: channel.remoteAddress,
            configuration: self.configuration,
            context: context
        )
    }

    /// What a request under the engine path asks for.
    package enum Route {
        case handshake(EngineIOTransportKind)
        case session(EngineIOSession, EngineIOTransportKind)
    }

    /// Checks a request in the reference order (Node `server.ts verify()`/`handshake()`):
    /// transport, origin, sid, method, WebSocket upgrade, protocol version.
    package func route(
        method: HTTPRequest.Method,
        headers: HTTPFields,
        query: [String: String],
        isWebSocketUpgrade: Bool
    ) -> Result<Route, EngineIORequestError> {
        guard let name = query["transport"], let transport = EngineIOTransportKind(rawValue: name),
            self.configuration.transports.contains(transport == .polling ? .polling : .websocket)
        else {
            return .failure(.unknownTransport)
        }
        guard self.configuration.cors.accepts(headers) else {
            return .failure(.originNotAllowed)
        }
        if let sid = query["sid"] {
            guard let session = self.session(id: sid) else { return .failure(.unknownSessionID) }
            if transport == .websocket && (!isWebSocketUpgrade || !self.configuration.allowUpgrades) {
                return .failure(.badRequest)
            }
            return .success(.session(session, transport))
        }
        guard method == .get else { return .failure(.badHandshakeMethod) }
        if transport == .websocket && !isWebSocketUpgrade { return .failure(.badRequest) }
        guard query["EIO"] == "4" else { return .failure(.unsupportedProtocolVersion) }
        let (count, draining) = self.sessions.withLockedValue { ($0.byID.count, $0.draining) }
        if draining { return .failure(.serverShuttingDown) }
        if self.configuration.maxSessions > 0, count >= self.configuration.maxSessions {
            self.limits.maxSessions.hit(self.logger)
            return .failure(Self.tooManySessions)
        }
        return .success(.handshake(transport))
    }

    /// ``route(method:headers:query:isWebSocketUpgrade:)`` for an application's request.
    package func route(_ request: EngineIORequest, isWebSocketUpgrade: Bool) -> Result<Route, EngineIORequestError> {
        self.route(method: request.method, headers: request.headers, query: request.query, isWebSocketUpgrade: isWebSocketUpgrade)
    }

    // MARK: Sessions

    /// The answer to a handshake beyond ``EngineIOConfiguration/maxSessions``.
    static let tooManySessions = EngineIORequestError.forbidden("Too many sessions")
    /// The answer to a polling handshake beyond
    /// ``EngineIOConfiguration/maxHalfOpenSessionsPerAddress``.
    static let tooManyHalfOpenSessions = EngineIORequestError.forbidden("Too many sessions from this address")

    /// Opens a session over polling and answers its handshake GET with the open packet, or
    /// refuses it (403) when a session limit is reached.
    package func openPollingSession(request: EngineIORequest, responder: PollResponder, eventLoop: any EventLoop) {
        let address = request.clientAddress ?? ""
        switch self.reserveHalfOpen(address) {
        case .limit(let limit):
            limit.hit(self.logger, metadata: [EngineIOLoggingKeys.remoteAddress: "\(address)"])
            responder.reject(limit === self.limits.maxSessions ? Self.tooManySessions : Self.tooManyHalfOpenSessions)
            return
        case .draining:
            responder.reject(.serverShuttingDown)
            return
        case .reserved:
            break
        }
        let id = SessionID.make()
        let session = EngineIOSession(id: id, request: request, eventLoop: eventLoop, server: self, webSocket: nil)
        session.halfOpenAddress = address
        if let cookie = self.configuration.cookie {
            responder.extraHeaders.add(.setCookie, cookie.headerValue(sessionID: id))
        }
        if let node = self.configuration.nodeCookie {
            responder.extraHeaders.add(.setCookie, node.headerValue)
        }
        let registered = self.register(session)
        let upgrades = self.configuration.allowUpgrades && self.configuration.transports.contains(.websocket)
        session.start(openPacket: self.openPacket(sid: id, upgrades: upgrades))
        session.pollReceived(responder)
        if !registered { session.close(reason: .serverShuttingDown) }
    }

    /// Opens a WebSocket-only session; its first frame is the open packet.
    func openWebSocketSession(
        request: EngineIORequest,
        connection: any EngineIOWebSocketWriter,
        eventLoop: any EventLoop
    ) -> EngineIOSession {
        let id = SessionID.make()
        let session = EngineIOSession(id: id, request: request, eventLoop: eventLoop, server: self, webSocket: connection)
        let registered = self.register(session)
        session.start(openPacket: self.openPacket(sid: id, upgrades: false))
        // A drain that began after this handshake was routed did not see the session.
        if !registered { session.close(reason: .serverShuttingDown) }
        return session
    }

    private enum HalfOpenReservation {
        case reserved
        case limit(LimitReporter)
        case draining
    }

    /// Counts a half-open polling session for `address`, unless a limit or a drain refuses it.
    private func reserveHalfOpen(_ address: String) -> HalfOpenReservation {
        let maxSessions = self.configuration.maxSessions
        let perAddress = self.configuration.maxHalfOpenSessionsPerAddress
        return self.sessions.withLockedValue { table -> HalfOpenReservation in
            if table.draining { return .draining }
            if maxSessions > 0, table.byID.count >= maxSessions { return .limit(self.limits.maxSessions) }
            let count = table.halfOpen[address, default: 0]
            if perAddress > 0, count >= perAddress { return .limit(self.limits.maxHalfOpenSessionsPerAddress) }
            table.halfOpen[address] = count + 1
            return .reserved
        }
    }

    /// A half-open session sent its first message, or closed: its address may open another.
    func releaseHalfOpen(_ address: String) {
        self.sessions.withLockedValue { $0.releaseHalfOpen(address) }
    }

    /// Adds the session to the table.
    /// - Returns: `false` if the engine is draining (the caller closes the session once started).
    private func register(_ session: EngineIOSession) -> Bool {
        let draining = self.sessions.withLockedValue { table -> Bool in
            table.byID[session.id] = session
            return table.draining
        }
        self.metrics.sessionOpened(session.handshakeTransport)
        self.logger.trace(
            "session opened",
            metadata: [
                EngineIOLoggingKeys.sid: "\(session.id)",
                EngineIOLoggingKeys.transport: "\(session.handshakeTransport.rawValue)",
            ]
        )
        return !draining
    }

    /// Lets every waiter of ``allSessionsClosed()`` go on.
    private func releaseEmptyWaiters() {
        let waiters = self.sessions.withLockedValue { table -> [CheckedContinuation<Void, Never>] in
            defer { table.emptyWaiters = [] }
            return table.emptyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func sessionClosed(_ session: EngineIOSession, reason: EngineIOCloseReason) {
        let (removed, waiters) = self.sessions.withLockedValue { table -> (EngineIOSession?, [CheckedContinuation<Void, Never>]) in
            let removed = table.byID.removeValue(forKey: session.id)
            guard table.byID.isEmpty, !table.emptyWaiters.isEmpty else { return (removed, []) }
            defer { table.emptyWaiters = [] }
            return (removed, table.emptyWaiters)
        }
        for waiter in waiters { waiter.resume() }
        guard removed != nil else { return }
        self.metrics.sessionClosed(reason)
        self.logger.trace(
            "session closed",
            metadata: [EngineIOLoggingKeys.sid: "\(session.id)", EngineIOLoggingKeys.reason: "\(reason)"]
        )
    }

    /// The open packet: exactly `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload`.
    func openPacket(sid: String, upgrades: Bool) -> EngineIOFrame {
        let json =
            "{\"sid\":\"\(sid)\",\"upgrades\":\(upgrades ? "[\"websocket\"]" : "[]"),"
            + "\"pingInterval\":\(self.configuration.pingInterval.nanoseconds / 1_000_000),"
            + "\"pingTimeout\":\(self.configuration.pingTimeout.nanoseconds / 1_000_000),"
            + "\"maxPayload\":\(self.configuration.maxPayload)}"
        return .text(type: .open, data: ByteBuffer(string: json))
    }
}
