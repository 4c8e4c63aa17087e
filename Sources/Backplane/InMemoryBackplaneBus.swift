//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
public import NIOCore

/// An in-process pub/sub bus for tests of the cluster logic: several nodes in one process,
/// each with its own ``InMemoryBackplaneTransport``. Faults can be injected: a detached
/// node neither sends nor receives (messages are lost, as with a dead broker link).
public final class InMemoryBackplaneBus: Sendable {
    private let subscribers = NIOLockedValueBox<[ObjectIdentifier: InMemoryBackplaneTransport]>([:])

    public init() {}

    /// A new node's transport on this bus.
    public func makeTransport() -> InMemoryBackplaneTransport {
        let transport = InMemoryBackplaneTransport(bus: self)
        self.subscribers.withLockedValue { $0[ObjectIdentifier(transport)] = transport }
        return transport
    }

    /// Publishes raw bytes as if some other process did (garbage, foreign peers).
    public func inject(_ message: ByteBuffer) {
        self.deliver(message, from: nil)
    }

    func deliver(_ message: ByteBuffer, from sender: InMemoryBackplaneTransport?) {
        if let sender, sender.isDetached { return }
        let targets = self.subscribers.withLockedValue { Array($0.values) }
        for target in targets where !target.isDetached {
            target.receive(message)
        }
    }
}

/// One node's view of an ``InMemoryBackplaneBus``. Like Redis pub/sub, a node also
/// receives what it publishes.
public final class InMemoryBackplaneTransport: BackplaneTransport {
    private let bus: InMemoryBackplaneBus
    private let detached = NIOLockedValueBox(false)
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    public let messages: AsyncStream<ByteBuffer>

    init(bus: InMemoryBackplaneBus) {
        self.bus = bus
        (self.messages, self.continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    }

    public func publish(_ message: ByteBuffer) {
        self.bus.deliver(message, from: self)
    }

    /// The bus delivers synchronously: nothing is ever queued.
    public var queuedMessages: Int { 0 }

    public func run() async throws {
        // Nothing to connect; serve until cancelled.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        self.continuation.finish()
    }

    func receive(_ message: ByteBuffer) {
        self.continuation.yield(message)
    }

    /// Cuts this node off the bus (fault injection) or reattaches it.
    public func setDetached(_ detached: Bool) {
        self.detached.withLockedValue { $0 = detached }
    }

    var isDetached: Bool { self.detached.withLockedValue { $0 } }
}
