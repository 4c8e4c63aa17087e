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
        guard case .buffered = machine.send([.message("x")]) else { Issue.record("not buffered"); return }
        let probe = machine.webSocketPacketReceived(.ping(ByteBuffer(string: "probe")), from: socket, now: t0)
        #expect(probe.count == 2)
        let upgraded = machine.webSocketPacketReceived(.upgrade, from: socket, now: t0)
        guard case .write(let target, let frames) = upgraded.first else { Issue.record("no flush"); return }
        #expect(target === socket)
        #expect(texts(frames) == ["4x"])
        #expect(machine.isActiveWebSocket(socket))
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
}
