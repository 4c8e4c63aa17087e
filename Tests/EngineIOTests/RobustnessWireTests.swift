//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import NIOCore
import NIOEmbedded
import Testing

/// Bad input never disturbs other sessions.
struct RobustnessWireTests {
    @Test func garbageOnHalfOfAThousandSessionsLeavesTheOtherHalfEchoing() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.pingInterval = .seconds(25)
        let harness = WireHarness(configuration: configuration)
        var sids: [String] = []
        for _ in 0..<1000 { sids.append(try harness.handshake().sid) }
        let garbage = ["zzz", "4\u{1e}\u{1e}", "b!!!", "9", "\u{1e}"]
        let connection = try harness.connect()
        for (index, sid) in sids.enumerated() {
            if index % 2 == 0 {
                let body = garbage[index / 2 % garbage.count]
                #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: body)?.status == 400)
            } else {
                #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4hello-\(index)")?.body == "ok")
            }
        }
        #expect(harness.engine.sessionCount == 500)
        for (index, sid) in sids.enumerated() where index % 2 == 1 {
            #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "4hello-\(index)")
        }
    }

    @Test func randomBytesGetAnErrorAndOtherSessionsContinue() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        var generator = SystemRandomNumberGenerator()
        for size in [1, 17, 4096] {
            let connection = try harness.connect()
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try? connection.send(bytes)
        }
        let connection = try harness.connect()
        #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4alive")?.body == "ok")
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "4alive")
    }

    @Test func requestCutShortLosesNothingElse() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let cut = try harness.connect()
        try cut.send(Array("POST /engine.io/?EIO=4&transport=polling&sid=\(sid) HTTP/1.1\r\nContent-Length: 100\r\n\r\n4abc".utf8))
        try cut.channel.close().wait()
        harness.loop.run()
        let connection = try harness.connect()
        #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4next")?.body == "ok")
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "4next")
    }

    @Test func hugeHeaderIsRefused() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        let header = String(repeating: "a", count: 200_000)
        _ = try? connection.request("GET", "/engine.io/?EIO=4&transport=polling", headers: ["X-Big": header])
        let response = try? connection.readResponse()
        #expect(response == nil || response!.status >= 400)
        #expect(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling")?.status == 200)
    }

    @Test func bufferOverflowClosesOnlyThatSession() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.maxBufferedBytes = 10_000
        let harness = WireHarness(configuration: configuration)
        let (slow, _) = try harness.handshake()
        let (fine, _) = try harness.handshake()
        for _ in 0..<20 { harness.engine.session(id: slow)?.send(.text(String(repeating: "x", count: 1000))) }
        harness.loop.run()
        #expect(harness.engine.session(id: slow) == nil)
        #expect(harness.delegate.closed.map(\.1) == [.transportError])
        let connection = try harness.connect()
        #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(fine)", body: "4ok")?.body == "ok")
    }
}
