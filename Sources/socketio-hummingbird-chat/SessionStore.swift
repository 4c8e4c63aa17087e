//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import Hummingbird

/// Server-side sessions: a random id in an HttpOnly cookie names the ``User`` kept in
/// Hummingbird's `MemoryPersistDriver`. Sessions live as long as the process; an
/// application with several processes would use a shared driver (Redis, Postgres) instead.
struct SessionStore: Sendable {
    /// The name of the session cookie.
    static let cookieName = "chat_session"

    let driver: MemoryPersistDriver<ContinuousClock>
    let lifetime: Duration

    init(driver: MemoryPersistDriver<ContinuousClock> = MemoryPersistDriver(), lifetime: Duration = .seconds(8 * 3600)) {
        self.driver = driver
        self.lifetime = lifetime
    }

    /// What the store keeps for a session.
    struct Entry: Codable, Sendable {
        let user: User
        /// The Socket.IO room of the session's sockets: a name of its own, so that the
        /// session id (the secret in the cookie) never becomes a room name.
        let room: String
    }

    /// Starts a session for `user`; returns its id.
    func create(for user: User) async throws -> String {
        let id = Self.newID()
        let entry = Entry(user: user, room: "session:\(Self.newID())")
        try await self.driver.create(key: Self.key(id), value: entry, expires: self.lifetime)
        return id
    }

    /// Session `id`, or `nil` when it is unknown or expired.
    func entry(for id: String) async throws -> Entry? {
        // Ids are hex; anything else cannot be one of ours (and never reaches the driver).
        guard id.utf8.count == 32, id.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        return try await self.driver.get(key: Self.key(id), as: Entry.self)
    }

    /// Ends session `id`.
    func remove(_ id: String) async throws {
        try await self.driver.remove(key: Self.key(id))
    }

    /// The cookie that carries session `id`.
    func cookie(for id: String) -> Cookie {
        Cookie(
            name: Self.cookieName,
            value: id,
            maxAge: Int(self.lifetime.components.seconds),
            path: "/",
            httpOnly: true,
            sameSite: .lax
        )
    }

    /// The cookie that makes the browser forget the session.
    static let expiredCookie = Cookie(name: cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax)

    private static func key(_ id: String) -> String { "session.\(id)" }

    /// 128 random bits, hex. `SystemRandomNumberGenerator` is the system's cryptographic
    /// generator (getrandom / arc4random).
    private static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let words = [generator.next(), generator.next()] as [UInt64]
        return words.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
    }
}
#endif
