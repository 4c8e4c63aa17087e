//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//
//
// Engine.IO v4 HTTP long-polling payload (engine.io-protocol README, "HTTP long-polling"):
// packets joined by the record separator 0x1E; binary messages as `b<base64>`:
//
//   4hello\x1e2\x1e4world         4hello\x1ebAQIDBA==
//
//===----------------------------------------------------------------------===//

public import NIOCore

/// Encodes and decodes Engine.IO v4 polling payloads.
public enum EngineIOPayload {
    /// The record separator between packets.
    public static let separator: UInt8 = 0x1E

    /// Encodes frames into one polling payload.
    public static func encode<Frames: Collection>(_ frames: Frames, into buffer: inout ByteBuffer)
    where Frames.Element == EngineIOFrame {
        var size = max(0, frames.count - 1)
        for frame in frames { size += frame.payloadLength }
        buffer.reserveCapacity(minimumWritableBytes: size)
        var first = true
        for frame in frames {
            if !first { buffer.writeInteger(separator) }
            first = false
            frame.writeText(into: &buffer)
        }
    }

    /// Encodes frames into a new buffer.
    public static func encode<Frames: Collection>(_ frames: Frames) -> ByteBuffer where Frames.Element == EngineIOFrame {
        var buffer = ByteBuffer()
        encode(frames, into: &buffer)
        return buffer
    }

    /// Decodes a polling payload.
    ///
    /// - Parameter maxPackets: refuse payloads with more packets than this.
    /// - Throws: ``EngineIOParserError`` for an empty record, an unknown type, bad base64,
    ///   or too many packets.
    public static func decode(_ payload: ByteBuffer, maxPackets: Int = .max) throws(EngineIOParserError) -> [EngineIOPacket] {
        var packets: [EngineIOPacket] = []
        var remaining = payload
        while true {
            let view = remaining.readableBytesView
            let end = view.firstIndex(of: separator)
            let length = (end ?? view.endIndex) - view.startIndex
            let record = remaining.readSlice(length: length)!
            guard packets.count < maxPackets else { throw .tooManyPackets }
            packets.append(try EngineIOPacket.decode(text: record))
            if end == nil { break }
            remaining.moveReaderIndex(forwardBy: 1)
        }
        return packets
    }
}
