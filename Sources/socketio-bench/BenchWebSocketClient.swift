//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore

/// What a bench client reports to the scenario that owns it. Called on the generator's
/// event loop.
protocol BenchClientDelegate: AnyObject {
    /// The client joined the namespace (`40` received).
    func clientConnected(_ client: BenchWebSocketClient)
    /// A Socket.IO EVENT arrived; `payload` is the JSON array after `42`.
    func client(_ client: BenchWebSocketClient, receivedEvent payload: ByteBuffer)
    /// An ACK arrived (for a binary ack: once its attachments are in).
    func client(_ client: BenchWebSocketClient, receivedAck id: Int)
    /// The connection failed or closed before the scenario ended it.
    func client(_ client: BenchWebSocketClient, failed reason: String)
}

/// One Engine.IO v4 / Socket.IO v5 client over a raw WebSocket, as lean as a client can be:
/// it parses only what the scenarios look at, writes each message as one pre-framed buffer,
/// and masks with the all-zero key (legal per RFC 6455 §5.3; the XOR is then a no-op) so
/// that the generator spends its cycles on the server's traffic, not on its own.
///
/// A `ChannelInboundHandler`, so confined to its channel's loop.
final class BenchWebSocketClient: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        case upgrading
        case opening
        case joining
        case connected
        case closed
    }

    /// Index of this client in its scenario.
    let index: Int
    private let host: String
    private let path: String
    private let namespace: String
    private weak var delegate: (any BenchClientDelegate)?
    private(set) var phase = Phase.upgrading
    private var context: ChannelHandlerContext?
    private var pending: ByteBuffer?
    /// Attachments still expected for the binary packet in progress, and its ack id
    /// (`nil` for a binary event).
    private var attachmentsExpected = 0
    private var binaryAckID: Int?
    private var binaryEvent: ByteBuffer?

    /// The time the TCP connect started (set by the pool), for setup latency.
    var startedAt: UInt64 = 0

    init(index: Int, host: String, path: String, namespace: String, delegate: any BenchClientDelegate) {
        self.index = index
        self.host = host
        self.path = path
        self.namespace = namespace
        self.delegate = delegate
    }

    // MARK: Sending

    /// Sends one Engine.IO text packet (e.g. `42["event",1]`).
    func sendText(_ text: String) {
        guard let context = self.context else { return }
        var utf8 = text
        utf8.withUTF8 { bytes in
            var buffer = context.channel.allocator.buffer(capacity: bytes.count + 14)
            Self.writeFrame(opcode: 0x1, payload: UnsafeRawBufferPointer(bytes), into: &buffer)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        }
    }

    /// Sends a text packet followed by binary attachments, in one write.
    func sendText(_ text: String, attachments: [ByteBuffer]) {
        guard let context = self.context else { return }
        var utf8 = text
        let total = attachments.reduce(utf8.utf8.count) { $0 + $1.readableBytes + 14 } + 14
        var buffer = context.channel.allocator.buffer(capacity: total)
        utf8.withUTF8 { Self.writeFrame(opcode: 0x1, payload: UnsafeRawBufferPointer($0), into: &buffer) }
        for attachment in attachments {
            attachment.withUnsafeReadableBytes { Self.writeFrame(opcode: 0x2, payload: $0, into: &buffer) }
        }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    /// A masked client frame with the zero masking key.
    private static func writeFrame(opcode: UInt8, payload: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        let count = payload.count
        if count < 126 {
            buffer.writeInteger(UInt8(0x80 | count))
        } else if count <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(count))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(count))
        }
        buffer.writeInteger(UInt32(0))
        buffer.writeBytes(payload)
    }

    /// Closes the connection (the scenario is over).
    func close() {
        self.phase = .closed
        self.context?.close(promise: nil)
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let request =
            "GET \(self.path)?EIO=4&transport=websocket HTTP/1.1\r\nHost: \(self.host)\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c29ja2V0aW8tYmVuY2gtMQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if var pending = self.pending {
            pending.writeBuffer(&incoming)
            self.pending = nil
            self.consume(&pending)
        } else {
            self.consume(&incoming)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail("connection closed")
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail("\(error)")
        context.close(promise: nil)
    }

    /// The TCP connect failed (the pipeline never became active).
    func connectFailed(_ reason: String) {
        self.fail(reason)
    }

    private func fail(_ reason: String) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.delegate?.client(self, failed: reason)
    }

    // MARK: Parsing

    private func consume(_ buffer: inout ByteBuffer) {
        if self.phase == .upgrading {
            guard self.consumeUpgradeResponse(&buffer) else {
                if buffer.readableBytes > 0 { self.pending = buffer }
                return
            }
        }
        while self.phase != .closed {
            guard let (opcode, payload) = Self.nextFrame(&buffer) else { break }
            self.frameReceived(opcode: opcode, payload: payload)
        }
        if buffer.readableBytes > 0, self.phase != .closed {
            buffer.discardReadBytes()
            self.pending = buffer
        }
    }

    /// Reads the `101` response; returns false while it is incomplete.
    private func consumeUpgradeResponse(_ buffer: inout ByteBuffer) -> Bool {
        let view = buffer.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
            if buffer.readableBytes > 16384 { self.failAndClose("oversized upgrade response") }
            return false
        }
        let head = buffer.readString(length: end.upperBound - view.startIndex) ?? ""
        guard head.hasPrefix("HTTP/1.1 101") else {
            self.failAndClose("upgrade refused: \(head.prefix(while: { $0 != "\r" }))")
            return false
        }
        self.phase = .opening
        return true
    }

    private func failAndClose(_ reason: String) {
        self.fail(reason)
        self.context?.close(promise: nil)
    }

    /// Cuts one complete server frame (unmasked) off the front of `buffer`.
    private static func nextFrame(_ buffer: inout ByteBuffer) -> (UInt8, ByteBuffer)? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            headerLength = 10
        }
        guard buffer.readableBytes >= headerLength + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        let payload = buffer.readSlice(length: length)!
        return (first & 0x0F, payload)
    }

    private func frameReceived(opcode: UInt8, payload: ByteBuffer) {
        switch opcode {
        case 0x1:
            self.engineIOPacket(payload)
        case 0x2:
            self.attachmentReceived()
        case 0x8:
            self.failAndClose("websocket closed by the server")
        case 0x9:
            // Answer a WebSocket ping with a pong carrying the same bytes.
            guard let context = self.context else { return }
            var reply = context.channel.allocator.buffer(capacity: payload.readableBytes + 6)
            payload.withUnsafeReadableBytes { Self.writeFrame(opcode: 0xA, payload: $0, into: &reply) }
            context.writeAndFlush(self.wrapOutboundOut(reply), promise: nil)
        default:
            break
        }
    }

    private func engineIOPacket(_ payload: ByteBuffer) {
        var payload = payload
        guard let type = payload.readInteger(as: UInt8.self) else { return }
        switch type {
        case UInt8(ascii: "4"):
            self.socketIOPacket(payload)
        case UInt8(ascii: "2"):
            self.sendText("3")
        case UInt8(ascii: "0"):
            guard self.phase == .opening else { return }
            self.phase = .joining
            self.sendText(self.namespace == "/" ? "40" : "40\(self.namespace),")
        case UInt8(ascii: "1"):
            self.failAndClose("engine.io close packet")
        default:
            break
        }
    }

    private func socketIOPacket(_ packet: ByteBuffer) {
        var packet = packet
        guard let type = packet.readInteger(as: UInt8.self) else { return }
        if self.namespace != "/" {
            // Skip `/namespace,`.
            guard let comma = packet.readableBytesView.firstIndex(of: UInt8(ascii: ",")) else { return }
            packet.moveReaderIndex(to: comma + 1)
        }
        switch type {
        case UInt8(ascii: "2"):
            if self.phase == .connected { self.delegate?.client(self, receivedEvent: packet) }
        case UInt8(ascii: "3"):
            if let id = Self.readInt(&packet) { self.delegate?.client(self, receivedAck: id) }
        case UInt8(ascii: "0"):
            guard self.phase == .joining else { return }
            self.phase = .connected
            self.delegate?.clientConnected(self)
        case UInt8(ascii: "5"), UInt8(ascii: "6"):
            guard let count = Self.readInt(&packet), packet.readInteger(as: UInt8.self) == UInt8(ascii: "-") else {
                self.failAndClose("malformed binary packet")
                return
            }
            self.attachmentsExpected = count
            if type == UInt8(ascii: "6") {
                self.binaryAckID = Self.readInt(&packet)
                self.binaryEvent = nil
            } else {
                self.binaryAckID = nil
                self.binaryEvent = packet
            }
            if count == 0 { self.binaryPacketComplete() }
        case UInt8(ascii: "4"):
            self.failAndClose("connect refused: \(packet.getString(at: packet.readerIndex, length: packet.readableBytes) ?? "")")
        case UInt8(ascii: "1"):
            self.failAndClose("namespace disconnect")
        default:
            break
        }
    }

    private func attachmentReceived() {
        guard self.attachmentsExpected > 0 else { return }
        self.attachmentsExpected -= 1
        if self.attachmentsExpected == 0 { self.binaryPacketComplete() }
    }

    private func binaryPacketComplete() {
        if let id = self.binaryAckID {
            self.binaryAckID = nil
            self.delegate?.client(self, receivedAck: id)
        } else if let event = self.binaryEvent {
            self.binaryEvent = nil
            if self.phase == .connected { self.delegate?.client(self, receivedEvent: event) }
        }
    }

    /// Reads a non-negative decimal integer; `nil` if there is no digit.
    static func readInt(_ buffer: inout ByteBuffer) -> Int? {
        var value = 0
        var digits = 0
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte >= 48, byte <= 57 {
            value = value &* 10 &+ Int(byte - 48)
            digits += 1
            buffer.moveReaderIndex(forwardBy: 1)
        }
        return digits > 0 ? value : nil
    }
}

@available(*, unavailable)
extension BenchWebSocketClient: Sendable {}
