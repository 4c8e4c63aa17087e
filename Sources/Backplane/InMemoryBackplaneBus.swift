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
    public func makeTransport(role: BackplaneRole = .publishAndSubscribe, inbox: BackplaneInbox.Limits = .init()) -> InMemoryBackplaneTransport {
        let transport = InMemoryBackplaneTransport(bus: self, role: role, limits: inbox)
        if role.subscribes {
            self.subscribers.withLockedValue { $0[ObjectIdentifier(transport)] = transport }
        }
        return transport
    }

    /// Publishes raw bytes as if some other process did (garbage, foreign peers).
    public func inject(_ message: ByteBuffer) {
        self.deliver(message, from: nil)
    }

    /// How many transports subscribe (write-only ones do not).
    public var subscriberCount: Int { self.subscribers.withLockedValue { $0.count } }

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
    private let role: BackplaneRole
    private let state = NIOLockedValueBox((detached: false, running: false, failure: BackplaneError?.none))
    public let messages: BackplaneInbox

    init(bus: InMemoryBackplaneBus, role: BackplaneRole, limits: BackplaneInbox.Limits) {
        self.bus = bus
        self.role = role
        self.messages = BackplaneInbox(limits: limits)
    }

    public func publish(_ message: ByteBuffer) {
        self.bus.deliver(message, from: self)
    }

    /// The bus delivers synchronously: nothing is ever queued.
    public var queuedMessages: Int { 0 }

    /// Subscribed while running and attached.
    public var isSubscribed: Bool {
        self.role.subscribes && self.state.withLockedValue { $0.running && !$0.detached }
    }

    public func run() async throws {
        self.state.withLockedValue { $0.running = true }
        defer {
            self.state.withLockedValue { $0.running = false }
            self.messages.finish()
        }
        // Nothing to connect; serve until cancelled, or until a failure is injected.
        while !Task.isCancelled {
            if let failure = self.state.withLockedValue({ $0.failure }) { throw failure }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func receive(_ message: ByteBuffer) {
        self.messages.push(message)
    }

    /// Cuts this node off the bus (fault injection) or reattaches it.
    public func setDetached(_ detached: Bool) {
        self.state.withLockedValue { $0.detached = detached }
    }

    /// Makes `run()` throw (fault injection: a transport thread that died).
    public func fail(_ error: BackplaneError) {
        self.state.withLockedValue { $0.failure = error }
    }

    var isDetached: Bool { self.state.withLockedValue { $0.detached } }
}
