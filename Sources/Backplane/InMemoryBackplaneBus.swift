//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
public import NIOCore

/// An in-process pub/sub bus for tests of the cluster logic: several nodes in one process,
/// each with its own ``InMemoryBackplaneTransport``, on named channels. Faults can be
/// injected: a detached node neither sends nor receives (messages are lost, as with a dead
/// broker link). With `recording`, the bus keeps every message published on it, in order
/// (python-socketio's `TestPubSubManager` style: a test asserts on exactly what a server
/// operation published).
public final class InMemoryBackplaneBus: Sendable {
    private let transports = NIOLockedValueBox<[ObjectIdentifier: InMemoryBackplaneTransport]>([:])
    private let recorded: NIOLockedValueBox<[BackplaneMessage]>?

    public init(recording: Bool = false) {
        self.recorded = recording ? NIOLockedValueBox([]) : nil
    }

    /// A new node's transport on this bus, with `channel` as its main channel.
    public func makeTransport(
        role: BackplaneRole = .publishAndSubscribe,
        channel: String = "socketio",
        inbox: BackplaneInbox.Limits = .init()
    ) -> InMemoryBackplaneTransport {
        let transport = InMemoryBackplaneTransport(bus: self, role: role, channel: channel, limits: inbox)
        self.transports.withLockedValue { $0[ObjectIdentifier(transport)] = transport }
        return transport
    }

    /// Publishes raw bytes as if some other process did (garbage, foreign peers).
    public func inject(_ payload: ByteBuffer, to channel: String = "socketio") {
        self.deliver(BackplaneMessage(channel: channel, payload: payload), from: nil)
    }

    /// How many transports subscribe to anything (write-only ones do not, until they ask).
    public var subscriberCount: Int {
        self.transports.withLockedValue { $0.values.filter { !$0.subscriptions.isEmpty }.count }
    }

    /// Every message published on the bus so far (only with `recording`), injected ones too.
    public var recordedMessages: [BackplaneMessage] { self.recorded?.withLockedValue { $0 } ?? [] }

    /// Forgets the recorded messages.
    public func clearRecording() { self.recorded?.withLockedValue { $0.removeAll() } }

    func deliver(_ message: BackplaneMessage, from sender: InMemoryBackplaneTransport?) {
        if let sender, sender.isDetached { return }
        self.recorded?.withLockedValue { $0.append(message) }
        let targets = self.transports.withLockedValue { Array($0.values) }
        for target in targets where !target.isDetached && target.subscriptions.snapshot.matches(message.channel) {
            target.receive(message)
        }
    }
}

/// One node's view of an ``InMemoryBackplaneBus``. Like Redis pub/sub, a node also
/// receives what it publishes (on the channels it subscribes to).
public final class InMemoryBackplaneTransport: BackplaneTransport {
    private let bus: InMemoryBackplaneBus
    private let state = NIOLockedValueBox((detached: false, running: false, failure: BackplaneError?.none))
    public let channel: String
    public let messages: BackplaneInbox
    let subscriptions: BackplaneSubscriptions

    init(bus: InMemoryBackplaneBus, role: BackplaneRole, channel: String, limits: BackplaneInbox.Limits) {
        self.bus = bus
        self.channel = channel
        self.subscriptions = BackplaneSubscriptions(role.subscribes ? [.channel(channel)] : [])
        self.messages = BackplaneInbox(limits: limits)
    }

    public func publish(_ payload: ByteBuffer, to channel: String) {
        self.bus.deliver(BackplaneMessage(channel: channel, payload: payload), from: self)
    }

    public func subscribe(_ subscriptions: [BackplaneSubscription]) {
        self.subscriptions.add(subscriptions)
    }

    /// The bus delivers synchronously: nothing is ever queued.
    public var queuedMessages: Int { 0 }

    /// Subscribed while running and attached, if subscribed to anything.
    public var isSubscribed: Bool {
        !self.subscriptions.isEmpty && self.state.withLockedValue { $0.running && !$0.detached }
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

    func receive(_ message: BackplaneMessage) {
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

    /// Whether ``run()`` is running (for tests that must tell "not started" from "cut off").
    public var isRunning: Bool { self.state.withLockedValue { $0.running } }
}
