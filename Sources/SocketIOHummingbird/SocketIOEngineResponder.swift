//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Answers the Engine.IO requests that reach the application's router (the routes of
/// `RouterMethods.addSocketIO(_:)`), through the engine's one polling decision tree.
///
/// A polling request is decided from its head (`pollingStep`), its body is collected up to
/// `maxPayload`, then the engine finishes it (`finishPolling`) into a
/// `PollResponder` whose sink is a promise the route awaits: a held GET costs a promise,
/// not a task. An upgrade request is either checked for the upgrade (task-local
/// `SocketIOUpgradeSlot`) or, when the check refused it, answered with the engine's error.
struct SocketIOEngineResponder<Context: RequestContext>: HTTPResponder {
    let engine: EngineIOServer

    func respond(to request: Request, context: Context) async throws -> Response {
        let uri = request.head.path ?? "/"
        let (path, query) = EngineIORequest.split(uri)
        guard self.engine.isEngineRequest(path: path, query: query) else {
            throw HTTPError(.notFound)
        }
        let headers = Self.engineHeaders(of: request)
        let isUpgrade = request.headers[.upgrade]?.lowercased().contains("websocket") ?? false
        if isUpgrade, let slot = SocketIOUpgradeSlot.current {
            return await self.checkUpgrade(request, headers: headers, uri: uri, query: query, context: context, slot: slot)
        }
        guard let connection = SocketIOConnectionState.current else {
            context.logger.error("the Socket.IO engine routes need the server HTTPServerBuilder.socketIO(_:router:)")
            throw HTTPError(.internalServerError)
        }
        let channel = connection.channel
        let sink = PromisePollReplySink(eventLoop: channel.eventLoop)
        let reply = PollResponder(sink: sink, requestHeaders: headers, server: self.engine)
        let refusal: EngineIORequestError? =
            if isUpgrade {
                try await connection.onLoop { state in
                    defer { state.upgradeRefusal = nil }
                    return state.upgradeRefusal
                }
            } else {
                nil
            }
        if let refusal {
            // The upgrade check refused this request: the engine's answer, then the
            // connection closes (SocketIOCloseAfterResponseHandler), as on the listener.
            reply.reject(refusal, close: true)
        } else {
            try await self.servePolling(request, headers: headers, uri: uri, query: query, context: context, connection: connection, reply: reply, sink: sink)
        }
        return Self.response(try await sink.promise.futureResult.get())
    }

    private func servePolling(
        _ request: Request,
        headers: HTTPFields,
        uri: String,
        query: [String: String],
        context: Context,
        connection: SocketIOConnectionState,
        reply: PollResponder,
        sink: PromisePollReplySink
    ) async throws {
        let engine = self.engine
        let channel = connection.channel
        let step = engine.pollingStep(method: request.method, headers: headers, query: query)
        var body = ByteBuffer()
        switch step {
        case .post(let session):
            do {
                body = try await request.body.collect(upTo: engine.configuration.maxPayload)
            } catch {
                // Too large (or the client left mid-body): 413, after which the connection
                // closes, since the rest of the body is not read.
                session.postFinished(.aborted, responder: nil)
                reply.reject(.payloadTooLarge)
                return
            }
        case .poll(let session):
            // Recorded before the session may hold it, on the loop that runs the close
            // callback: a client gone by now gets no poll.
            let held = SocketIOConnectionState.HeldPoll(reply: reply, sink: sink, session: session)
            let open = try await connection.onLoop { state -> Bool in
                guard channel.isActive else { return false }
                state.heldPoll = held
                return true
            }
            guard open else { throw ChannelError.ioOnClosedChannel }
        case .preflight, .reject, .handshake:
            break
        }
        engine.finishPolling(
            step,
            request: EngineIORequest(
                method: request.method,
                uri: uri,
                headers: headers,
                remoteAddress: channel.remoteAddress,
                configuration: engine.configuration,
                context: context
            ),
            body: body,
            reply: reply
        )
    }

    /// The upgrade check that `SocketIOHTTP1Channel` runs through the router: the engine's
    /// checks and `allowRequest`; the outcome (and the app's context) goes to `slot`.
    private func checkUpgrade(_ request: Request, headers: HTTPFields, uri: String, query: [String: String], context: Context, slot: SocketIOUpgradeSlot) async -> Response {
        switch self.engine.route(method: request.method, headers: headers, query: query, isWebSocketUpgrade: true) {
        case .failure(let error):
            slot.outcome = .refused(error)
        case .success(.session(_, .polling)), .success(.handshake(.polling)):
            slot.outcome = .refused(.badRequest)
        case .success(.session(_, .websocket)):
            slot.outcome = .accepted(context: context)
        case .success(.handshake(.websocket)):
            if let allowRequest = self.engine.allowRequest {
                let engineRequest = EngineIORequest(
                    method: request.method,
                    uri: uri,
                    headers: headers,
                    remoteAddress: SocketIOConnectionState.current?.channel.remoteAddress,
                    configuration: self.engine.configuration,
                    context: context
                )
                if let refusal = await allowRequest(engineRequest) {
                    slot.outcome = .refused(.forbidden(refusal.message))
                    return Response(status: .forbidden)
                }
            }
            slot.outcome = .accepted(context: context)
        }
        return Response(status: .ok)
    }

    /// The request's header fields as the engine reads them: HTTPTypes moves HTTP/1's `Host`
    /// into the `:authority` pseudo-header, and the engine's same-origin check and
    /// `handshake.headers` need it back.
    static func engineHeaders(of request: Request) -> HTTPFields {
        var headers = request.headers
        if headers[.hostField] == nil, let authority = request.head.authority {
            headers[.hostField] = authority
        }
        return headers
    }

    /// The engine's answer as a Hummingbird response (Hummingbird writes `Content-Length`).
    static func response(_ answer: EngineIOHTTPAnswer) -> Response {
        var fields = answer.headerFields
        fields[.contentLength] = nil
        fields[.connection] = answer.close ? "close" : nil
        return Response(status: answer.status, headers: fields, body: ResponseBody(byteBuffer: answer.body))
    }
}
#endif
