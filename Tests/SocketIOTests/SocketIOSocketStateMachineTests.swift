//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
@testable import SocketIO
import Testing

/// The socket's lifecycle, outbound gate, mailbox and acks alone: events, reasons and ack
/// waiters are strings, barriers are integers, and every race is a chosen order of calls.
struct SocketIOSocketStateMachineTests {
    typealias Machine = SocketIOSocketStateMachine<String, String, Int, String>

    private let disconnect: [EngineIOFrame] = [.message("DISCONNECT")]

    private func machine(
        _ order: Machine.HandlerOrder = .sequential,
        maxQueuedEvents: Int = 0,
        maxPendingAcks: Int = 0
    ) -> Machine {
        Machine(order: order, maxQueuedEvents: maxQueuedEvents, maxPendingAcks: maxPendingAcks)
    }

    /// A machine whose connect handler accepted, whose reply is out and whose connect job
    /// ended with nothing queued: idle and connected.
    private func connected(
        _ order: Machine.HandlerOrder = .sequential,
        maxQueuedEvents: Int = 0,
        maxPendingAcks: Int = 0
    ) -> Machine {
        var machine = self.machine(order, maxQueuedEvents: maxQueuedEvents, maxPendingAcks: maxPendingAcks)
        #expect(machine.start() == .startDrainTask(.runConnectHandler))
        #expect(machine.joinStarted() == true)
        #expect(machine.joinFinished() == nil)
        #expect(machine.connectAccepted() == [])
        #expect(machine.connectReplySent() == .done)
        #expect(machine.jobFinished() == Machine.TaskStep(actions: [], next: nil))
        #expect(machine.isIdle)
        return machine
    }

    private func step(_ actions: [Machine.Action] = [], next: Machine.Job? = nil) -> Machine.TaskStep {
        Machine.TaskStep(actions: actions, next: next)
    }

    // MARK: Connecting and the CONNECT reply

    @Test func framesSentWhileConnectingWaitBehindTheReply() {
        var machine = self.machine()
        #expect(machine.start() == .startDrainTask(.runConnectHandler))
        #expect(machine.deliver([.message("a")]) == .holdBehindConnect)
        #expect(machine.deliver([.message("b")]) == .holdBehindConnect)
        #expect(!machine.isConnected)
        #expect(machine.connectAccepted() == [[.message("a")], [.message("b")]])
        #expect(machine.isConnected)
        // Sent by another thread while the reply is with the transport: still behind it.
        #expect(machine.deliver([.message("c")]) == .holdBehindConnect)
        #expect(machine.connectReplySent() == .sendNow([.message("c")]))
        #expect(machine.connectReplySent() == .done)
        #expect(machine.deliver([.message("d")]) == .sendNow)
    }

    @Test func aDisconnectRacingTheReplyGoesOutAfterIt() {
        var machine = self.machine()
        _ = machine.start()
        #expect(machine.connectAccepted() == [])
        #expect(machine.deliver([.message("late")]) == .holdBehindConnect)
        let ended = machine.end(reason: "server disconnect", notice: self.disconnect)
        // Nothing is sent by `end` itself: the DISCONNECT waits for the reply's sender.
        #expect(ended == [])
        #expect(!machine.isConnected)
        #expect(machine.phase == .disconnecting)
        #expect(machine.deliver([.message("dropped")]) == .drop)
        #expect(machine.connectReplySent() == .sendNow([.message("late")] + self.disconnect))
        #expect(machine.connectReplySent() == .done)
        #expect(machine.deliver([.message("after")]) == .drop)
        // The connect job ends; the ending sequence follows it.
        #expect(machine.jobFinished() == self.step(next: .runDisconnectingHandler("server disconnect")))
    }

    @Test func anEndWithoutNoticeDuringTheReplyLetsQueuedFramesOut() {
        var machine = self.machine()
        _ = machine.start()
        _ = machine.connectAccepted()
        _ = machine.deliver([.message("x")])
        #expect(machine.end(reason: "transport close", notice: nil) == [])
        #expect(machine.connectReplySent() == .sendNow([.message("x")]))
        #expect(machine.connectReplySent() == .done)

        var empty = self.machine()
        _ = empty.start()
        _ = empty.connectAccepted()
        #expect(empty.end(reason: "transport close", notice: nil) == [])
        #expect(empty.connectReplySent() == .done)
    }

    @Test func aConnectedSocketSendsItsDisconnectAtOnce() {
        var machine = self.connected()
        #expect(machine.deliver([.message("a")]) == .sendNow)
        #expect(
            machine.end(reason: "server disconnect", notice: self.disconnect)
                == [.sendNow(self.disconnect), .startDrainTask(.runDisconnectingHandler("server disconnect"))]
        )
        #expect(machine.deliver([.message("b")]) == .drop)
        #expect(machine.end(reason: "again", notice: self.disconnect) == nil)
    }

    @Test func aRefusalDropsWhatWaitedAndRunsNoDisconnectHandler() {
        var machine = self.machine(maxQueuedEvents: 2)
        _ = machine.start()
        #expect(machine.deliver([.message("emitted in connect")]) == .holdBehindConnect)
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .queued)
        #expect(machine.receiveEvent("e2", inlineEligible: true) == .queuedAndPauseReading)
        #expect(machine.enqueueBarrier(1) == .queued)
        #expect(machine.isReadPaused)
        #expect(machine.reserveAck("w", id: 0) == .send)
        let connectError: [EngineIOFrame] = [.message("CONNECT_ERROR")]
        #expect(
            machine.connectRefused(notice: connectError)
                == [.sendNow(connectError), .leaveRooms, .failAcks(["w"]), .resumeReading, .resumeBarrier(1)]
        )
        #expect(machine.phase == .disconnected)
        #expect(machine.isMailboxClosed)
        #expect(machine.connectAccepted() == nil)
        #expect(machine.deliver([.message("x")]) == .drop)
        // The connect job ends: nothing else runs.
        #expect(machine.jobFinished() == self.step())
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .dropped)
        #expect(machine.end(reason: "transport close", notice: nil) == nil)
        #expect(machine.enqueueBarrier(2) == .resumeBarrier(2))
    }

    @Test func aRefusalAfterAlwaysConnectTellsTheClientDisconnect() {
        var machine = self.machine()
        _ = machine.start()
        // `alwaysConnect`: accepted before the connect handler runs.
        #expect(machine.connectAccepted() == [])
        #expect(machine.connectReplySent() == .done)
        #expect(machine.isConnected)
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .queued)
        #expect(machine.connectRefused(notice: self.disconnect) == [.sendNow(self.disconnect), .leaveRooms])
        #expect(!machine.isConnected)
        #expect(machine.jobFinished() == self.step())
    }

    @Test func aRefusalAfterTheSocketEndedIsIgnored() {
        var machine = self.machine()
        _ = machine.start()
        _ = machine.connectAccepted()
        _ = machine.connectReplySent()
        _ = machine.end(reason: "client disconnect", notice: nil)
        #expect(machine.connectRefused(notice: self.disconnect) == [])
        // The client was connected and left: its disconnect handlers still run.
        #expect(machine.jobFinished() == self.step(next: .runDisconnectingHandler("client disconnect")))
    }

    @Test func anEndWhileConnectingLeavesAtOnceAndRunsNoHandler() {
        var machine = self.machine()
        _ = machine.start()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .queued)
        #expect(machine.enqueueBarrier(7) == .queued)
        #expect(machine.reserveAck("w", id: 0) == .send)
        #expect(
            machine.end(reason: "transport close", notice: self.disconnect)
                == [.sendNow(self.disconnect), .leaveRooms, .failAcks(["w"]), .resumeBarrier(7)]
        )
        #expect(machine.phase == .disconnected)
        // The connect handler, still running, accepts too late.
        #expect(machine.connectAccepted() == nil)
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isIdle)
        #expect(machine.end(reason: "again", notice: nil) == nil)
    }

    @Test func anEndBeforeStartStartsNothing() {
        var machine = self.machine()
        #expect(machine.end(reason: "transport close", notice: nil) == [.leaveRooms])
        #expect(machine.start() == nil)
        #expect(machine.isIdle)
    }

    // MARK: Joining the namespace

    @Test func anEndBeforeTheJoinLeavesOnceAndTheSocketNeverJoins() {
        var machine = self.machine()
        _ = machine.start()
        // The transport closes while a middleware awaits.
        #expect(machine.end(reason: "transport close", notice: nil) == [.leaveRooms])
        #expect(machine.joinStarted() == false)
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isIdle)
    }

    @Test func anEndDuringTheJoinLeavesOnceTheJoinIsDone() {
        var machine = self.machine()
        _ = machine.start()
        #expect(machine.joinStarted() == true)
        // From another thread while the adapter adds the socket: leaving now could run
        // before the join, which would leave the socket in the adapter for good.
        #expect(machine.end(reason: "transport close", notice: self.disconnect) == [.sendNow(self.disconnect)])
        #expect(machine.joinFinished() == .leaveRooms)
        #expect(machine.connectRefused(notice: self.disconnect) == [])
        #expect(machine.jobFinished() == self.step())
    }

    @Test func aMiddlewareRefusalLeavesOnceWithoutJoining() {
        var machine = self.machine()
        _ = machine.start()
        let connectError: [EngineIOFrame] = [.message("CONNECT_ERROR")]
        // Left although never joined: an empty child namespace may have to go.
        #expect(machine.connectRefused(notice: connectError) == [.sendNow(connectError), .leaveRooms])
        #expect(machine.joinStarted() == false)
        #expect(machine.end(reason: "transport close", notice: nil) == nil)
    }

    @Test func aJoinedSocketLeavesOnceWhenRefused() {
        var machine = self.machine()
        _ = machine.start()
        #expect(machine.joinStarted() == true)
        #expect(machine.joinFinished() == nil)
        #expect(machine.connectRefused(notice: self.disconnect) == [.sendNow(self.disconnect), .leaveRooms])
        #expect(machine.end(reason: "transport close", notice: nil) == nil)
        #expect(machine.jobFinished() == self.step())
    }

    // MARK: Order of handlers

    @Test func theConnectHandlerRunsBeforeAnyEvent() {
        var machine = self.machine()
        // Even before `start`, an event must not overtake the connect handler.
        #expect(machine.receiveEvent("early", inlineEligible: true) == .queued)
        #expect(machine.start() == .startDrainTask(.runConnectHandler))
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .queued)
        _ = machine.connectAccepted()
        _ = machine.connectReplySent()
        #expect(machine.jobFinished() == self.step(next: .runHandler("early")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e1")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func eventsRunOneAtATimeInArrivalOrder() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .queued)
        // A synchronous handler may not overtake the queue either.
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .queued)
        #expect(machine.runningEvents == 1)
        #expect(machine.jobFinished() == self.step(next: .runHandler("e2")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e3")))
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isIdle)
        #expect(machine.receiveEvent("e4", inlineEligible: false) == .startDrainTask(.runHandler("e4")))
    }

    @Test func aSynchronousHandlerRunsInlineWhenNothingWaits() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        #expect(!machine.isIdle)
        #expect(machine.inlineRunFinished(failure: nil) == [])
        #expect(machine.isIdle)
    }

    @Test func eventsArrivingDuringAnInlineRunQueueBehindIt() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        // From another thread while e1's handler runs.
        #expect(machine.receiveEvent("e2", inlineEligible: true) == .queued)
        #expect(machine.receiveEvent("e3", inlineEligible: false) == .queued)
        #expect(machine.inlineRunFinished(failure: nil) == [.startDrainTask(.runHandler("e2"))])
        #expect(machine.jobFinished() == self.step(next: .runHandler("e3")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func anInlineHandlerErrorGoesFirstInTheMailbox() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        #expect(machine.receiveEvent("e2", inlineEligible: true) == .queued)
        #expect(machine.inlineRunFinished(failure: "error of e1") == [.startDrainTask(.runHandler("error of e1"))])
        #expect(machine.jobFinished() == self.step(next: .runHandler("e2")))
        #expect(machine.jobFinished() == self.step())

        var alone = self.connected()
        #expect(alone.receiveEvent("e1", inlineEligible: true) == .runInline)
        #expect(alone.inlineRunFinished(failure: "error of e1") == [.startDrainTask(.runHandler("error of e1"))])
    }

    @Test func anEndDuringAnInlineRunWaitsForIt() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        #expect(machine.end(reason: "client disconnect", notice: nil) == [])
        #expect(machine.phase == .disconnecting)
        #expect(
            machine.inlineRunFinished(failure: "error of e1")
                == [.startDrainTask(.runHandler("error of e1"))]
        )
        #expect(machine.jobFinished() == self.step(next: .runDisconnectingHandler("client disconnect")))
    }

    // MARK: Ending

    @Test func theDisconnectingHandlerSeesTheRoomsThenTheyAreLeftThenDisconnectRuns() {
        var machine = self.connected()
        #expect(machine.end(reason: "client disconnect", notice: nil) == [.startDrainTask(.runDisconnectingHandler("client disconnect"))])
        #expect(machine.phase == .disconnecting)
        #expect(machine.jobFinished() == self.step([.leaveRooms], next: .runDisconnectHandler("client disconnect")))
        #expect(machine.phase == .disconnected)
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isMailboxClosed)
        #expect(machine.isIdle)
    }

    @Test func withoutADisconnectingHandlerTheRoomsAreLeftAtOnce() {
        var machine = self.connected()
        #expect(machine.reserveAck("w", id: 4) == .send)
        #expect(
            machine.end(reason: "client disconnect", notice: nil, disconnecting: false)
                == [.leaveRooms, .failAcks(["w"]), .startDrainTask(.runDisconnectHandler("client disconnect"))]
        )
        #expect(machine.phase == .disconnected)
        #expect(machine.receiveEvent("late", inlineEligible: true) == .dropped)
        #expect(machine.enqueueBarrier(1) == .queued)
        #expect(machine.jobFinished() == self.step([.resumeBarrier(1)]))
        #expect(machine.isMailboxClosed)
    }

    @Test func withoutADisconnectingHandlerEarlierEventsStillRunFirst() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.end(reason: "client disconnect", notice: nil, disconnecting: false) == [.leaveRooms])
        #expect(machine.jobFinished() == self.step(next: .runDisconnectHandler("client disconnect")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func eventsBeforeTheEndStillRunAndLaterOnesAreDropped() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .queued)
        #expect(machine.end(reason: "client disconnect", notice: nil) == [])
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .dropped)
        #expect(machine.jobFinished() == self.step(next: .runHandler("e2")))
        #expect(machine.jobFinished() == self.step(next: .runDisconnectingHandler("client disconnect")))
        #expect(machine.jobFinished() == self.step([.leaveRooms], next: .runDisconnectHandler("client disconnect")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func aBarrierResumesAfterWhatWasQueuedBeforeIt() {
        var machine = self.connected()
        #expect(machine.enqueueBarrier(0) == .resumeBarrier(0))
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.enqueueBarrier(1) == .queued)
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .queued)
        #expect(machine.enqueueBarrier(2) == .queued)
        #expect(machine.jobFinished() == self.step([.resumeBarrier(1)], next: .runHandler("e2")))
        #expect(machine.jobFinished() == self.step([.resumeBarrier(2)]))
    }

    @Test func aBarrierQueuedBeforeTheDisconnectWaitsForTheDisconnectHandler() {
        var machine = self.connected()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.enqueueBarrier(1) == .queued)
        #expect(machine.end(reason: "client disconnect", notice: nil) == [])
        // Queued after the end, before the disconnect handler ran: it waits for it.
        #expect(machine.enqueueBarrier(2) == .queued)
        #expect(machine.jobFinished() == self.step([.resumeBarrier(1)], next: .runDisconnectingHandler("client disconnect")))
        #expect(machine.enqueueBarrier(3) == .queued)
        #expect(machine.jobFinished() == self.step([.leaveRooms], next: .runDisconnectHandler("client disconnect")))
        #expect(machine.enqueueBarrier(4) == .queued)
        #expect(machine.jobFinished() == self.step([.resumeBarrier(2), .resumeBarrier(3), .resumeBarrier(4)]))
        #expect(machine.enqueueBarrier(5) == .resumeBarrier(5))
    }

    @Test func theEndFailsPendingAcksAndRefusesNewOnes() {
        var machine = self.connected()
        #expect(machine.reserveAck("a", id: 0) == .send)
        #expect(machine.reserveAck("b", id: 1) == .send)
        #expect(machine.reserveAck("c", id: 2) == .send)
        #expect(machine.resolveAck(id: 1) == "b")
        #expect(
            machine.end(reason: "transport close", notice: nil)
                == [.failAcks(["a", "c"]), .startDrainTask(.runDisconnectingHandler("transport close"))]
        )
        #expect(machine.pendingAckCount == 0)
        // A timer firing or a client answering after the end finds nothing.
        #expect(machine.resolveAck(id: 0) == nil)
        // A handler still running emits with an ack: it fails at once.
        #expect(machine.reserveAck("d", id: 3) == .failDisconnected("d"))
    }

    // MARK: Backpressure

    @Test func aFullMailboxPausesReadingAndResumesAtHalf() {
        var machine = self.connected(maxQueuedEvents: 4)
        #expect(machine.receiveEvent("e0", inlineEligible: false) == .startDrainTask(.runHandler("e0")))
        // The running handler is not counted: four waiting events pause reading.
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .queued)
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .queued)
        #expect(machine.receiveEvent("e3", inlineEligible: false) == .queued)
        #expect(machine.receiveEvent("e4", inlineEligible: false) == .queuedAndPauseReading)
        #expect(machine.isReadPaused)
        // Over polling one POST may bring more: nothing is dropped.
        for n in 5...6 {
            #expect(machine.receiveEvent("e\(n)", inlineEligible: false) == .queued)
        }
        // 6 wait: 5, 4, 3 after the next pops, then 2 (half of 4) resumes.
        #expect(machine.jobFinished() == self.step(next: .runHandler("e1")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e2")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e3")))
        #expect(machine.jobFinished() == self.step([.resumeReading], next: .runHandler("e4")))
        #expect(!machine.isReadPaused)
        #expect(machine.jobFinished() == self.step(next: .runHandler("e5")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e6")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func withoutALimitReadingNeverPauses() {
        var machine = self.connected(maxQueuedEvents: 0)
        _ = machine.receiveEvent("e0", inlineEligible: false)
        for n in 1...100 {
            #expect(machine.receiveEvent("e\(n)", inlineEligible: false) == .queued)
        }
        #expect(!machine.isReadPaused)
    }

    @Test func closingTheMailboxResumesReading() {
        var machine = self.connected(maxQueuedEvents: 2)
        #expect(machine.receiveEvent("e0", inlineEligible: true) == .runInline)
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .queued)
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .queuedAndPauseReading)
        #expect(machine.enqueueBarrier(9) == .queued)
        #expect(machine.inlineRunFinished(failure: nil) == [.startDrainTask(.runHandler("e1"))])
        // The server stops: that task cannot start, and no handler runs again.
        #expect(machine.drainTaskNotStarted(.runHandler("e1")) == [.resumeReading, .resumeBarrier(9)])
        #expect(machine.isMailboxClosed)
        #expect(!machine.isReadPaused)
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .dropped)
        // The socket still ends: no handler runs, but the adapter must forget it.
        #expect(machine.end(reason: "server shutting down", notice: nil) == [.leaveRooms])
        #expect(machine.phase == .disconnected)
    }

    @Test func anEndingWhoseTaskCannotStartStillLeavesTheRooms() {
        var machine = self.connected()
        #expect(machine.enqueueBarrier(1) == .resumeBarrier(1))
        let actions = machine.end(reason: "transport close", notice: nil)
        #expect(actions == [.startDrainTask(.runDisconnectingHandler("transport close"))])
        #expect(machine.enqueueBarrier(2) == .queued)
        #expect(machine.drainTaskNotStarted(.runDisconnectingHandler("transport close")) == [.leaveRooms, .resumeBarrier(2)])
        #expect(machine.phase == .disconnected)
        #expect(machine.isIdle)
    }

    @Test func aConnectTaskThatCannotStartClosesTheMailbox() {
        var machine = self.machine()
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .queued)
        #expect(machine.start() == .startDrainTask(.runConnectHandler))
        #expect(machine.drainTaskNotStarted(.runConnectHandler) == [])
        #expect(machine.receiveEvent("e2", inlineEligible: true) == .dropped)
        #expect(machine.end(reason: "server shutting down", notice: nil) == [.leaveRooms])
    }

    // MARK: Concurrent handlers

    @Test func concurrentEventsEachStartWithoutWaiting() {
        var machine = self.connected(.concurrent, maxQueuedEvents: 0)
        #expect(machine.receiveEvent("e1", inlineEligible: false) == .startDrainTask(.runHandler("e1")))
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .startDrainTask(.runHandler("e2")))
        // A synchronous handler runs inline beside the running ones.
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .runInline)
        #expect(machine.runningEvents == 3)
        #expect(machine.inlineRunFinished(failure: nil) == [])
        #expect(machine.jobFinished() == self.step())
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isIdle)
    }

    @Test func concurrentEventsWaitForTheConnectHandler() {
        var machine = self.machine(.concurrent)
        #expect(machine.start() == .startDrainTask(.runConnectHandler))
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .queued)
        #expect(machine.receiveEvent("e2", inlineEligible: true) == .queued)
        #expect(machine.receiveEvent("e3", inlineEligible: false) == .queued)
        _ = machine.connectAccepted()
        _ = machine.connectReplySent()
        // The connect task takes the first; the others get tasks of their own.
        #expect(
            machine.jobFinished()
                == self.step([.startDrainTask(.runHandler("e2")), .startDrainTask(.runHandler("e3"))], next: .runHandler("e1"))
        )
        #expect(machine.runningEvents == 3)
    }

    @Test func concurrentHandlersAreBoundedAndPauseReading() {
        var machine = self.connected(.concurrent, maxQueuedEvents: 3)
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        // Events are read on the connection's loop, so none comes in during an inline run.
        #expect(machine.receiveEvent("e2", inlineEligible: false) == .startDrainTask(.runHandler("e2")))
        // Running ones count: the third reaches the limit (never inline, so it can pause).
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .startDrainTaskAndPauseReading(.runHandler("e3")))
        #expect(machine.isReadPaused)
        // Beyond the limit events wait, in order.
        #expect(machine.receiveEvent("e4", inlineEligible: true) == .queued)
        #expect(machine.receiveEvent("e5", inlineEligible: false) == .queued)
        #expect(machine.runningEvents == 3)
        // e1 done: e4 starts on a new task (an inline caller has none to give).
        #expect(machine.inlineRunFinished(failure: nil) == [.startDrainTask(.runHandler("e4"))])
        // e2 done: its task takes e5. Still 3 held, then 2, then 1 (half of 3) resumes.
        #expect(machine.jobFinished() == self.step(next: .runHandler("e5")))
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isReadPaused)
        #expect(machine.jobFinished() == self.step([.resumeReading]))
        #expect(!machine.isReadPaused)
        #expect(machine.jobFinished() == self.step())
        #expect(machine.isIdle)
    }

    @Test func concurrentDisconnectWaitsForEveryRunningHandler() {
        var machine = self.connected(.concurrent)
        _ = machine.receiveEvent("e1", inlineEligible: false)
        _ = machine.receiveEvent("e2", inlineEligible: false)
        #expect(machine.end(reason: "client disconnect", notice: nil) == [])
        #expect(machine.receiveEvent("e3", inlineEligible: true) == .dropped)
        #expect(machine.jobFinished() == self.step())
        #expect(machine.jobFinished() == self.step(next: .runDisconnectingHandler("client disconnect")))
        #expect(machine.jobFinished() == self.step([.leaveRooms], next: .runDisconnectHandler("client disconnect")))
        #expect(machine.jobFinished() == self.step())
    }

    @Test func theConcurrentEndingRunsAlone() {
        var machine = self.connected(.concurrent)
        #expect(machine.end(reason: "server disconnect", notice: nil) == [.startDrainTask(.runDisconnectingHandler("server disconnect"))])
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .dropped)
        #expect(machine.enqueueBarrier(1) == .queued)
        #expect(machine.jobFinished() == self.step([.leaveRooms], next: .runDisconnectHandler("server disconnect")))
        #expect(machine.jobFinished() == self.step([.resumeBarrier(1)]))
    }

    @Test func aConcurrentBarrierWaitsForEveryEarlierEventToStart() {
        var machine = self.connected(.concurrent, maxQueuedEvents: 2)
        _ = machine.receiveEvent("e1", inlineEligible: false)
        _ = machine.receiveEvent("e2", inlineEligible: false)
        // Both run: the barrier passes, although their handlers are not done (one may wait
        // for what the barrier's owner sends next, as the test client's `emit` does).
        #expect(machine.enqueueBarrier(1) == .resumeBarrier(1))
        #expect(machine.receiveEvent("e3", inlineEligible: false) == .queued)
        #expect(machine.enqueueBarrier(2) == .queued)
        // Events behind a barrier wait for it, so that it means "all before me started".
        #expect(machine.receiveEvent("e4", inlineEligible: true) == .queued)
        #expect(machine.jobFinished() == self.step([.resumeBarrier(2)], next: .runHandler("e3")))
        #expect(machine.jobFinished() == self.step(next: .runHandler("e4")))
    }

    @Test func aConcurrentBarrierWaitsForTheConnectHandler() {
        var machine = self.machine(.concurrent)
        _ = machine.start()
        #expect(machine.enqueueBarrier(1) == .queued)
        _ = machine.connectAccepted()
        _ = machine.connectReplySent()
        #expect(machine.jobFinished() == self.step([.resumeBarrier(1)]))
    }

    @Test func aConcurrentInlineErrorStartsItsErrorHandler() {
        var machine = self.connected(.concurrent, maxQueuedEvents: 8)
        #expect(machine.receiveEvent("e1", inlineEligible: true) == .runInline)
        #expect(machine.inlineRunFinished(failure: "error of e1") == [.startDrainTask(.runHandler("error of e1"))])
        #expect(machine.runningEvents == 1)
    }

    // MARK: Acks

    @Test func acksAreCappedAndResolvedOnce() {
        var machine = self.connected(maxPendingAcks: 2)
        #expect(machine.reserveAck("a", id: 0) == .send)
        #expect(machine.reserveAck("b", id: 1) == .send)
        #expect(machine.reserveAck("c", id: 2) == .failTooManyPendingAcks("c"))
        #expect(machine.pendingAckCount == 2)
        // The client answers, then the timeout fires: the first one wins.
        #expect(machine.resolveAck(id: 0) == "a")
        #expect(machine.resolveAck(id: 0) == nil)
        // Ids come from the caller (unique across the process), in any order.
        #expect(machine.reserveAck("d", id: 7) == .send)
        // A client guessing an id nobody waits for is ignored.
        #expect(machine.resolveAck(id: 99) == nil)
        #expect(machine.pendingAckCount == 2)
    }

    @Test func aTimerMadeAfterTheAnswerIsCancelled() {
        var machine = self.connected()
        #expect(machine.reserveAck("a", id: 0) == .send)
        #expect(machine.updateAckWaiter(id: 0) { $0 += "+timer" })
        #expect(machine.reserveAck("b", id: 1) == .send)
        // The answer came before the timer was stored.
        #expect(machine.resolveAck(id: 1) == "b")
        #expect(!machine.updateAckWaiter(id: 1) { $0 += "+timer" })
        #expect(machine.resolveAck(id: 0) == "a+timer")
    }

    @Test func acksMayBeReservedWhileConnecting() {
        var machine = self.machine(maxPendingAcks: 0)
        _ = machine.start()
        #expect(machine.reserveAck("a", id: 0) == .send)
        #expect(machine.deliver([.message("with ack")]) == .holdBehindConnect)
    }
}
