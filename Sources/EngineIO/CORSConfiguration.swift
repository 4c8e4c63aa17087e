//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOHTTP1

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

    private static func normalize(_ origin: String) -> String {
        var origin = origin.lowercased()
        while origin.hasSuffix("/") { origin.removeLast() }
        return origin
    }

    /// Whether a request with these headers may proceed.
    func accepts(_ headers: HTTPHeaders) -> Bool {
        guard let origin = headers.first(name: "origin") else { return true }
        switch self.origins {
        case .any, .disabled:
            return true
        case .list(let allowed):
            return allowed.contains(Self.normalize(origin))
        case .sameOrigin:
            // Compare the authority of the Origin with Host (or X-Forwarded-Host, set by a
            // proxy); the scheme may differ behind a TLS-terminating proxy.
            let normalized = Self.normalize(origin)
            let parts = normalized.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].hasSuffix(":") else { return false }
            let scheme = parts[0].dropLast()
            let authority = parts[1]
            let hosts = [headers.first(name: "host"), headers.first(name: "x-forwarded-host")].compactMap { $0 }
            return hosts.contains { host in
                let host = host.lowercased()
                if host == authority { return true }
                // Default ports are elided in Origin but may appear in Host.
                let defaultPort = scheme == "https" ? ":443" : ":80"
                return host == authority + defaultPort || host + defaultPort == authority
            }
        }
    }

    /// The CORS headers for a response to a request with these headers.
    func responseHeaders(for requestHeaders: HTTPHeaders, into headers: inout HTTPHeaders) {
        guard self.origins != .disabled, let origin = requestHeaders.first(name: "origin") else { return }
        headers.add(name: "Access-Control-Allow-Origin", value: origin)
        headers.add(name: "Vary", value: "Origin")
        if self.allowCredentials {
            headers.add(name: "Access-Control-Allow-Credentials", value: "true")
        }
    }

    /// The extra headers of a preflight (`OPTIONS`) answer.
    func preflightHeaders(for requestHeaders: HTTPHeaders, into headers: inout HTTPHeaders) {
        guard self.origins != .disabled else { return }
        headers.add(name: "Access-Control-Allow-Methods", value: "OPTIONS, GET, POST")
        if let requested = requestHeaders.first(name: "access-control-request-headers") {
            headers.add(name: "Access-Control-Allow-Headers", value: requested)
        }
        headers.add(name: "Access-Control-Max-Age", value: "86400")
    }
}
