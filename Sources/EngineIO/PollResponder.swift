//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CompressNIO
import EngineIOParser
import NIOCore
import NIOHTTP1

/// One polling request waiting for its answer, and the means to give it.
///
/// A session may answer from its own event loop while the request arrived on another;
/// the write hops to the connection's loop in one step.
///
/// `@unchecked Sendable`: `completed` and `extraHeaders` change only on `channel.eventLoop`
/// (`extraHeaders` before the responder is handed to a session); the rest is immutable.
final class PollResponder: @unchecked Sendable {
    let channel: any Channel
    let head: HTTPRequestHead
    let server: EngineIOServer
    /// Headers added to a successful answer (the handshake cookie).
    var extraHeaders: HTTPHeaders = [:]
    /// Set on the connection's loop once the answer is written.
    private(set) var completed = false

    init(channel: any Channel, head: HTTPRequestHead, server: EngineIOServer) {
        self.channel = channel
        self.head = head
        self.server = server
    }

    /// Answers with a polling payload.
    func respond(_ frames: [EngineIOFrame]) {
        var body = EngineIOPayload.encode(frames)
        var headers: HTTPHeaders = ["Content-Type": "text/plain; charset=UTF-8", "Cache-Control": "no-store"]
        let compression = self.server.configuration.compression
        if compression.enabled, body.readableBytes >= compression.threshold, frames.contains(where: \.compress),
            let algorithm = self.acceptedCompression()
        {
            do {
                body = try body.compress(with: algorithm.algorithm)
                headers.add(name: "Content-Encoding", value: algorithm.name)
                headers.add(name: "Vary", value: "Accept-Encoding")
            } catch {
                // Not expected (zlib runs out of nothing here): send uncompressed.
            }
        }
        self.write(status: .ok, headers: headers, body: body, includeExtra: true)
    }

    /// Answers a POST: `200 ok` (lower case, as Node; python-engineio says `OK`).
    func respondOK() {
        self.write(
            status: .ok,
            headers: ["Content-Type": "text/html"],
            body: ByteBuffer(string: "ok"),
            includeExtra: false
        )
    }

    /// Answers with an HTTP error and its JSON body; with `close`, or for 413, the
    /// connection closes after it.
    func reject(_ error: EngineIORequestError, close: Bool = false) {
        self.server.metrics.requestRejected()
        self.write(
            status: error.status,
            headers: ["Content-Type": "application/json"],
            body: ByteBuffer(string: error.jsonBody),
            includeExtra: false,
            close: close || error.status == .payloadTooLarge
        )
    }

    private func acceptedCompression() -> (name: String, algorithm: CompressionAlgorithm)? {
        let accepted = self.head.headers[canonicalForm: "accept-encoding"].map { $0.lowercased() }
        func offers(_ name: String) -> Bool {
            accepted.contains { entry in
                // Accept `gzip`, `gzip;q=1`; refuse `gzip;q=0`.
                entry.split(separator: ",").contains { item in
                    let parts = item.split(separator: ";").map { String($0.filter { $0 != " " }) }
                    return parts.first == name && !parts.dropFirst().contains("q=0")
                }
            }
        }
        if offers("gzip") { return ("gzip", .gzip()) }
        if offers("deflate") { return ("deflate", .zlib()) }
        return nil
    }

    private func write(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer,
        includeExtra: Bool,
        close: Bool = false
    ) {
        var headers = headers
        if includeExtra { headers.add(contentsOf: self.extraHeaders) }
        self.server.configuration.cors.responseHeaders(for: self.head.headers, into: &headers)
        let keepAlive = self.head.isKeepAlive && !close
        HTTPResponseWriter.prepare(&headers, bodyLength: body.readableBytes, keepAlive: keepAlive, version: self.head.version)
        let head = HTTPResponseHead(version: self.head.version, status: status, headers: headers)
        let channel = self.channel
        let write: @Sendable () -> Void = {
            guard !self.completed else { return }
            self.completed = true
            HTTPResponseWriter.write(head: head, body: body, keepAlive: keepAlive, to: channel)
        }
        if channel.eventLoop.inEventLoop {
            write()
        } else {
            channel.eventLoop.execute(write)
        }
    }
}

/// Writes complete HTTP/1.1 responses.
enum HTTPResponseWriter {
    static func prepare(_ headers: inout HTTPHeaders, bodyLength: Int, keepAlive: Bool, version: HTTPVersion) {
        headers.replaceOrAdd(name: "Content-Length", value: String(bodyLength))
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
    }

    /// Writes head, body and end, flushes, and closes the connection unless kept alive.
    /// Must run on `channel.eventLoop`.
    ///
    /// A connection that is not writable here still holds an earlier response the client has
    /// not read, yet it sent another request: it pipelines without reading. NIO's pipelining
    /// handler resumes reading as soon as a response's end is *written* (not sent), so every
    /// further request would queue one more response without bound. Such a connection is
    /// closed instead (what was queued for it is dropped).
    static func write(head: HTTPResponseHead, body: ByteBuffer, keepAlive: Bool, to channel: any Channel) {
        guard channel.isWritable else {
            channel.close(promise: nil)
            return
        }
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if body.readableBytes > 0 {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        }
        if keepAlive {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        } else {
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}
