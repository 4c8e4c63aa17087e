//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1
import NIOPosix

/// A server the swarm connects to.
struct BenchTarget: Sendable {
    var host: String
    var port: Int
    var path: String
    var namespace: String
    var address: SocketAddress
}

/// Every client of a scenario, opened at a given concurrency and spread over the targets
/// (round robin) and over the source addresses.
///
/// Lives on the generator's single event loop, as do all its clients, so no state here
/// needs a lock; the scenario that owns it runs there too.
final class BenchSwarm: BenchClientDelegate {
    let loop: any EventLoop
    let targets: [BenchTarget]
    let sourceAddresses: [SocketAddress]
    private(set) var clients: [BenchWebSocketClient] = []
    private var pollingClients: [BenchPollingClient] = []

    /// Scenario hooks (hot path: called for every event and ack).
    var onEvent: ((BenchWebSocketClient, ByteBuffer) -> Void)?
    var onAck: ((BenchWebSocketClient, Int) -> Void)?
    /// Called when a connected client fails after the connect phase.
    var onFailure: ((String) -> Void)?

    // Connect phase.
    private(set) var connectLatency = LatencyRecorder()
    private(set) var connected = 0
    private(set) var failed = 0
    private(set) var failureReasons: [String: Int] = [:]
    private var total = 0
    private var started = 0
    private var inFlight = 0
    private var concurrency = 1
    private var polling = false
    private var opened: EventLoopPromise<Void>?
    private var isOpening = false
    private var openDeadline: Scheduled<Void>?

    init(loop: any EventLoop, targets: [BenchTarget], sourceAddresses: [SocketAddress]) {
        self.loop = loop
        self.targets = targets
        self.sourceAddresses = sourceAddresses
    }

    /// Opens `count` clients, at most `concurrency` at a time; succeeds when every client
    /// is connected or has failed. Clients still without a handshake after `timeout` (a
    /// server that stopped accepting, say) count as failed.
    func open(count: Int, concurrency: Int, polling: Bool = false, timeout: TimeAmount = .seconds(120)) -> EventLoopFuture<Void> {
        self.loop.preconditionInEventLoop()
        let promise = self.loop.makePromise(of: Void.self)
        self.opened = promise
        self.total = count
        self.concurrency = max(1, concurrency)
        self.polling = polling
        self.isOpening = true
        self.connectLatency = LatencyRecorder(capacity: count)
        self.clients.reserveCapacity(count)
        let this = NIOLoopBound(self, eventLoop: self.loop)
        self.openDeadline = self.loop.scheduleTask(in: timeout) { this.value.openTimedOut() }
        if count == 0 { self.finishOpening() } else { self.startMore() }
        return promise.futureResult
    }

    private func startMore() {
        while self.inFlight < self.concurrency, self.started < self.total {
            let index = self.started
            self.started += 1
            self.inFlight += 1
            self.startClient(index)
        }
    }

    private func bootstrap(for index: Int) -> (ClientBootstrap, BenchTarget) {
        let target = self.targets[index % self.targets.count]
        var bootstrap = ClientBootstrap(group: self.loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(15))
        if !self.sourceAddresses.isEmpty {
            // Binding spreads clients over 127.0.N.1 so that more than one address's worth
            // of ephemeral ports (~28k) can reach one server port.
            bootstrap = bootstrap.bind(to: self.sourceAddresses[index % self.sourceAddresses.count])
        }
        return (bootstrap, target)
    }

    private func startClient(_ index: Int) {
        let (bootstrap, target) = self.bootstrap(for: index)
        let hostHeader = "\(target.host):\(target.port)"
        let startedAt = monotonicNanoseconds()
        if self.polling {
            let this = NIOLoopBound(self, eventLoop: self.loop)
            let client = BenchPollingClient(
                index: index,
                host: hostHeader,
                path: target.path,
                namespace: target.namespace,
                onConnected: { _ in this.value.connectSucceeded(startedAt: startedAt) },
                onFailed: { _, reason in this.value.clientFailed(reason: reason) }
            )
            self.pollingClients.append(client)
            let bound = NIOLoopBound(client, eventLoop: self.loop)
            bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(bound.value)
                }
            }.connect(to: target.address).whenFailure { error in bound.value.connectFailed("connect: \(error)") }
        } else {
            let client = BenchWebSocketClient(
                index: index,
                host: hostHeader,
                path: target.path,
                namespace: target.namespace,
                delegate: self
            )
            client.startedAt = startedAt
            self.clients.append(client)
            let bound = NIOLoopBound(client, eventLoop: self.loop)
            bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(bound.value) }
            }.connect(to: target.address).whenFailure { error in bound.value.connectFailed("connect: \(error)") }
        }
    }

    private func openTimedOut() {
        guard self.isOpening else { return }
        let missing = self.total - self.connected - self.failed
        self.failed += missing
        self.failureReasons["no handshake before the timeout", default: 0] += missing
        self.finishOpening()
        for client in self.clients where client.phase != .connected { client.close() }
        for client in self.pollingClients { client.closeUnlessConnected() }
    }

    private func connectSucceeded(startedAt: UInt64) {
        guard self.isOpening else { return }
        self.connectLatency.record(monotonicNanoseconds() &- startedAt)
        self.connected += 1
        self.connectFinished()
    }

    private func clientFailed(reason: String) {
        guard self.isOpening else {
            self.onFailure?(reason)
            return
        }
        guard self.connected + self.failed < self.total else { return }
        self.failed += 1
        self.failureReasons[String(reason.prefix(120)), default: 0] += 1
        self.connectFinished()
    }

    private func connectFinished() {
        self.inFlight -= 1
        if self.connected + self.failed == self.total {
            self.finishOpening()
        } else {
            self.startMore()
        }
    }

    private func finishOpening() {
        self.openDeadline?.cancel()
        self.openDeadline = nil
        self.isOpening = false
        self.opened?.succeed(())
        self.opened = nil
    }

    /// Closes every client.
    func closeAll() {
        self.onFailure = nil
        for client in self.clients { client.close() }
        for client in self.pollingClients { client.close() }
    }

    /// The clients that completed the connect phase.
    var connectedClients: [BenchWebSocketClient] {
        self.clients.filter { $0.phase == .connected }
    }

    // MARK: BenchClientDelegate

    func clientConnected(_ client: BenchWebSocketClient) {
        self.connectSucceeded(startedAt: client.startedAt)
    }

    func client(_ client: BenchWebSocketClient, receivedEvent payload: ByteBuffer) {
        self.onEvent?(client, payload)
    }

    func client(_ client: BenchWebSocketClient, receivedAck id: Int) {
        self.onAck?(client, id)
    }

    func client(_ client: BenchWebSocketClient, failed reason: String) {
        self.clientFailed(reason: reason)
    }
}

@available(*, unavailable)
extension BenchSwarm: Sendable {}
