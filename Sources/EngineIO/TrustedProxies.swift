//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The peers whose `X-Forwarded-For` names the client, when
/// ``EngineIOConfiguration/trustForwardedFor`` is on: addresses and networks in CIDR
/// notation (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`), like Express's `trust proxy` list.
/// A request from any other peer is reported with the peer's own address, whatever header it
/// sends: a client that reaches a worker directly, past the proxy, cannot name an address.
public struct TrustedProxies: Sendable, Hashable, CustomStringConvertible {
    /// One address or network: its bytes (4 or 16) and how many leading bits must match.
    struct Network: Sendable, Hashable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == self.bytes.count else { return false }
            var bits = self.prefixLength
            for (mine, theirs) in zip(self.bytes, address) where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if mine & mask != theirs & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    /// `nil`: any peer.
    let networks: [Network]?
    private let text: String

    /// Any peer: for a server that only the proxy can reach (bound to loopback behind a
    /// local nginx, or fenced by a network policy).
    public static let any = TrustedProxies(networks: nil, text: "any")

    private init(networks: [Network]?, text: String) {
        self.networks = networks
        self.text = text
    }

    /// Parses a list of addresses and networks.
    /// - Throws: ``TrustedProxiesError`` naming the entry that is not an address or network.
    public init(_ entries: [String]) throws(TrustedProxiesError) {
        var networks: [Network] = []
        for entry in entries {
            let trimmed = entry.filter { $0 != " " }
            let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bytes = Self.bytes(of: String(parts[0])) else { throw TrustedProxiesError(entry: entry) }
            var prefixLength = bytes.count * 8
            if parts.count == 2 {
                guard let length = Int(parts[1]), (0...prefixLength).contains(length) else { throw TrustedProxiesError(entry: entry) }
                prefixLength = length
            }
            networks.append(Network(bytes: bytes, prefixLength: prefixLength))
        }
        self.init(networks: networks, text: entries.joined(separator: ","))
    }

    /// Whether `peer` may name the client.
    public func contains(_ peer: SocketAddress?) -> Bool {
        guard let networks = self.networks else { return true }
        guard let peer, let bytes = Self.bytes(of: peer) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    public var description: String { self.text }

    /// The address's bytes in network order; an IPv4-mapped IPv6 address (a dual-stack
    /// listener's view of an IPv4 peer) as its 4 IPv4 bytes.
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        address.ipAddress.flatMap(Self.bytes(of:))
    }

    /// The bytes of an IPv4 or IPv6 address in text form (`inet_pton`).
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        if v6[0..<10].allSatisfy({ $0 == 0 }), v6[10] == 0xFF, v6[11] == 0xFF { return Array(v6[12...]) }
        return v6
    }
}

/// An entry of a trusted-proxy list that is not an IP address or a network in CIDR notation.
public struct TrustedProxiesError: Error, Sendable, Hashable, CustomStringConvertible {
    public let entry: String
    public var description: String { "not an IP address or a network (CIDR): \"\(self.entry)\"" }
}
