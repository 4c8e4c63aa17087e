//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import HTTPTypes
public import NIOCore
package import NIOHTTP1

/// The HTTP request that opened a session (or asks to), as the application sees it.
public struct EngineIORequest: Sendable {
    public let method: HTTPRequest.Method
    /// The request target as sent, e.g. `/socket.io/?EIO=4&transport=polling&token=x`.
    public let uri: String
    /// The path part of ``uri``.
    public let path: String
    /// Decoded query parameters (the first value of each name; ``queryItems`` has them all).
    public let query: [String: String]
    public let headers: HTTPFields
    /// The peer address of the TCP connection (the proxy, behind one).
    public let remoteAddress: SocketAddress?
    /// Whether `X-Forwarded-For` is trusted (``EngineIOConfiguration/trustForwardedFor``).
    public let trustsForwardedFor: Bool

    /// The request context of the web framework that mounted the engine (e.g. a Hummingbird
    /// `RequestContext` after the application's middleware ran), or `nil` when the engine
    /// runs on its own listener.
    public let context: (any Sendable)?

    public init(
        method: HTTPRequest.Method,
        uri: String,
        headers: HTTPFields,
        remoteAddress: SocketAddress?,
        trustsForwardedFor: Bool = false,
        context: (any Sendable)? = nil
    ) {
        self.trustsForwardedFor = trustsForwardedFor
        self.method = method
        self.uri = uri
        self.headers = headers
        self.remoteAddress = remoteAddress
        self.context = context
        let (path, query) = Self.split(uri)
        self.path = path
        self.query = query
    }

    /// A request the engine received from `remoteAddress`: whether its `X-Forwarded-For`
    /// counts is decided here, from `configuration`, for that same peer.
    package init(
        method: HTTPRequest.Method,
        uri: String,
        headers: HTTPFields,
        remoteAddress: SocketAddress?,
        configuration: EngineIOConfiguration,
        context: (any Sendable)? = nil
    ) {
        self.init(
            method: method,
            uri: uri,
            headers: headers,
            remoteAddress: remoteAddress,
            trustsForwardedFor: configuration.trustsForwardedFor(from: remoteAddress),
            context: context
        )
    }

    /// The request of a NIO HTTP/1 head (the standalone listener); `headers`: the head's
    /// fields when already converted, else they are converted here (once per request).
    package init(
        head: HTTPRequestHead,
        headers: HTTPFields? = nil,
        remoteAddress: SocketAddress?,
        configuration: EngineIOConfiguration,
        context: (any Sendable)? = nil
    ) {
        self.init(
            method: HTTPRequest.Method(head.method.rawValue) ?? .get,
            uri: head.uri,
            headers: headers ?? HTTPFields(head.headers),
            remoteAddress: remoteAddress,
            configuration: configuration,
            context: context
        )
    }

    /// The client's address: with a trusted proxy, the right-most `X-Forwarded-For` entry
    /// (the address the proxy itself saw; entries to its left are whatever the client sent),
    /// if it is an IP address; else the peer's IP.
    public var clientAddress: String? {
        if self.trustsForwardedFor, let forwarded = Self.forwardedAddress(self.headers) {
            return forwarded
        }
        return self.remoteAddress?.ipAddress
    }

    /// The right-most `X-Forwarded-For` entry, normalized, if it is an IPv4 or IPv6 address.
    static func forwardedAddress(_ headers: HTTPFields) -> String? {
        guard let last = headers.commaSeparated(.xForwardedFor).last else { return nil }
        let candidate = String(last.filter { $0 != " " && $0 != "\t" })
        guard !candidate.isEmpty, candidate.count <= 45,
            let address = try? SocketAddress(ipAddress: candidate, port: 0)
        else { return nil }
        return address.ipAddress
    }

    /// Cookies sent with the request.
    public var cookies: [String: String] {
        var cookies: [String: String] = [:]
        for header in self.headers.commaSeparated(.cookie) {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard let name = parts.first?.trimmingSpaces, !name.isEmpty else { continue }
                let value = parts.count > 1 ? parts[1].trimmingSpaces : ""
                if cookies[name] == nil { cookies[name] = value }
            }
        }
        return cookies
    }

    /// Every decoded query parameter in the order sent; a repeated name keeps all its values
    /// (`?tag=a&tag=b` gives `[("tag", "a"), ("tag", "b")]`). Parsed from ``uri`` on each access.
    public var queryItems: [(name: String, value: String)] {
        guard let mark = self.uri.firstIndex(of: "?") else { return [] }
        return self.uri[self.uri.index(after: mark)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.percentDecode(parts[0]), parts.count > 1 ? Self.percentDecode(parts[1]) : "")
        }
    }

    package static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(parts[0])
            if query[name] == nil { query[name] = parts.count > 1 ? percentDecode(parts[1]) : "" }
        }
        return (String(uri[..<mark]), query)
    }

    /// Decodes `%XX` escapes and `+` (form encoding) in a query component.
    static func percentDecode(_ text: Substring) -> String {
        guard text.contains(where: { $0 == "%" || $0 == "+" }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let hi = iterator.next(), let lo = iterator.next(),
                let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
