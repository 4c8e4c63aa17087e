//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import HTTPTypes

/// An HTTP request the engine refuses, with the reference server's answer.
///
/// Node (`packages/engine.io/lib/server.ts` `Server.errors`) answers codes 0–3 and 5 with
/// 400, code 4 with 403, each with `{"code":N,"message":"…"}`; an oversized body gets 413.
public struct EngineIORequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The Engine.IO error code of the JSON body, if the answer has one.
    public let code: Int?
    /// The message of the JSON body.
    public let message: String
    /// The HTTP status.
    public let status: HTTPResponse.Status

    private init(code: Int?, message: String, status: HTTPResponse.Status) {
        self.code = code
        self.message = message
        self.status = status
    }

    /// Code 0: `transport` missing, unknown or disabled.
    public static let unknownTransport = Self(code: 0, message: "Transport unknown", status: .badRequest)
    /// Code 1: the `sid` names no live session.
    public static let unknownSessionID = Self(code: 1, message: "Session ID unknown", status: .badRequest)
    /// Code 2: a handshake that is not a GET.
    public static let badHandshakeMethod = Self(code: 2, message: "Bad handshake method", status: .badRequest)
    /// Code 3: a request that does not fit the session (transport mismatch, overlap, bad body).
    public static let badRequest = Self(code: 3, message: "Bad request", status: .badRequest)
    /// Code 3, for an `Origin` that the CORS settings do not accept.
    public static let originNotAllowed = Self(code: 3, message: "Not an accepted origin", status: .badRequest)
    /// Code 4: the application refused the handshake.
    public static func forbidden(_ message: String = "Forbidden") -> Self {
        Self(code: 4, message: message, status: .forbidden)
    }
    /// Code 5: `EIO` is not `4`.
    public static let unsupportedProtocolVersion = Self(
        code: 5,
        message: "Unsupported protocol version",
        status: .badRequest
    )
    /// Code 4: the server is draining for shutdown (``EngineIOServer/beginDraining()``) and
    /// takes no new session; the client reconnects elsewhere.
    public static let serverShuttingDown = Self(code: 4, message: "Server shutting down", status: .forbidden)
    /// A POST body larger than `maxPayload`.
    public static let payloadTooLarge = Self(code: nil, message: "Payload Too Large", status: .contentTooLarge)

    /// The JSON body: `{"code":N,"message":"…"}`.
    public var jsonBody: String {
        var escaped = ""
        for scalar in self.message.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        if let code { return "{\"code\":\(code),\"message\":\"\(escaped)\"}" }
        return "{\"message\":\"\(escaped)\"}"
    }

    public var description: String {
        if let code { return "\(self.status.code) (\(code)) \(self.message)" }
        return "\(self.status.code) \(self.message)"
    }
}
