//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import ExecutableSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SocketIO
import SocketIOHummingbird

/// `--server hummingbird`: the same server mounted on a Hummingbird application, on the same
/// event loops, so that the benchmarks can compare the two front ends.
enum DemoHummingbird {
    static func serve(io: SocketIOServer, page: DemoPage?, host: String, port: Int, group: any EventLoopGroup, logger: Logger) async throws {
        let router = Router()
        if let page {
            for path in ["/", "/index.html", "/socket.io.js", "/socket.io/socket.io.js"] {
                router.get(RouterPath(path)) { request, _ -> Response in
                    let engineRequest = EngineIORequest(method: .get, uri: request.head.path ?? path, headers: request.headers, remoteAddress: nil)
                    guard let answer = page.route(engineRequest) else { throw HTTPError(.notFound) }
                    return Response(status: answer.status, headers: answer.headerFields, body: ResponseBody(byteBuffer: answer.body))
                }
            }
        }
        router.addSocketIO(io)
        // The standalone listener's /readyz and /healthz (scripts/cluster, nginx, test_front.py).
        router.addSocketIOHealth(io)
        let bound = BoundAddress()
        var app = Application(
            router: router,
            server: .socketIO(io, router: router),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { bound.serverRunning($0) },
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
        // Stopped in reverse order: the HTTP server (its quiesce drains the engine), then `io`.
        app.addServices(io)
        try await ServiceRunner.run(
            [app],
            localAddress: { try await bound.address() },
            logger: logger
        )
    }
}
#endif
