//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser

/// The plain Engine.IO echo of the reference server used by the Engine.IO protocol docs:
/// every message goes back to its sender unchanged.
struct EngineIOEchoDelegate: EngineIOServerDelegate {
    func sessionOpened(_ session: EngineIOSession) -> any EngineIOSessionHandler {
        EchoHandler(session: session)
    }
}

/// Echoes one session's messages. Called on the session's loop only.
final class EchoHandler: EngineIOSessionHandler {
    private unowned let session: EngineIOSession

    init(session: EngineIOSession) {
        self.session = session
    }

    func sessionDidReceive(_ message: EngineIOMessage) {
        self.session.sendOnLoop([EngineIOPacket.message(message).frame])
    }

    func sessionDidClose(reason: EngineIOCloseReason) {}
}
