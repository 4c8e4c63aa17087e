//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// The cookie set on the handshake response, naming the session id (off by default).
///
/// Its purpose is load-balancer stickiness. Defaults follow Node's engine.io:
/// `io=<sid>; Path=/; HttpOnly; SameSite=Lax`.
public struct CookieConfiguration: Sendable, Hashable {
    /// The SameSite attribute.
    public enum SameSite: String, Sendable, Hashable {
        case lax = "Lax"
        case strict = "Strict"
        case none = "None"
    }

    public var name: String
    public var path: String
    public var httpOnly: Bool
    public var sameSite: SameSite?
    /// Adds `Secure` (required by browsers with `SameSite=None`).
    public var secure: Bool
    /// `Max-Age` in seconds; `nil` makes a session cookie.
    public var maxAge: Int?

    public init(
        name: String = "io",
        path: String = "/",
        httpOnly: Bool = true,
        sameSite: SameSite? = .lax,
        secure: Bool = false,
        maxAge: Int? = nil
    ) {
        self.name = name
        self.path = path
        self.httpOnly = httpOnly
        self.sameSite = sameSite
        self.secure = secure
        self.maxAge = maxAge
    }

    /// A cookie that names the node serving a session (see
    /// ``EngineIOConfiguration/nodeCookie``).
    public struct NodeCookie: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String = "sio_node", value: String) {
            self.name = name
            self.value = value
        }

        var headerValue: String { "\(self.name)=\(self.value); Path=/; HttpOnly; SameSite=Lax" }
    }

    /// The `Set-Cookie` value for a session id.
    func headerValue(sessionID: String) -> String {
        var value = "\(self.name)=\(sessionID); Path=\(self.path)"
        if self.httpOnly { value += "; HttpOnly" }
        if let sameSite { value += "; SameSite=\(sameSite.rawValue)" }
        if self.secure { value += "; Secure" }
        if let maxAge { value += "; Max-Age=\(maxAge)" }
        return value
    }
}
