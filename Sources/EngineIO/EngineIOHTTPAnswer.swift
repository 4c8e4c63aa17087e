//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

package import HTTPTypes
package import NIOCore
package import NIOHTTP1

/// A complete answer to an Engine.IO HTTP request (a poll, a POST, a preflight, a refusal),
/// before any HTTP/1 framing: the front end that writes it adds `Content-Length` and the
/// connection headers of its protocol.
package struct EngineIOHTTPAnswer: Sendable {
    package var status: HTTPResponse.Status
    package var headerFields: HTTPFields
    package var body: ByteBuffer
    /// The connection must close after this answer (413 mid-body, a refused upgrade after
    /// which the HTTP/1 decoder reads no more requests).
    package var close: Bool

    package init(status: HTTPResponse.Status, headerFields: HTTPFields, body: ByteBuffer, close: Bool) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
        self.close = close
    }
}

/// Where a finished polling answer goes: one call per request.
///
/// The standalone listener writes it to the connection (``NIOPollReplySink``); a mounted
/// server hands it to its web framework (a Hummingbird route awaiting a promise).
package protocol EngineIOPollReplySink: Sendable {
    /// The loop ``send(_:)`` runs on (``PollResponder`` hops there first).
    var eventLoop: any EventLoop { get }
    /// Delivers the answer; called once, on ``eventLoop``.
    func send(_ answer: EngineIOHTTPAnswer)
}

/// Writes polling answers as HTTP/1 responses on the connection that asked.
package struct NIOPollReplySink: EngineIOPollReplySink {
    let channel: any Channel
    let version: HTTPVersion
    let keepAlive: Bool

    package init(channel: any Channel, head: HTTPRequestHead) {
        self.channel = channel
        self.version = head.version
        self.keepAlive = head.isKeepAlive
    }

    package var eventLoop: any EventLoop { self.channel.eventLoop }

    package func send(_ answer: EngineIOHTTPAnswer) {
        let keepAlive = self.keepAlive && !answer.close
        var headers = HTTPHeaders(answer.headerFields)
        HTTPResponseWriter.prepare(&headers, bodyLength: answer.body.readableBytes, keepAlive: keepAlive, version: self.version)
        HTTPResponseWriter.write(
            head: HTTPResponseHead(version: self.version, status: HTTPResponseStatus(answer.status), headers: headers),
            body: answer.body,
            keepAlive: keepAlive,
            to: self.channel
        )
    }
}

extension HTTPResponseStatus {
    /// NIO's status for a code: the standard reason phrase for a known code (what the
    /// listener always wrote), the given one otherwise.
    package init(_ status: HTTPResponse.Status) {
        self.init(statusCode: status.code, reasonPhrase: status.reasonPhrase)
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
