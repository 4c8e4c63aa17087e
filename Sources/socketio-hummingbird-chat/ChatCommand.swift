//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

// The issue 16 example: a Hummingbird application with a login (a cookie session of its
// own) and a Socket.IO chat mounted on the same port; the Swift twin of Flask-SocketIO's
// Flask-Login example. Prints `listening on http://HOST:PORT` once bound.
//
//   swift run socketio-hummingbird-chat --client-js .cache/socket.io.min.js
//   open http://127.0.0.1:8080/ and log in as alice (wonderland) or bob (builder)
//   curl -X POST 'http://127.0.0.1:8080/notify/alice?text=hello'
//
// HTTP: `GET /` (login form or chat), `POST /login` (form: name, password), `POST /logout`,
// `POST /notify/:user` (ChatRoutes). Socket.IO: refused without a login (`unauthorized`),
// `whoami`, `join`/`leave`/`message` (ChatEvents).

#if Hummingbird
import ArgumentParser
import ExecutableSupport
import Hummingbird
import Logging
import NIOCore
import SocketIO
import SocketIOHummingbird

/// `socketio-hummingbird-chat`: the example application.
@main
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-hummingbird-chat",
        abstract: "A chat with a login: Socket.IO mounted on a Hummingbird application."
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 8080

    @Option(help: "A local socket.io-client bundle to serve at /socket.io/socket.io.js (default: redirect to the CDN).")
    var clientJS: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        LoggingSystem.bootstrapStandardError(level: self.logLevel)
        let logger = Logger(label: "socketio-hummingbird-chat")
        let page = try ChatPage(clientBundlePath: self.clientJS)
        let sessions = SessionStore()
        let users = UserDirectory.example

        let io = SocketIOServer(logger: logger)
        ChatEvents.install(on: io)

        let router = Router(context: AppRequestContext.self)
        // Before `addSocketIO`: the engine's requests go through it too, so the connect
        // handler sees the user of the handshake request.
        router.add(middleware: SessionMiddleware(sessions: sessions))
        ChatRoutes.add(to: router, io: io, sessions: sessions, users: users, page: page)
        router.addSocketIO(io)

        // The bound address, for ServiceRunner's `listening on` line.
        let bound = BoundAddress()
        var app = Application(
            router: router,
            server: .socketIO(io, router: router),
            configuration: .init(address: .hostname(self.host, port: self.port), serverName: "socketio-hummingbird-chat"),
            onServerRunning: { bound.serverRunning($0) },
            logger: logger
        )
        // Stopped in reverse order: the HTTP server first (its quiesce drains the engine:
        // clients see their transport end and reconnect elsewhere), then `io`, then the sessions.
        app.addServices(sessions.driver, io)
        // SIGTERM/SIGINT start the graceful shutdown.
        try await ServiceRunner.run(
            [app],
            localAddress: { try await bound.address() },
            logger: logger
        )
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
#else
/// Built without the `Hummingbird` trait: the example is not available.
@main
enum ChatCommand {
    static func main() {
        print("socketio-hummingbird-chat needs the Hummingbird trait")
    }
}
#endif
