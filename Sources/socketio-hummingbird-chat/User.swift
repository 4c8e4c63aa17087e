//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
/// A logged-in user: what ``SessionMiddleware`` puts in ``AppRequestContext/user``
/// (Flask-Login's `current_user`).
struct User: Sendable, Hashable, Codable {
    let name: String
}
#endif
