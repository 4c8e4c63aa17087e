//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Synchronization

/// A compiled regular expression that any thread may use: `Regex` is not `Sendable`, so
/// it is compiled once and used under a mutex (matches run on a namespace's first connect
/// only, never per event).
final class SendableRegex: Sendable {
    private let regex: Mutex<Regex<AnyRegexOutput>>

    init(_ pattern: String) throws {
        self.regex = Mutex(try Regex<AnyRegexOutput>(pattern))
    }

    /// Whether the whole string matches.
    func matches(_ string: String) -> Bool {
        self.regex.withLock { (try? $0.wholeMatch(in: string)) != nil }
    }
}
