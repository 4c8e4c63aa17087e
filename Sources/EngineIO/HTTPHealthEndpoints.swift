//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
internal import NIOHTTP1

/// The worker's probe endpoints, answered before the application's router:
///
/// - `GET /healthz` (liveness): `200` while every event loop of the server runs a task
///   within ``livenessDeadline``; `503` otherwise. A frozen loop fails it, and the
///   orchestrator restarts the process.
/// - `GET /readyz` (readiness): `200` while the listener is up, is not shutting down and
///   the application says it is ready (a cluster adapter: its backplane subscription is
///   confirmed); `503` otherwise. Load balancers send new clients only to ready workers.
///
/// Neither path lies under an Engine.IO path (`/socket.io/`, `/engine.io/`) or the demo
/// page's (`/`, `/index.html`, `/socket.io.js`).
struct HTTPHealthEndpoints: Sendable {
    static let livenessPath = "/healthz"
    static let readinessPath = "/readyz"
    static let livenessDeadline = TimeAmount.seconds(2)

    /// The loops whose progress liveness checks.
    let eventLoops: any EventLoopGroup
    /// Whether the worker takes new clients now.
    let isReady: @Sendable () -> Bool

    /// Whether `path` is one of the probe paths.
    static func handles(_ path: String) -> Bool {
        path == Self.livenessPath || path == Self.readinessPath
    }

    /// Answers a probe on `channel`; must run on the channel's loop.
    func answer(path: String, head: HTTPRequestHead, on channel: any Channel) {
        if path == Self.readinessPath {
            let ready = self.isReady()
            Self.write(ready ? .ok : .serviceUnavailable, ready ? "ready" : "not ready", head: head, on: channel)
            return
        }
        // Liveness: every loop runs a no-op within the deadline.
        let loop = channel.eventLoop
        let answered = NIOLoopBoundBox(false, eventLoop: loop)
        let timeout = loop.scheduleTask(in: Self.livenessDeadline) {
            guard !answered.value else { return }
            answered.value = true
            Self.write(.serviceUnavailable, "event loop stalled", head: head, on: channel)
        }
        let probes = self.eventLoops.makeIterator().map { $0.submit {} }
        EventLoopFuture.whenAllComplete(probes, on: loop).whenComplete { _ in
            guard !answered.value else { return }
            answered.value = true
            timeout.cancel()
            Self.write(.ok, "ok", head: head, on: channel)
        }
    }

    private static func write(_ status: HTTPResponseStatus, _ text: String, head: HTTPRequestHead, on channel: any Channel) {
        let body = head.method == .HEAD ? ByteBuffer() : ByteBuffer(string: "{\"status\":\"\(text)\"}")
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Cache-Control": "no-store"]
        HTTPResponseWriter.prepare(&headers, bodyLength: body.readableBytes, keepAlive: head.isKeepAlive, version: head.version)
        HTTPResponseWriter.write(
            head: HTTPResponseHead(version: head.version, status: status, headers: headers),
            body: body,
            keepAlive: head.isKeepAlive,
            to: channel
        )
    }
}
