//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
/// The fields of `POST /login` (`application/x-www-form-urlencoded`).
struct LoginForm: Decodable, Sendable {
    let name: String
    let password: String
}
#endif
