//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import NIOConcurrencyHelpers
import NIOCore
import HTTPTypes
import NIOHTTP1
import NIOPosix
public import SocketIO
public import SocketIOParser

/// An in-process Socket.IO client for tests, like Flask-SocketIO's `SocketIOTestClient`:
/// no sockets, no HTTP; packets go straight to the server's Socket.IO layer.
///
/// Calls are synchronous in Flask's sense: when ``emit(_:_:namespace:)`` returns, the
/// server's handler for that event has finished, and whatever it sent is in
/// ``getReceived(namespace:)``.
public final class SocketIOTestClient: Sendable {
    /// An event the server sent to this client.
    public struct ReceivedEvent: Sendable, Hashable {
        public let name: String
        public let arguments: [SocketIOValue]
        public let namespace: String

        public init(name: String, arguments: [SocketIOValue], namespace: String = "/") {
            self.name = name
            self.arguments = arguments
            self.namespace = namespace
        }
    }

    /// Why a connect failed: the server's CONNECT_ERROR.
    public struct ConnectError: Error, Sendable, Hashable {
        public let message: String
        public let data: SocketIOValue?

        public init(message: String, data: SocketIOValue? = nil) {
            self.message = message
            self.data = data
        }
    }

    private let server: SocketIOServer
    private let transport: TestTransport
    private let handler: NIOLoopBound<any EngineIOSessionHandler>

    /// Creates a client and connects it to `namespace` (pass `nil` to connect later).
    /// - Throws: ``ConnectError`` if the server refuses.
    public init(
        server: SocketIOServer,
        namespace: String? = "/",
        auth: SocketIOValue? = nil,
        query: [String: String] = [:],
        headers: [(String, String)] = []
    ) async throws {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        var uri = "/socket.io/?EIO=4&transport=websocket"
        for (name, value) in query.sorted(by: { $0.key < $1.key }) { uri += "&\(name)=\(value)" }
        let request = EngineIORequest(method: .get, uri: uri, headers: HTTPFields(HTTPHeaders(headers)), remoteAddress: nil)
        let transport = TestTransport(eventLoop: eventLoop, request: request)
        self.server = server
        self.transport = transport
        self.handler = try await eventLoop.submit { NIOLoopBound(server.attach(transport), eventLoop: eventLoop) }.get()
        if let namespace {
            try await self.connect(namespace: namespace, auth: auth)
        }
    }

    private func receive(_ text: String) async {
        await self.receive(.text(text))
    }

    private func receive(_ message: EngineIOMessage) async {
        let handler = self.handler
        try? await self.transport.eventLoop.submit { handler.value.sessionDidReceive(message) }.get()
    }

    private func send(_ packet: SocketIOPacket) async {
        for frame in SocketIOPacketEncoder.encode(packet) {
            switch frame.kind {
            case .text:
                var bytes = frame.bytes
                bytes.moveReaderIndex(forwardBy: 1)  // the Engine.IO `4`
                await self.receive(.text(bytes))
            case .binary:
                await self.receive(.binary(frame.bytes))
            }
        }
    }

    /// Connects to a namespace.
    /// - Throws: ``ConnectError`` when the server refuses.
    public func connect(namespace: String = "/", auth: SocketIOValue? = nil) async throws {
        let outcome = self.transport.expectConnect(namespace: namespace)
        await self.send(SocketIOPacket(type: .connect, namespace: namespace, data: auth))
        let packet = await outcome.value
        if packet.type == .connectError {
            throw ConnectError(message: packet.data?["message"]?.stringValue ?? "", data: packet.data?["data"])
        }
        if let sid = packet.data?["sid"]?.stringValue {
            await self.server.adapter.localSocket(sid: sid, namespace: namespace)?.waitUntilIdle()
        }
    }

    /// The socket id in a namespace, once connected.
    public func sid(namespace: String = "/") -> String? {
        self.transport.sid(namespace: namespace)
    }

    /// Whether the client is connected to a namespace.
    public func isConnected(namespace: String = "/") -> Bool {
        self.transport.sid(namespace: namespace) != nil
    }

    /// Sends an event and waits until the server handled it.
    public func emit(_ event: String, _ arguments: SocketIOValue..., namespace: String = "/") async {
        await self.send(.event(event, arguments, namespace: namespace))
        await self.settle(namespace: namespace)
    }

    /// Sends an event and returns the server's acknowledgement.
    public func emitWithAck(_ event: String, _ arguments: SocketIOValue..., namespace: String = "/") async -> [SocketIOValue]? {
        let id = self.transport.nextAckID()
        await self.send(.event(event, arguments, namespace: namespace, ackID: id))
        await self.settle(namespace: namespace)
        return self.transport.takeAck(id: id)
    }

    /// Sends an unnamed message (`message` event).
    public func send(_ message: SocketIOValue, namespace: String = "/") async {
        await self.send(.event("message", [message], namespace: namespace))
        await self.settle(namespace: namespace)
    }

    /// Acknowledges an event the server sent with an ack id.
    public func ack(id: Int, _ arguments: SocketIOValue..., namespace: String = "/") async {
        await self.send(.ack(arguments, id: id, namespace: namespace))
    }

    /// Leaves a namespace.
    public func disconnect(namespace: String = "/") async {
        let socket = self.transport.sid(namespace: namespace).flatMap {
            self.server.adapter.localSocket(sid: $0, namespace: namespace)
        }
        await self.send(SocketIOPacket(type: .disconnect, namespace: namespace))
        self.transport.disconnected(namespace: namespace)
        await socket?.waitUntilIdle()
    }

    /// Closes the whole connection (every namespace), as a transport close.
    public func close() async {
        let handler = self.handler
        try? await self.transport.eventLoop.submit { handler.value.sessionDidClose(reason: .transportClose) }.get()
        self.transport.closeAll()
    }

    /// Events received in a namespace since the last call (Flask `get_received`).
    public func getReceived(namespace: String = "/") -> [ReceivedEvent] {
        self.transport.takeEvents(namespace: namespace)
    }

    /// The ack ids of received events that asked for an acknowledgement, by event.
    public func pendingAckIDs(namespace: String = "/") -> [Int] {
        self.transport.pendingAckIDs(namespace: namespace)
    }

    private func settle(namespace: String) async {
        guard let sid = self.transport.sid(namespace: namespace) else { return }
        await self.server.adapter.localSocket(sid: sid, namespace: namespace)?.waitUntilIdle()
    }
}
