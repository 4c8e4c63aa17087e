//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import HTTPTypes
public import Hummingbird
import NIOCore
public import SocketIO

extension RouterMethods {
    /// Serves the probe endpoints the standalone listener answers, for orchestrators and
    /// load balancers (optional: an application with its own probes leaves it out):
    ///
    /// - `GET /readyz` (readiness): `200 {"status":"ready"}` while `io` serves, its adapter
    ///   is ready (``SocketIOServer/isReady``) and the engine is not draining (graceful
    ///   shutdown began); `503 {"status":"not ready"}` otherwise, so that new clients go to
    ///   other workers.
    /// - `GET /healthz` (liveness): `200 {"status":"ok"}` while every loop of
    ///   `io.eventLoopGroup` runs a task within 2 seconds; `503 {"status":"event loop stalled"}`
    ///   otherwise, so that the orchestrator restarts a frozen process.
    @discardableResult
    public func addSocketIOHealth(_ io: SocketIOServer) -> Self {
        for method in [HTTPRequest.Method.get, .head] {
            self.on("/readyz", method: method) { request, _ -> Response in
                let ready = io.isReady && !io.engine.isDraining
                return SocketIOHealth.answer(ready ? .ok : .serviceUnavailable, ready ? "ready" : "not ready", method: request.method)
            }
            self.on("/healthz", method: method) { request, _ -> Response in
                let live = try await SocketIOHealth.loopsAnswer(io.eventLoopGroup).get()
                return SocketIOHealth.answer(live ? .ok : .serviceUnavailable, live ? "ok" : "event loop stalled", method: request.method)
            }
        }
        return self
    }
}

/// The probes' answers (as the standalone listener's `HTTPHealthEndpoints`).
enum SocketIOHealth {
    static let livenessDeadline = TimeAmount.seconds(2)

    static func answer(_ status: HTTPResponse.Status, _ text: String, method: HTTPRequest.Method) -> Response {
        let body = method == .head ? ByteBuffer() : ByteBuffer(string: "{\"status\":\"\(text)\"}")
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: body)
        )
    }

    /// Whether every loop of `group` runs a no-op within ``livenessDeadline``.
    static func loopsAnswer(_ group: any EventLoopGroup) -> EventLoopFuture<Bool> {
        let loop = group.any()
        return loop.flatSubmit {
            // The deadline and the probes race on `loop`; the first to come answers.
            let decided = NIOLoopBoundBox(false, eventLoop: loop)
            let promise = loop.makePromise(of: Bool.self)
            let timeout = loop.scheduleTask(in: Self.livenessDeadline) {
                guard !decided.value else { return }
                decided.value = true
                promise.succeed(false)
            }
            let probes = group.makeIterator().map { $0.submit {} }
            EventLoopFuture.whenAllComplete(probes, on: loop).whenComplete { _ in
                guard !decided.value else { return }
                decided.value = true
                timeout.cancel()
                promise.succeed(true)
            }
            return promise.futureResult
        }
    }
}
#endif
