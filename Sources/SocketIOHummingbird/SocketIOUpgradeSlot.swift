//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import NIOConcurrencyHelpers

/// Set (task-local) while the upgrade check runs the application's router on a WebSocket
/// upgrade request: the engine route then only checks the request and leaves its outcome
/// here, instead of serving polling.
final class SocketIOUpgradeSlot: Sendable {
    @TaskLocal static var current: SocketIOUpgradeSlot?

    enum Outcome: Sendable {
        /// The engine accepts the upgrade; the app's context after its middleware ran.
        case accepted(context: any Sendable)
        /// The engine refuses it; the HTTP path answers this error and closes.
        case refused(EngineIORequestError)
    }

    private let box = NIOLockedValueBox<Outcome?>(nil)

    var outcome: Outcome? {
        get { self.box.withLockedValue { $0 } }
        set { self.box.withLockedValue { $0 = newValue } }
    }
}
#endif
