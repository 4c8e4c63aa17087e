//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// A session drives any ``EngineIOWebSocketWriter``, not only the NIO connection.
@Suite struct WebSocketWriterSeamTests {
    /// Records what the session asks of its WebSocket.
    /// `@unchecked Sendable`: used on the embedded loop, i.e. the test's thread, only.
    final class RecordingWriter: EngineIOWebSocketWriter, @unchecked Sendable {
        let supportsBinary = true
        var isWritable = true
        var written: [String] = []
        var paused: [Bool] = []
        var closed = false

        func write(_ frames: [EngineIOFrame]) {
            self.written += frames.map { String(buffer: EngineIOPayload.encode([$0])) }
        }
        func setReadingPaused(_ paused: Bool) { self.paused.append(paused) }
        func close() { self.closed = true }
    }

    @Test func aWebSocketSessionWritesThroughItsWriterAndTellsItsOwnFromOthers() throws {
        let loop = EmbeddedEventLoop()
        let engine = EngineIOServer(
            configuration: .init(path: "/engine.io/"),
            delegate: RecordingDelegate(echo: true),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let request = EngineIORequest(method: .get, uri: "/engine.io/?EIO=4&transport=websocket", headers: [:], remoteAddress: nil)
        let writer = RecordingWriter()
        let session = engine.openWebSocketSession(request: request, connection: writer, eventLoop: loop)
        loop.run()
        #expect(writer.written.count == 1)
        #expect(writer.written.first?.hasPrefix("0{\"sid\":\"\(session.id)\"") == true)

        // The delegate echoes what the session's own WebSocket delivers...
        session.webSocketReceived(.message(.text(ByteBuffer(string: "hi"))), from: writer)
        loop.run()
        #expect(writer.written.last == "4hi")
        // ...and ignores another WebSocket that is not this session's.
        let stranger = RecordingWriter()
        session.webSocketReceived(.message(.text(ByteBuffer(string: "intruder"))), from: stranger)
        loop.run()
        #expect(writer.written.count == 2)
        #expect(stranger.written.isEmpty)

        session.pauseReading()
        loop.run()
        #expect(writer.paused == [true])

        session.close()
        loop.run()
        #expect(writer.written.last == "1")
        #expect(writer.closed)
        #expect(engine.sessionCount == 0)
        try loop.syncShutdownGracefully()
    }
}
