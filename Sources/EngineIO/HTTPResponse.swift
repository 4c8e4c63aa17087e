//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore
public import NIOHTTP1

/// A complete HTTP response for a request outside the engine path (a page, a script).
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a body and its content type.
    public init(status: HTTPResponseStatus = .ok, contentType: String, body: String) {
        self.init(status: status, headers: ["Content-Type": contentType], body: ByteBuffer(string: body))
    }

    /// A `302 Found` redirect.
    public static func redirect(to location: String) -> HTTPResponse {
        HTTPResponse(status: .found, headers: ["Location": location])
    }

    /// `404 Not Found`.
    public static let notFound = HTTPResponse(status: .notFound, contentType: "text/plain; charset=utf-8", body: "Not Found")
}

/// Answers requests outside the engine path; `nil` means 404.
public typealias HTTPRequestRouter = @Sendable (EngineIORequest) -> HTTPResponse?
