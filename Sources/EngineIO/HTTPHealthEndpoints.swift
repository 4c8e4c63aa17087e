//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

package import HTTPTypes
package import NIOCore
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
package struct HTTPHealthEndpoints: Sendable {
    package static let livenessPath = "/healthz"
    package static let readinessPath = "/readyz"
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
            Self.write(Self.readiness(self.isReady()), head: head, on: channel)
            return
        }
        Self.liveness(of: self.eventLoops, on: channel.eventLoop).whenSuccess { live in
            Self.write(Self.liveness(live), head: head, on: channel)
        }
    }

    /// Whether every loop of `group` runs a no-op within ``livenessDeadline``; decided on
    /// `loop` (the first of the deadline and the last probe wins).
    package static func liveness(of group: any EventLoopGroup, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        guard loop.inEventLoop else { return loop.flatSubmit { Self.liveness(of: group, on: loop) } }
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

    /// A probe's answer, whichever front end writes it.
    package struct Answer: Sendable {
        package let status: HTTPResponse.Status
        /// `ready`, `not ready`, `ok` or `event loop stalled`.
        package let text: String
        package static let headerFields: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]

        /// `{"status":"…"}`, or nothing for a `HEAD` request.
        package func body(isHead: Bool) -> ByteBuffer {
            isHead ? ByteBuffer() : ByteBuffer(string: "{\"status\":\"\(self.text)\"}")
        }
    }

    package static func readiness(_ ready: Bool) -> Answer {
        Answer(status: ready ? .ok : .serviceUnavailable, text: ready ? "ready" : "not ready")
    }

    package static func liveness(_ live: Bool) -> Answer {
        Answer(status: live ? .ok : .serviceUnavailable, text: live ? "ok" : "event loop stalled")
    }

    private static func write(_ answer: Answer, head: HTTPRequestHead, on channel: any Channel) {
        let body = answer.body(isHead: head.method == .HEAD)
        var headers = HTTPHeaders(Answer.headerFields)
        HTTPResponseWriter.prepare(&headers, bodyLength: body.readableBytes, keepAlive: head.isKeepAlive, version: head.version)
        HTTPResponseWriter.write(
            head: HTTPResponseHead(version: head.version, status: HTTPResponseStatus(answer.status), headers: headers),
            body: body,
            keepAlive: head.isKeepAlive,
            to: channel
        )
    }
}
