//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import SocketIO
import SocketIOHummingbird

/// The application's context: what its middleware learnt about the request.
struct TestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var user: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// The application's middleware: `X-User` names the user; `X-Deny` is refused (401);
/// every response it passes is marked.
struct UserMiddleware: RouterMiddleware {
    typealias Context = TestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.headers[HTTPField.Name("X-Deny")!] != nil {
            throw HTTPError(.unauthorized)
        }
        var context = context
        context.user = request.headers[HTTPField.Name("X-User")!]
        var response = try await next(request, context)
        response.headers[HTTPField.Name("X-App-Middleware")!] = "seen"
        return response
    }
}

/// A Hummingbird application on a free port with `io` mounted beside an app route.
struct MountedApp {
    let io: SocketIOServer
    let port: Int
    let group: ServiceGroup
    let running: Task<Void, any Error>
    /// The user each Socket.IO connect handler saw in the handshake's request context.
    let connectedUsers: AsyncStream<String>

    static func start(configuration: SocketIOConfiguration = SocketIOConfiguration()) async throws -> MountedApp {
        let logger = Logger(label: "hummingbird-test")
        let io = SocketIOServer(configuration: configuration, logger: logger)
        let (users, usersSink) = AsyncStream<String>.makeStream()
        io.onConnect { socket, _ in
            usersSink.yield(socket.handshake.requestContext(TestContext.self)?.user ?? "<none>")
        }
        let router = Router(context: TestContext.self)
        router.add(middleware: UserMiddleware())
        router.get("/hello") { _, context in "hello \(context.user ?? "stranger")" }
        router.addSocketIO(io)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var app = Application(
            router: router,
            server: .socketIO(io, router: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        app.addServices(io)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return MountedApp(io: io, port: port, group: group, running: running, connectedUsers: users)
    }

    /// Graceful shutdown, as SIGTERM; returns once the application stopped.
    func stop() async throws {
        await self.group.triggerGracefulShutdown()
        try await self.running.value
    }

    func connect() async throws -> RawConnection {
        try await RawConnection(port: self.port)
    }

    /// The next user a connect handler saw.
    func nextConnectedUser() async -> String? {
        var iterator = self.connectedUsers.makeAsyncIterator()
        return await iterator.next()
    }
}
#endif
