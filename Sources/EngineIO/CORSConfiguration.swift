//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

internal import HTTPTypes

/// Which cross-origin browsers may talk to the server (Flask-SocketIO `cors_allowed_origins`).
///
/// As in python-engineio, a request whose `Origin` is not accepted is refused with 400: this
/// guards WebSocket connections against cross-site hijacking, which browsers do not prevent.
/// Requests without an `Origin` header (non-browser clients) are always accepted.
public struct CORSConfiguration: Sendable, Hashable {
    enum Origins: Sendable, Hashable {
        case sameOrigin
        case any
        case list(Set<String>)
        case disabled
    }

    let origins: Origins
    /// Whether responses carry `Access-Control-Allow-Credentials: true` (default on, as in
    /// Flask-SocketIO `cors_credentials`).
    public var allowCredentials: Bool
    /// Whether same-origin checks take the scheme and host from the proxy's
    /// `X-Forwarded-Proto`/`X-Forwarded-Host` (default off; turn on only behind a proxy that
    /// sets both, as `--trust-proxy` does).
    public var trustsForwardedHeaders = false

    /// Only pages served from the same scheme, host and port (the default).
    public static let sameOrigin = CORSConfiguration(origins: .sameOrigin, allowCredentials: true)
    /// Any origin (`cors_allowed_origins="*"`).
    public static let any = CORSConfiguration(origins: .any, allowCredentials: true)
    /// No CORS handling at all: no headers, no origin check (a proxy in front does it).
    public static let disabled = CORSConfiguration(origins: .disabled, allowCredentials: false)
    /// The listed origins, e.g. `["https://example.com"]`.
    public static func list(_ origins: [String]) -> CORSConfiguration {
        CORSConfiguration(origins: .list(Set(origins.map(Self.normalize))), allowCredentials: true)
    }

    /// Returns a copy with `allowCredentials` set.
    public func allowingCredentials(_ allow: Bool) -> CORSConfiguration {
        var copy = self
        copy.allowCredentials = allow
        return copy
    }

    /// Returns a copy that trusts (or not) the proxy's `X-Forwarded-Proto`/`X-Forwarded-Host`.
    public func trustingForwardedHeaders(_ trust: Bool) -> CORSConfiguration {
        var copy = self
        copy.trustsForwardedHeaders = trust
        return copy
    }

    private static func normalize(_ origin: String) -> String {
        var origin = origin.lowercased()
        while origin.hasSuffix("/") { origin.removeLast() }
        return origin
    }

    /// Whether a request with these headers may proceed.
    ///
    /// Same-origin compares the `Origin`'s scheme, host and port with the server's own: the
    /// `Host` header and plain `http` (this server has no TLS). Only with
    /// ``trustsForwardedHeaders`` (`--trust-proxy`) do a proxy's `X-Forwarded-Host` and
    /// `X-Forwarded-Proto` name them instead (the right-most value: the one the nearest proxy
    /// wrote); otherwise any client could claim them.
    func accepts(_ headers: HTTPFields) -> Bool {
        guard let origin = headers.first(.origin) else { return true }
        switch self.origins {
        case .any, .disabled:
            return true
        case .list(let allowed):
            return allowed.contains(Self.normalize(origin))
        case .sameOrigin:
            let normalized = Self.normalize(origin)
            let parts = normalized.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].hasSuffix(":") else { return false }
            let scheme = parts[0].dropLast()
            let authority = parts[1]
            var ownScheme = "http"
            var host = headers.first(.hostField)
            if self.trustsForwardedHeaders {
                if let proto = Self.lastValue(headers, .xForwardedProto) { ownScheme = proto }
                if let forwardedHost = Self.lastValue(headers, .xForwardedHost) { host = forwardedHost }
            }
            guard scheme == ownScheme, let host = host?.lowercased() else { return false }
            if host == authority { return true }
            // Default ports are elided in Origin but may appear in Host.
            let defaultPort = scheme == "https" ? ":443" : ":80"
            return host == authority + defaultPort || host + defaultPort == authority
        }
    }

    /// The right-most value of a comma-separated header: what the nearest proxy wrote.
    private static func lastValue(_ headers: HTTPFields, _ name: HTTPField.Name) -> String? {
        guard let value = headers.commaSeparated(name).last else { return nil }
        let trimmed = String(value.filter { $0 != " " && $0 != "\t" }).lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The CORS headers for a response to a request with these headers.
    ///
    /// A refused origin gets none: no `Access-Control-Allow-Origin` echo and no
    /// credentials, so that a browser shows the refusal to no script.
    func responseHeaders(for requestHeaders: HTTPFields, into headers: inout HTTPFields) {
        guard self.origins != .disabled, let origin = requestHeaders.first(.origin) else { return }
        headers.add(.vary, "Origin")
        guard self.accepts(requestHeaders) else { return }
        headers.add(.accessControlAllowOrigin, origin)
        if self.allowCredentials {
            headers.add(.accessControlAllowCredentials, "true")
        }
    }

    /// The extra headers of a preflight (`OPTIONS`) answer.
    func preflightHeaders(for requestHeaders: HTTPFields, into headers: inout HTTPFields) {
        guard self.origins != .disabled else { return }
        headers.add(.accessControlAllowMethods, "OPTIONS, GET, POST")
        if let requested = requestHeaders.first(.accessControlRequestHeaders) {
            headers.add(.accessControlAllowHeaders, requested)
        }
        headers.add(.accessControlMaxAge, "86400")
    }
}
