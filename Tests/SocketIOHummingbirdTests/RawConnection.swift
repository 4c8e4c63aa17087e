//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import NIOCore
import NIOPosix

/// A TCP connection that speaks raw HTTP/1.1 and WebSocket bytes, so the tests see exactly
/// what the server writes (status, headers, and whether it closes).
final class RawConnection {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    private let channel: any Channel
    private var chunks: AsyncStream<ByteBuffer>.Iterator
    private var buffer = ByteBuffer()

    init(port: Int) async throws {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        self.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        self.chunks = stream.makeAsyncIterator()
    }

    func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// An HTTP request; `Content-Length` is added for a body.
    func request(_ method: String, _ target: String, headers: [String: String] = [:], body: String? = nil) async throws {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try await self.send(text)
    }

    /// The next response (`nil` if the connection closed first).
    func response() async -> Response? {
        guard let headEnd = await self.fill(until: { $0.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) }) else { return nil }
        let head = self.buffer.readString(length: headEnd.upperBound - self.buffer.readerIndex) ?? ""
        var lines = head.split(separator: "\r\n").map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingPrefix(" ").description)
        }
        var response = Response(status: Int(statusLine[1]) ?? 0, headers: headers, body: "")
        let length = Int(response.header("content-length") ?? "0") ?? 0
        guard await self.fill(until: { $0.readableBytes >= length ? true : nil }) != nil else { return nil }
        response.body = self.buffer.readString(length: length) ?? ""
        return response
    }

    /// The next WebSocket frame from the server (unmasked, payload under 64 KiB).
    func frame() async -> (opcode: UInt8, payload: String, bytes: [UInt8])? {
        guard await self.fill(until: { $0.readableBytes >= 2 ? true : nil }) != nil else { return nil }
        let bytes = Array(self.buffer.readableBytesView.prefix(4))
        var length = Int(bytes[1] & 0x7f)
        var headerSize = 2
        if length == 126 {
            guard await self.fill(until: { $0.readableBytes >= 4 ? true : nil }) != nil else { return nil }
            let extended = Array(self.buffer.readableBytesView.prefix(4))
            length = Int(extended[2]) << 8 | Int(extended[3])
            headerSize = 4
        }
        guard await self.fill(until: { $0.readableBytes >= headerSize + length ? true : nil }) != nil else { return nil }
        self.buffer.moveReaderIndex(forwardBy: headerSize)
        let payload = self.buffer.readBytes(length: length) ?? []
        return (bytes[0] & 0x0f, String(decoding: payload, as: UTF8.self), payload)
    }

    /// Sends a masked text frame (clients must mask).
    func sendText(_ text: String) async throws {
        let payload = Array(text.utf8)
        precondition(payload.count < 126)
        let mask: [UInt8] = [1, 2, 3, 4]
        var frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)] + mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try await self.channel.writeAndFlush(ByteBuffer(bytes: frame))
    }

    /// Whether the server closes the connection (everything it still sends is skipped).
    func closesAfterwards() async -> Bool {
        while await self.chunks.next() != nil {}
        return true
    }

    func close() async {
        try? await self.channel.close()
    }

    /// Reads until `found` gives a value, or `nil` when the connection ends first.
    private func fill<T>(until found: (ByteBuffer) -> T?) async -> T? {
        while true {
            if let value = found(self.buffer) { return value }
            guard var chunk = await self.chunks.next() else { return nil }
            self.buffer.writeBuffer(&chunk)
        }
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation

        init(continuation: AsyncStream<ByteBuffer>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.continuation.yield(self.unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.continuation.finish()
            context.fireChannelInactive()
        }
    }
}

extension ByteBufferView {
    /// The indices (in the buffer) of the first occurrence of `needle`.
    fileprivate func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard self.count >= needle.count else { return nil }
        var start = self.startIndex
        while start + needle.count <= self.endIndex {
            if self[start..<start + needle.count].elementsEqual(needle) { return start..<start + needle.count }
            start += 1
        }
        return nil
    }
}
#endif
