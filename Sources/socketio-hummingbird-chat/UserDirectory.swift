//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
/// The example's fixed table of users. A real application checks a password hash kept in
/// its database; plain passwords keep the example free of a crypto dependency.
struct UserDirectory: Sendable {
    private let passwords: [String: String]

    init(passwords: [String: String]) {
        self.passwords = passwords
    }

    /// The users the example knows (the tests log in as them).
    static let example = UserDirectory(passwords: ["alice": "wonderland", "bob": "builder"])

    /// The user named `name` if `password` is theirs.
    func authenticate(name: String, password: String) -> User? {
        guard let expected = self.passwords[name], Self.equal(Array(expected.utf8), Array(password.utf8)) else { return nil }
        return User(name: name)
    }

    /// The user named `name`, if there is one.
    func user(named name: String) -> User? {
        self.passwords[name] == nil ? nil : User(name: name)
    }

    /// Compares without stopping at the first difference, so the answer's timing does not
    /// tell how much of a guess was right.
    private static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
#endif
