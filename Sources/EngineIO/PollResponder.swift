//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CompressNIO
import EngineIOParser
package import HTTPTypes
import NIOCore

/// One polling request waiting for its answer, and the means to give it.
///
/// It builds the answer (payload encoding, compression, CORS headers, the handshake's
/// cookies) and gives it once to its ``EngineIOPollReplySink``, which writes it. A session
/// may answer from its own event loop while the request arrived on another; the answer
/// hops to the sink's loop in one step.
///
/// `@unchecked Sendable`: `completed` and `extraHeaders` change only on the sink's loop
/// (`extraHeaders` before the responder is handed to a session); the rest is immutable.
package final class PollResponder: @unchecked Sendable {
    let sink: any EngineIOPollReplySink
    /// The request's header fields (CORS and `Accept-Encoding` are read from them).
    let requestHeaders: HTTPFields
    let server: EngineIOServer
    /// Headers added to a successful answer (the handshake cookie).
    var extraHeaders: HTTPFields = [:]
    /// Set on the sink's loop once the answer is given.
    package private(set) var completed = false

    package init(sink: any EngineIOPollReplySink, requestHeaders: HTTPFields, server: EngineIOServer) {
        self.sink = sink
        self.requestHeaders = requestHeaders
        self.server = server
    }

    /// Answers with a polling payload.
    func respond(_ frames: [EngineIOFrame]) {
        var body = EngineIOPayload.encode(frames)
        var headers: HTTPFields = [.contentType: "text/plain; charset=UTF-8", .cacheControl: "no-store"]
        let compression = self.server.configuration.compression
        if compression.enabled, body.readableBytes >= compression.threshold, frames.contains(where: \.compress),
            let algorithm = self.acceptedCompression()
        {
            do {
                body = try body.compress(with: algorithm.algorithm)
                headers.add(.contentEncoding, algorithm.name)
                headers.add(.vary, "Accept-Encoding")
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
            headers: [.contentType: "text/html"],
            body: ByteBuffer(string: "ok"),
            includeExtra: false
        )
    }

    /// Answers with an HTTP error and its JSON body; with `close`, or for 413, the
    /// connection closes after it.
    package func reject(_ error: EngineIORequestError, close: Bool = false) {
        self.server.metrics.requestRejected()
        self.write(
            status: error.status,
            headers: [.contentType: "application/json"],
            body: ByteBuffer(string: error.jsonBody),
            includeExtra: false,
            close: close || error.status.code == 413
        )
    }

    /// Answers a CORS preflight (`OPTIONS` on the engine path): 204 with the CORS headers,
    /// or 400 when the origin is not accepted.
    func respondToPreflight() {
        let cors = self.server.configuration.cors
        guard cors.accepts(self.requestHeaders) else {
            self.reject(.originNotAllowed)
            return
        }
        var headers: HTTPFields = [:]
        cors.responseHeaders(for: self.requestHeaders, into: &headers)
        cors.preflightHeaders(for: self.requestHeaders, into: &headers)
        self.write(status: .noContent, headers: headers, body: ByteBuffer(), includeExtra: false, addCORS: false)
    }

    private func acceptedCompression() -> (name: String, algorithm: CompressionAlgorithm)? {
        let accepted = self.requestHeaders.commaSeparated(.acceptEncoding).map { $0.lowercased() }
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
        status: HTTPResponse.Status,
        headers: HTTPFields,
        body: ByteBuffer,
        includeExtra: Bool,
        close: Bool = false,
        addCORS: Bool = true
    ) {
        var headers = headers
        if includeExtra { headers.append(contentsOf: self.extraHeaders) }
        if addCORS { self.server.configuration.cors.responseHeaders(for: self.requestHeaders, into: &headers) }
        let answer = EngineIOHTTPAnswer(status: status, headerFields: headers, body: body, close: close)
        let sink = self.sink
        let send: @Sendable () -> Void = {
            guard !self.completed else { return }
            self.completed = true
            sink.send(answer)
        }
        let eventLoop = sink.eventLoop
        if eventLoop.inEventLoop {
            send()
        } else {
            eventLoop.execute(send)
        }
    }
}
