//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SocketIO
import SocketIOParser
import SocketIOTesting
import Testing

/// `socket.handshake` as Node has it, and `Date` in typed handlers as JavaScript writes it.
struct SocketIOHandshakeTests {
    /// Sun Nov 29 2026 18:30:00.123 UTC.
    private let knownDate = Date(timeIntervalSince1970: 1_795_977_000.123)

    private func handshake(
        uri: String = "/socket.io/?EIO=4&transport=polling",
        headers: [(String, String)] = [],
        remoteAddress: SocketAddress? = nil,
        trustsProxy: Bool = false,
        auth: SocketIOValue? = nil
    ) -> SocketIOHandshake {
        let request = EngineIORequest(
            method: .get, uri: uri, headers: HTTPFields(HTTPHeaders(headers)), remoteAddress: remoteAddress, trustsForwardedFor: trustsProxy
        )
        return SocketIOHandshake(auth: auth, request: request, date: self.knownDate)
    }

    @Test func repeatedQueryParametersKeepEveryValueInOrder() {
        let handshake = self.handshake(uri: "/socket.io/?EIO=4&tag=b&transport=polling&tag=a&empty&tag=c%20d+e")
        #expect(handshake.query("tag") == ["b", "a", "c d e"])
        #expect(handshake.query("missing") == [])
        #expect(handshake.queryItems.map(\.name) == ["EIO", "tag", "transport", "tag", "empty", "tag"])
        #expect(handshake.queryItems.map(\.value) == ["4", "b", "polling", "a", "", "c d e"])
        // The dictionary keeps its first-value meaning for compatibility.
        #expect(handshake.query["tag"] == "b")
        #expect(handshake.query["empty"] == "")
        #expect(self.handshake(uri: "/socket.io/").queryItems.isEmpty)
    }

    @Test func timeAndIssuedAreWallClockAsNodeWritesThem() {
        let handshake = self.handshake()
        #expect(handshake.issued == 1_795_977_000_123)
        #expect(handshake.time == "Sun Nov 29 2026 18:30:00 GMT+0000 (Coordinated Universal Time)")
        let leapDay = SocketIOHandshake(auth: nil, request: handshake.request, date: Date(timeIntervalSince1970: 951_782_400.999))
        #expect(leapDay.time == "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)")
        #expect(leapDay.issued == 951_782_400_999)
    }

    @Test func connectedSocketsHandshakeIsStampedWithTheWallClock() async throws {
        let io = SocketIOServer()
        let seen = NIOLockedValueBox<SocketIOHandshake?>(nil)
        io.onConnect { socket, _ in seen.withLockedValue { $0 = socket.handshake } }
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let client = try await SocketIOTestClient(
            server: io, auth: ["token": "t"], query: ["room": "r1"], headers: [("Cookie", "a=1; b=x y")]
        )
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(client.isConnected())
        let handshake = try #require(seen.withLockedValue { $0 })
        // Taken while connecting: between the two readings (a millisecond either side for rounding).
        #expect(handshake.issued >= before - 1 && handshake.issued <= after + 1)
        #expect(handshake.issued == Int64((handshake.date.timeIntervalSince1970 * 1000).rounded(.down)))
        #expect(handshake.time.hasSuffix(" GMT+0000 (Coordinated Universal Time)"))
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: handshake.date).year!
        #expect(handshake.time.contains(" \(year) "))
        #expect(handshake.auth == ["token": "t"])
        #expect(handshake.url == "/socket.io/?EIO=4&transport=websocket&room=r1")
        #expect(handshake.query("room") == ["r1"])
        #expect(handshake.cookies == ["a": "1", "b": "x y"])
        #expect(handshake.headers[.cookie] == "a=1; b=x y")
    }

    @Test func headersCookiesUrlAddressAndAuth() throws {
        let peer = try SocketAddress(ipAddress: "10.0.0.7", port: 5555)
        let headers = [("Cookie", "session=abc; theme=dark"), ("Cookie", "session=later"), ("X-Forwarded-For", "203.0.113.9")]
        let direct = self.handshake(uri: "/socket.io/?EIO=4&t=1", headers: headers, remoteAddress: peer, auth: ["token": "x"])
        #expect(direct.cookies == ["session": "abc", "theme": "dark"])
        #expect(direct.headers[.xForwardedFor] == "203.0.113.9")
        #expect(direct.url == "/socket.io/?EIO=4&t=1")
        #expect(direct.address == "10.0.0.7")
        #expect(direct.auth == ["token": "x"])
        let proxied = self.handshake(headers: headers, remoteAddress: peer, trustsProxy: true)
        #expect(proxied.address == "203.0.113.9")
        #expect(proxied.auth == nil)
    }

    @Test func secureOnlyBehindATrustedProxySayingHTTPS() {
        #expect(!self.handshake().secure)
        #expect(!self.handshake(headers: [("X-Forwarded-Proto", "https")]).secure)
        #expect(self.handshake(headers: [("X-Forwarded-Proto", "https")], trustsProxy: true).secure)
        #expect(self.handshake(headers: [("X-Forwarded-Proto", "HTTPS")], trustsProxy: true).secure)
        #expect(!self.handshake(headers: [("X-Forwarded-Proto", "http")], trustsProxy: true).secure)
        #expect(!self.handshake(trustsProxy: true).secure)
        // The right-most value is the one the trusted proxy wrote.
        #expect(self.handshake(headers: [("X-Forwarded-Proto", "http, https")], trustsProxy: true).secure)
        #expect(!self.handshake(headers: [("X-Forwarded-Proto", "https, http")], trustsProxy: true).secure)
    }

    private struct Stamp: Codable, Sendable, Equatable { var at: Date }

    @Test func datesEncodeAsJavaScriptISOStrings() throws {
        #expect(try SocketIOValueCoder.encode(Stamp(at: self.knownDate)) == ["at": "2026-11-29T18:30:00.123Z"])
        #expect(try SocketIOValueCoder.encode(Stamp(at: Date(timeIntervalSince1970: 0))) == ["at": "1970-01-01T00:00:00.000Z"])
        #expect(try SocketIOValueCoder.encode(Stamp(at: Date(timeIntervalSince1970: -1.5))) == ["at": "1969-12-31T23:59:58.500Z"])
        #expect(try SocketIOValueCoder.encode(Stamp(at: Date(timeIntervalSince1970: 951_782_400.999))) == ["at": "2000-02-29T00:00:00.999Z"])
        // Sub-millisecond precision is dropped, as a JavaScript Date has none.
        #expect(try SocketIOValueCoder.encode(Stamp(at: Date(timeIntervalSince1970: 4_102_444_799.9996))) == ["at": "2099-12-31T23:59:59.999Z"])
        #expect(try SocketIOValueCoder.encode(self.knownDate) == "2026-11-29T18:30:00.123Z")
    }

    @Test func datesDecodeFromJavaScriptISOStrings() throws {
        func decode(_ text: String) throws -> Date { try SocketIOValueCoder.decode(Stamp.self, from: ["at": .string(text)]).at }
        for text in ["2026-11-29T18:30:00.123Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:58.500Z", "2000-02-29T00:00:00.999Z"] {
            #expect(try SocketIOValueCoder.encode(Stamp(at: decode(text))) == ["at": .string(text)])
        }
        #expect(try decode("2026-11-29T18:30:00Z") == Date(timeIntervalSince1970: 1_795_977_000))
        #expect(try SocketIOValueCoder.encode(decode("2026-11-29T18:30:00Z")) == "2026-11-29T18:30:00.000Z")
        #expect(try SocketIOValueCoder.encode(decode("2026-11-29T18:30:00.1Z")) == "2026-11-29T18:30:00.100Z")
        #expect(try SocketIOValueCoder.encode(decode("2026-11-29T19:30:00.123+01:00")) == "2026-11-29T18:30:00.123Z")
        for bad in ["", "2026-11-29", "2026-11-29T18:30:00", "2026-13-01T00:00:00Z", "2026-11-29T18:30:00.Z", "1795977000"] {
            #expect(throws: DecodingError.self) { try decode(bad) }
        }
        #expect(throws: DecodingError.self) { try SocketIOValueCoder.decode(Stamp.self, from: ["at": 1_795_977_000]) }
    }

    @Test func typedHandlerRoundTripsADateExactly() async throws {
        let io = SocketIOServer()
        io.on("stamp", as: Stamp.self) { socket, stamp in
            socket.emit("stamp", try SocketIOValueCoder.encode(stamp), try SocketIOValueCoder.encode(stamp.at.addingTimeInterval(1)))
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("stamp", ["at": "2026-11-29T18:30:00.123Z"])
        #expect(
            client.getReceived() == [
                .init(name: "stamp", arguments: [["at": "2026-11-29T18:30:00.123Z"], "2026-11-29T18:30:01.123Z"], namespace: "/")
            ]
        )
    }
}
