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
            self.on(RouterPath(HTTPHealthEndpoints.readinessPath), method: method) { request, _ -> Response in
                Self.response(HTTPHealthEndpoints.readiness(io.isReady && !io.engine.isDraining), to: request)
            }
            self.on(RouterPath(HTTPHealthEndpoints.livenessPath), method: method) { request, _ -> Response in
                let live = try await HTTPHealthEndpoints.liveness(of: io.eventLoopGroup, on: io.eventLoopGroup.any()).get()
                return Self.response(HTTPHealthEndpoints.liveness(live), to: request)
            }
        }
        return self
    }

    /// A probe's answer (the standalone listener's) as a Hummingbird response.
    private static func response(_ answer: HTTPHealthEndpoints.Answer, to request: Request) -> Response {
        Response(
            status: answer.status,
            headers: HTTPHealthEndpoints.Answer.headerFields,
            body: ResponseBody(byteBuffer: answer.body(isHead: request.method == .head))
        )
    }
}
#endif
