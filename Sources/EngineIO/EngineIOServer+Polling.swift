//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
package import HTTPTypes
import Logging
import NIOCore

/// HTTP long-polling on the engine path, for any front end: the standalone listener
/// (``EngineIOHTTPHandler``) and a server mounted in a web framework call the same decision
/// tree, and differ only in how they read the request and write the answer
/// (``EngineIOPollReplySink``).
extension EngineIOServer {
    /// What a request on the engine path asks for, decided from its head alone.
    package enum PollingStep {
        /// A CORS preflight (`OPTIONS`).
        case preflight
        /// Refused; with `closeSession`, the request was bad enough to end its session.
        case reject(EngineIORequestError, closeSession: EngineIOSession?)
        /// A polling handshake GET.
        case handshake
        /// A GET that waits for the session's next packets.
        case poll(EngineIOSession)
        /// A POST; the session counts it in flight from now on, so it must end in
        /// ``finishPolling(_:request:body:reply:)`` or `session.postFinished(.aborted, …)`.
        case post(EngineIOSession)
    }

    /// Decides a request from its head (before its body is read): routing, preflight, the
    /// checks of a polling GET or POST. A POST is counted in flight here, so that an
    /// overlapping POST is refused while the first one's body still streams.
    package func pollingStep(method: HTTPRequest.Method, headers: HTTPFields, query: [String: String]) -> PollingStep {
        if method == .options { return .preflight }
        let isUpgrade = headers.commaSeparated(.upgrade).contains { $0.lowercased() == "websocket" }
        switch self.route(method: method, headers: headers, query: query, isWebSocketUpgrade: isUpgrade) {
        case .failure(let error):
            return .reject(error, closeSession: nil)
        case .success(.handshake(.polling)):
            return .handshake
        case .success(.handshake(.websocket)), .success(.session(_, .websocket)):
            // A valid upgrade request reaches polling only if the WebSocket upgrade declined it.
            return .reject(.badRequest, closeSession: nil)
        case .success(.session(let session, .polling)):
            switch method {
            case .get:
                return .poll(session)
            case .post:
                if let type = headers.first(.contentType), type.lowercased().hasPrefix("application/octet-stream") {
                    // v4 polling is text only (Node `polling.ts`: "invalid content").
                    return .reject(.badRequest, closeSession: session)
                }
                session.postStarted()
                return .post(session)
            default:
                return .reject(.badRequest, closeSession: nil)
            }
        }
    }

    /// Carries out a step once the request's body is complete; the answer goes to `reply`
    /// (now, or when the session has something to send). A handshake opens its session on
    /// the reply's event loop.
    /// - Parameters:
    ///   - request: the application's view of the request; evaluated for a handshake only.
    ///   - body: the POST body (empty otherwise).
    package func finishPolling(
        _ step: PollingStep,
        request: @autoclosure () -> EngineIORequest,
        body: ByteBuffer,
        reply: PollResponder
    ) {
        switch step {
        case .preflight:
            reply.respondToPreflight()
        case .reject(let error, let session):
            // After a request with `Upgrade`, NIO's decoder reads no more HTTP on this
            // connection: answer, then close (as Node's `abortUpgrade` does).
            reply.reject(error, close: reply.requestHeaders.contains(.upgrade))
            session?.close(reason: .transportError)
        case .handshake:
            self.handshake(request(), reply: reply)
        case .poll(let session):
            session.pollReceived(reply)
        case .post(let session):
            do {
                let packets = try EngineIOPayload.decode(body, maxPackets: self.configuration.maxPacketsPerPayload)
                session.postFinished(.packets(packets), responder: reply)
            } catch {
                self.logger.debug(
                    "invalid polling payload",
                    metadata: [EngineIOLoggingKeys.sid: "\(session.id)", EngineIOLoggingKeys.error: "\(error)"]
                )
                session.postFinished(.invalid, responder: reply)
            }
        }
    }

    /// Serves a complete polling request (head and body read): ``pollingStep(method:headers:query:)``
    /// then ``finishPolling(_:request:body:reply:)``. For a front end that reads the body before
    /// it answers; a held GET answers later through `reply`, which the front end keeps to
    /// call `session.pollAbandoned(reply)` if the client goes away first.
    package func servePolling(_ request: EngineIORequest, body: ByteBuffer, reply: PollResponder) {
        let step = self.pollingStep(method: request.method, headers: request.headers, query: request.query)
        self.finishPolling(step, request: request, body: body, reply: reply)
    }

    /// Runs the application's `allowRequest` (if any), then opens the session.
    private func handshake(_ request: EngineIORequest, reply: PollResponder) {
        let eventLoop = reply.sink.eventLoop
        guard let allowRequest = self.allowRequest else {
            // A front end may call from off the loop (a framework's request task); the
            // session starts on its loop.
            if eventLoop.inEventLoop {
                self.openPollingSession(request: request, responder: reply, eventLoop: eventLoop)
            } else {
                eventLoop.execute { self.openPollingSession(request: request, responder: reply, eventLoop: eventLoop) }
            }
            return
        }
        // One task per handshake (not per message) to run the application's async check.
        eventLoop.makeFutureWithTask { await allowRequest(request) }.whenSuccess { refusal in
            if let refusal {
                reply.reject(.forbidden(refusal.message))
            } else {
                self.openPollingSession(request: request, responder: reply, eventLoop: eventLoop)
            }
        }
    }
}
