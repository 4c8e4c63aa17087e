//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import HTTPTypes
public import NIOCore

/// A complete HTTP response for a request outside the engine path (a page, a script).
public struct EngineIOResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// A response with a body and its content type.
    public init(status: HTTPResponse.Status = .ok, contentType: String, body: String) {
        self.init(status: status, headerFields: [.contentType: contentType], body: ByteBuffer(string: body))
    }

    /// A `302 Found` redirect.
    public static func redirect(to location: String) -> EngineIOResponse {
        EngineIOResponse(status: .found, headerFields: [.location: location])
    }

    /// `404 Not Found`.
    public static let notFound = EngineIOResponse(status: .notFound, contentType: "text/plain; charset=utf-8", body: "Not Found")
}

/// Answers requests outside the engine path; `nil` means 404.
public typealias EngineIORouter = @Sendable (EngineIORequest) -> EngineIOResponse?
