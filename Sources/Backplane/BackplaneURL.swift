//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A message-queue URL: `redis://[:password@]host[:port][/db]`,
/// `amqp://user:pass@host[:port]/vhost`, `kafka://host:port[,host:port...]`.
public struct BackplaneURL: Sendable, Hashable, CustomStringConvertible {
    /// The broker kind, from the scheme.
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case redis
        case amqp
        case kafka
    }

    public let scheme: Scheme
    public let user: String?
    public let password: String?
    /// `(host, port)` pairs; Kafka may list several brokers.
    public let hosts: [(host: String, port: Int)]
    /// The path without its leading `/`, percent-decoded (Redis db, AMQP vhost).
    public let path: String

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.description) }

    /// The first host.
    public var host: String { self.hosts[0].host }
    /// The first port.
    public var port: Int { self.hosts[0].port }

    /// Parses a URL.
    /// - Throws: ``BackplaneURLError`` with a message naming what is wrong.
    public init(_ text: String) throws(BackplaneURLError) {
        // Error messages quote the URL as given, its password hidden (they end up in logs).
        let shown = Self.redacted(text)
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw BackplaneURLError("\"\(shown)\" is not a message-queue URL (expected redis://, amqp:// or kafka://)")
        }
        let schemeName = parts[0].lowercased()
        guard let scheme = Scheme(rawValue: schemeName) else {
            throw BackplaneURLError("unknown message-queue scheme \"\(schemeName)\" (expected redis, amqp or kafka)")
        }
        var rest = parts[1]
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = Self.decode(credentials[..<colon])
                password = Self.decode(credentials[credentials.index(after: colon)...])
            } else {
                user = Self.decode(credentials)
            }
            if user == "" { user = nil }
        }
        let defaultPort: Int
        switch scheme {
        case .redis: defaultPort = 6379
        case .amqp: defaultPort = 5672
        case .kafka: defaultPort = 9092
        }
        var hosts: [(String, Int)] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw BackplaneURLError("\(schemeName) URL has an empty host: \"\(shown)\"") }
            var host = String(part)
            var port = defaultPort
            if let colon = part.lastIndex(of: ":"), !part.hasSuffix("]") {
                host = String(part[..<colon])
                guard let value = Int(part[part.index(after: colon)...]), (1...65535).contains(value) else {
                    throw BackplaneURLError("invalid port in \(schemeName) URL: \"\(shown)\"")
                }
                port = value
            }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw BackplaneURLError("\(schemeName) URL has an empty host: \"\(shown)\"") }
            hosts.append((host, port))
        }
        guard !hosts.isEmpty else { throw BackplaneURLError("\(schemeName) URL has no host: \"\(shown)\"") }
        if scheme != .kafka && hosts.count > 1 {
            throw BackplaneURLError("only kafka:// URLs may list several hosts: \"\(shown)\"")
        }
        if scheme == .redis, !path.isEmpty, Int(path) == nil {
            throw BackplaneURLError("redis database must be a number: \"\(shown)\"")
        }
        self.scheme = scheme
        self.user = user
        self.password = password
        self.hosts = hosts
        self.path = Self.decode(Substring(path))
    }

    private static func decode(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let hi = iterator.next(), let lo = iterator.next(),
                let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` as given, with the password of its credentials (`user:password@`) replaced by
    /// `***`: for messages about a URL that may not parse. Anything without credentials is
    /// returned as it is.
    public static func redacted(_ text: String) -> String {
        // Up to the last `@`, not the first `/`: a password written with a raw `/` (it should
        // be `%2F`) must not show either. Hiding too much of an odd URL is harmless.
        let start = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        let rest = text[start...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[...colon]) + "***" + String(text[at...])
    }

    /// The URL with the password hidden, for logs.
    public var description: String {
        var text = "\(self.scheme.rawValue)://"
        if let user { text += user + (self.password == nil ? "@" : ":***@") } else if self.password != nil { text += ":***@" }
        text += self.hosts.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        if !self.path.isEmpty { text += "/" + self.path }
        return text
    }
}

extension BackplaneURL {
    /// The environment variable the executables read the message-queue URL from when no
    /// `--message-queue` option is given: a URL with a password in it stays out of the
    /// process list (`ps`, `/proc/PID/cmdline`), which every local user can read.
    public static let environmentVariable = "SOCKETIO_MESSAGE_QUEUE"

    /// The URL to use: the option's when given, else a non-empty ``environmentVariable``;
    /// `source` names where it came from (`optionName` or the variable), for error messages.
    public static func fromOptionOrEnvironment(_ option: String?, optionName: String) -> (url: String, source: String)? {
        if let option { return (option, optionName) }
        guard let value = getenv(Self.environmentVariable) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : (text, Self.environmentVariable)
    }
}

/// A message-queue URL that cannot be used, with a message for the user.
public struct BackplaneURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
