//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import NIOCore
import Testing

/// The session state machine alone: polls are integers, sockets are tokens, time is given.
struct SessionStateMachineTests {
    final class Socket {}
    typealias Machine = EngineIOSessionStateMachine<Int, Socket>
    private let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)

    private func machine(webSocket: Socket? = nil) -> Machine {
        Machine(now: t0, webSocket: webSocket, pingInterval: .milliseconds(300), pingTimeout: .milliseconds(200), upgradeTimeout: .milliseconds(1000))
    }

    private func texts(_ frames: [EngineIOFrame]) -> [String] {
        frames.map { frame in
            var buffer = ByteBuffer()
            frame.writeText(into: &buffer)
            return String(buffer: buffer)
        }
    }

    @Test func framesWaitForTheNextPoll() {
        var machine = self.machine()
        guard case .buffered = machine.send([.message("a")]) else { Issue.record("not buffered"); return }
        guard case .buffered = machine.send([.message("b")]) else { Issue.record("not buffered"); return }
        let actions = machine.pollReceived(1)
        guard case .respond(1, let frames) = actions.first else { Issue.record("no response"); return }
        #expect(texts(frames) == ["4a", "4b"])
        let parked2 = machine.pollReceived(2)
        #expect(parked2.isEmpty)
        guard case .respond(2, let next) = machine.send([.message("c")]) else { Issue.record("not sent"); return }
        #expect(texts(next) == ["4c"])
    }

    @Test func pingIsDeliveredThroughTheTransport() {
        var machine = self.machine()
        let parked = machine.pollReceived(1)
        #expect(parked.isEmpty)
        #expect(machine.nextDeadline == t0 + .milliseconds(300))
        let actions = machine.timerFired(now: t0 + .milliseconds(300))
        guard case .respond(1, let frames) = actions.first else { Issue.record("no ping"); return }
        #expect(texts(frames) == ["2"])
        let timeout = machine.timerFired(now: t0 + .milliseconds(500))
        guard case .closed(let reason) = timeout.last else { Issue.record("not closed"); return }
        #expect(reason == .pingTimeout)
        #expect(machine.isClosed)
    }

    @Test func upgradeFlushesBufferedFramesToTheWebSocket() {
        var machine = self.machine()
        let socket = Socket()
        let parked = machine.pollReceived(1)
        #expect(parked.isEmpty)
        let accepted = machine.upgradeRequested(probe: socket, now: t0)
        let second = machine.upgradeRequested(probe: Socket(), now: t0)
        #expect(accepted)
        #expect(!second)
        // Polling is the transport until the upgrade completes: the pending GET takes the
        // first send, and the next one waits.
        guard case .respond(1, let first) = machine.send([.message("x")]) else { Issue.record("not on the GET"); return }
        #expect(texts(first) == ["4x"])
        guard case .buffered = machine.send([.message("y")]) else { Issue.record("not buffered"); return }
        let probe = machine.webSocketPacketReceived(.ping(ByteBuffer(string: "probe")), from: socket, now: t0)
        #expect(summary(probe, socket) == ["write socket 3probe", "startUpgradeCheck 100ms"])
        let upgraded = machine.webSocketPacketReceived(.upgrade, from: socket, now: t0)
        #expect(summary(upgraded, socket) == ["stopUpgradeCheck", "upgraded socket", "write socket 4y"])
        #expect(machine.isActiveWebSocket(socket))
    }

    // MARK: The upgrade check (Node `_maybeUpgrade`: a noop every 100 ms while writable)

    /// The actions as text, the probe socket named `socket`.
    private func summary(_ actions: [Machine.Action], _ socket: Socket) -> [String] {
        actions.map { action in
            func name(_ other: Socket) -> String { other === socket ? "socket" : "other socket" }
            switch action {
            case .respond(let poll, let frames): return "respond \(poll) " + texts(frames).joined(separator: " ")
            case .reject(let poll, let error): return "reject \(poll) \(error)"
            case .write(let target, let frames): return "write \(name(target)) " + texts(frames).joined(separator: " ")
            case .closeSocket(let target): return "closeSocket \(name(target))"
            case .goAway(let target): return "goAway \(name(target))"
            case .deliver: return "deliver"
            case .startUpgradeCheck(let interval): return "startUpgradeCheck \(interval.nanoseconds / 1_000_000)ms"
            case .stopUpgradeCheck: return "stopUpgradeCheck"
            case .upgraded(let target): return "upgraded \(name(target))"
            case .closed(let reason): return "closed \(reason)"
            }
        }
    }

    /// A polling session with GET 1 pending and `socket` probed.
    private func probedMachine(_ socket: Socket) -> Machine {
        var machine = self.machine()
        let parked = machine.pollReceived(1)
        #expect(parked.isEmpty)
        let accepted = machine.upgradeRequested(probe: socket, now: t0)
        #expect(accepted)
        let probe = machine.webSocketPacketReceived(.ping(ByteBuffer(string: "probe")), from: socket, now: t0)
        #expect(summary(probe, socket) == ["write socket 3probe", "startUpgradeCheck 100ms"])
        #expect(machine.isUpgradeCheckRunning)
        return machine
    }

    @Test func probeKeepsThePendingGetForWhatIsSentNext() {
        let socket = Socket()
        var machine = self.probedMachine(socket)
        // The CONNECT reply sent right after the probe leaves on the pending GET.
        guard case .respond(1, let frames) = machine.send([.message("40")]) else { Issue.record("not on the GET"); return }
        #expect(texts(frames) == ["440"])
        // Nothing pending: the check has nothing to release.
        let check = machine.upgradeCheckFired()
        #expect(summary(check, socket).isEmpty)
        #expect(machine.isUpgradeCheckRunning)
    }

    @Test func upgradeCheckReleasesAPendingGetWithANoop() {
        let socket = Socket()
        var machine = self.probedMachine(socket)
        let released = machine.upgradeCheckFired()
        #expect(summary(released, socket) == ["respond 1 6"])
        let nothingPending = machine.upgradeCheckFired()
        #expect(summary(nothingPending, socket).isEmpty)
        // A GET during the upgrade is held, then released by the next check.
        let held = machine.pollReceived(2)
        #expect(held.isEmpty)
        let releasedLater = machine.upgradeCheckFired()
        #expect(summary(releasedLater, socket) == ["respond 2 6"])
        // A GET while frames wait takes them at once.
        guard case .buffered = machine.send([.message("m")]) else { Issue.record("not buffered"); return }
        let answered = machine.pollReceived(3)
        #expect(summary(answered, socket) == ["respond 3 4m"])
    }

    @Test func aSecondProbeStartsNoSecondCheck() {
        let socket = Socket()
        var machine = self.probedMachine(socket)
        let again = machine.webSocketPacketReceived(.ping(ByteBuffer(string: "probe")), from: socket, now: t0)
        #expect(summary(again, socket) == ["write socket 3probe"])
        #expect(machine.isUpgradeCheckRunning)
    }

    @Test func noCheckBeforeTheProbe() {
        let socket = Socket()
        var machine = self.machine()
        let parked = machine.pollReceived(1)
        #expect(parked.isEmpty)
        let accepted = machine.upgradeRequested(probe: socket, now: t0)
        #expect(accepted)
        #expect(!machine.isUpgradeCheckRunning)
        // A check the machine did not start stops itself.
        let stale = machine.upgradeCheckFired()
        #expect(summary(stale, socket) == ["stopUpgradeCheck"])
        // The GET stays pending.
        guard case .respond(1, _) = machine.send([.message("x")]) else { Issue.record("GET not pending"); return }
    }

    /// Every way out of an upgrade after the probe.
    enum UpgradeEnd: String, CaseIterable, CustomTestStringConvertible {
        case completed, badProbePacket, probeClosed, probeParseError, timedOut, serverClose, serverShutdown, clientClose
        var testDescription: String { self.rawValue }
    }

    @Test(arguments: UpgradeEnd.allCases)
    func upgradeCheckStopsWhenTheUpgradeEnds(_ end: UpgradeEnd) {
        let socket = Socket()
        var machine = self.probedMachine(socket)
        let actions: [Machine.Action]
        switch end {
        case .completed: actions = machine.webSocketPacketReceived(.upgrade, from: socket, now: t0)
        case .badProbePacket: actions = machine.webSocketPacketReceived(.message(.text("x")), from: socket, now: t0)
        case .probeClosed: actions = machine.webSocketClosed(socket, reason: .transportClose)
        case .probeParseError: actions = machine.webSocketParseError(from: socket)
        case .timedOut: actions = machine.timerFired(now: t0 + .milliseconds(1000))
        case .serverClose: actions = machine.close(reason: .forcedClose, now: t0)
        case .serverShutdown: actions = machine.close(reason: .serverShuttingDown, now: t0)
        case .clientClose: actions = machine.packetReceived(.close, now: t0)
        }
        #expect(summary(actions, socket).filter { $0 == "stopUpgradeCheck" }.count == 1)
        #expect(!machine.isUpgradeCheckRunning)
        // A late firing changes nothing but stops the check.
        let late = summary(machine.upgradeCheckFired(), socket)
        #expect(late == ["stopUpgradeCheck"])
    }

    @Test func closingWebSocketSessionSendsCloseThenClosesSocket() {
        let socket = Socket()
        var machine = self.machine(webSocket: socket)
        let actions = machine.close(reason: .forcedClose, now: t0)
        #expect(actions.count == 3)
        guard case .write(_, let frames) = actions[0], case .closeSocket = actions[1], case .closed(.forcedClose) = actions[2] else {
            Issue.record("unexpected \(actions)")
            return
        }
        #expect(texts(frames) == ["1"])
        guard case .dropped = machine.send([.message("late")]) else { Issue.record("not dropped"); return }
    }

    @Test func forcedCloseWithoutPendingGetWaitsForTheNextGet() {
        var machine = self.machine()
        let closing = machine.close(reason: .forcedClose, now: t0)
        #expect(closing.isEmpty)
        #expect(machine.nextDeadline == t0 + .seconds(30))
        let actions = machine.pollReceived(7)
        guard case .respond(7, let frames) = actions.first, case .closed(.forcedClose) = actions.last else {
            Issue.record("unexpected \(actions)")
            return
        }
        #expect(texts(frames) == ["1"])
    }

    @Test func closingTimesOutWithoutAGet() {
        var machine = self.machine()
        _ = machine.close(reason: .forcedClose, now: t0)
        let actions = machine.timerFired(now: t0 + .seconds(30))
        guard case .closed(.forcedClose) = actions.last else { Issue.record("unexpected \(actions)"); return }
    }

    // MARK: Shutdown (no `1`: clients take it for a lost transport and reconnect)

    @Test func shutdownClosesAWebSocketAsGoingAwayWithoutAClosePacket() {
        let socket = Socket()
        var machine = self.machine(webSocket: socket)
        guard case .write(_, let frames) = machine.send([.message("last")]) else { Issue.record("not written"); return }
        #expect(texts(frames) == ["4last"])
        let actions = machine.close(reason: .serverShuttingDown, now: t0)
        #expect(summary(actions, socket) == ["goAway socket", "closed server shutting down"])
        #expect(machine.isClosed)
        #expect(machine.nextDeadline == nil)
        guard case .dropped = machine.send([.message("late")]) else { Issue.record("not dropped"); return }
    }

    @Test func shutdownAnswersAHeldGetWithANoopAndForgetsTheSession() {
        let socket = Socket()
        var machine = self.machine()
        #expect(machine.pollReceived(1).isEmpty)
        let actions = machine.close(reason: .serverShuttingDown, now: t0)
        #expect(summary(actions, socket) == ["respond 1 6", "closed server shutting down"])
        // The client's next GET is refused as for an unknown session: a transport error.
        #expect(summary(machine.pollReceived(2), socket) == ["reject 2 \(EngineIORequestError.unknownSessionID)"])
    }

    @Test func shutdownAfterAGetTookTheBufferLeavesNothingForTheNextGet() {
        let socket = Socket()
        var machine = Machine(now: t0, webSocket: nil, pingInterval: .milliseconds(300), pingTimeout: .milliseconds(200), maxPacketsPerPoll: 2)
        for text in ["a", "b", "c"] {
            guard case .buffered = machine.send([.message(text)]) else { Issue.record("not buffered"); return }
        }
        // Buffered frames go first: the GET takes what fits, in order.
        #expect(summary(machine.pollReceived(1), socket) == ["respond 1 4a 4b"])
        #expect(summary(machine.pollReceived(2), socket) == ["respond 2 4c"])
        #expect(machine.pollReceived(3).isEmpty)
        let actions = machine.close(reason: .serverShuttingDown, now: t0)
        #expect(summary(actions, socket) == ["respond 3 6", "closed server shutting down"])
    }

    @Test func shutdownWithoutAHeldGetLeavesTheBufferToTheNextGets() {
        let socket = Socket()
        var machine = Machine(now: t0, webSocket: nil, pingInterval: .milliseconds(300), pingTimeout: .milliseconds(200), maxPacketsPerPoll: 2)
        for text in ["a", "b", "c"] {
            guard case .buffered = machine.send([.message(text)]) else { Issue.record("not buffered"); return }
        }
        // No `1` queued: the buffered frames wait for the client's next GETs.
        #expect(machine.close(reason: .serverShuttingDown, now: t0).isEmpty)
        #expect(machine.nextDeadline == t0 + .seconds(5))
        guard case .dropped = machine.send([.message("late")]) else { Issue.record("not dropped"); return }
        #expect(summary(machine.pollReceived(1), socket) == ["respond 1 4a 4b"])
        #expect(summary(machine.pollReceived(2), socket) == ["respond 2 4c", "closed server shutting down"])
        #expect(summary(machine.pollReceived(3), socket) == ["reject 3 \(EngineIORequestError.unknownSessionID)"])
    }

    @Test func shutdownGivesUpOnAGetThatDoesNotCome() {
        let socket = Socket()
        var machine = self.machine()
        guard case .buffered = machine.send([.message("waiting")]) else { Issue.record("not buffered"); return }
        #expect(machine.close(reason: .serverShuttingDown, now: t0).isEmpty)
        #expect(machine.timerFired(now: t0 + .seconds(4)).isEmpty)
        #expect(summary(machine.timerFired(now: t0 + .seconds(5)), socket) == ["closed server shutting down"])
    }

    @Test func shutdownWithNothingToSendAndNoGetClosesAtOnce() {
        let socket = Socket()
        var machine = self.machine()
        #expect(summary(machine.close(reason: .serverShuttingDown, now: t0), socket) == ["closed server shutting down"])
    }

    @Test func shutdownShortensAForcedCloseThatWaitsForAGet() {
        var machine = self.machine()
        #expect(machine.close(reason: .forcedClose, now: t0).isEmpty)
        #expect(machine.nextDeadline == t0 + .seconds(30))
        #expect(machine.close(reason: .serverShuttingDown, now: t0 + .seconds(1)).isEmpty)
        #expect(machine.nextDeadline == t0 + .seconds(6))
        guard case .closed(.forcedClose) = machine.timerFired(now: t0 + .seconds(6)).last else { Issue.record("not closed"); return }
    }

    @Test func shutdownDuringAnUpgradeReleasesTheGetAndTheProbe() {
        let socket = Socket()
        var machine = self.probedMachine(socket)
        let actions = machine.close(reason: .serverShuttingDown, now: t0)
        #expect(summary(actions, socket) == ["stopUpgradeCheck", "goAway socket", "respond 1 6", "closed server shutting down"])
    }

    /// Every other server-side close keeps its `1`.
    @Test(arguments: [EngineIOCloseReason.forcedClose, .pingTimeout, .transportError, .parseError])
    func otherClosesStillSendTheClosePacket(_ reason: EngineIOCloseReason) {
        let socket = Socket()
        var webSocket = self.machine(webSocket: socket)
        #expect(summary(webSocket.close(reason: reason, now: t0), socket) == ["write socket 1", "closeSocket socket", "closed \(reason)"])
        var polling = self.machine()
        #expect(polling.pollReceived(1).isEmpty)
        #expect(summary(polling.close(reason: reason, now: t0), socket) == ["respond 1 1", "closed \(reason)"])
    }
}
