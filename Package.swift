// swift-tools-version: 6.1
//===----------------------------------------------------------------------===//
// swift-socketio: a Socket.IO server for Swift that runs as a horizontally
// scaled cluster. Layers (dependencies point down only):
//   codecs (EngineIOParser) → engine (EngineIO) → Socket.IO → cluster → backplane
//===----------------------------------------------------------------------===//
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioWebSocket: Target.Dependency = .product(name: "NIOWebSocket", package: "swift-nio")
let nioConcurrencyHelpers: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let orderedCollections: Target.Dependency = .product(name: "OrderedCollections", package: "swift-collections")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let compressNIO: Target.Dependency = .product(name: "CompressNIO", package: "compress-nio")
let hummingbirdProduct: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"]))
let hummingbirdCore: Target.Dependency = .product(name: "HummingbirdCore", package: "hummingbird", condition: .when(traits: ["Hummingbird"]))
let nioHTTPTypes: Target.Dependency = .product(name: "NIOHTTPTypes", package: "swift-nio-extras", condition: .when(traits: ["Hummingbird"]))
let nioHTTPTypesHTTP1: Target.Dependency = .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras", condition: .when(traits: ["Hummingbird"]))

// Each broker is optional at build time: a SwiftPM trait per broker (all three by default).
// A build without one neither compiles its backplane nor needs its C library, e.g. a
// Redis-only build: `swift build --traits Redis` (hiredis only).
let redis: Set<String> = ["Redis"]
let amqp: Set<String> = ["AMQP"]
let kafka: Set<String> = ["Kafka"]
// The Hummingbird mount (issue 16) is optional too: without the trait its module, tests and
// example compile to nothing and Hummingbird is not built.
let hummingbird: Set<String> = ["Hummingbird"]

let package = Package(
    name: "swift-socketio",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "EngineIOParser", targets: ["EngineIOParser"]),
        .library(name: "EngineIO", targets: ["EngineIO"]),
        .library(name: "SocketIOParser", targets: ["SocketIOParser"]),
        .library(name: "SocketIO", targets: ["SocketIO"]),
        .library(name: "SocketIOTesting", targets: ["SocketIOTesting"]),
        .library(name: "Backplane", targets: ["Backplane"]),
        .library(name: "SocketIOCluster", targets: ["SocketIOCluster"]),
        .library(name: "SocketIOEmitter", targets: ["SocketIOEmitter"]),
        .executable(name: "socketio-emit", targets: ["socketio-emit"]),
        .library(name: "SocketIOHummingbird", targets: ["SocketIOHummingbird"]),
        .executable(name: "socketio-demo", targets: ["socketio-demo"]),
        .executable(name: "socketio-bench", targets: ["socketio-bench"]),
    ],
    traits: [
        .trait(name: "Redis", description: "The Redis backplane (links hiredis)."),
        .trait(name: "AMQP", description: "The RabbitMQ backplane (links librabbitmq)."),
        .trait(name: "Kafka", description: "The Kafka backplane (links librdkafka)."),
        .trait(name: "Hummingbird", description: "The SocketIOHummingbird module: mounting the server on a Hummingbird application."),
        .default(enabledTraits: ["Redis", "AMQP", "Kafka", "Hummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
    ],
    targets: [
        // MARK: - Codecs
        .target(name: "EngineIOParser", dependencies: [nioCore], swiftSettings: swiftSettings),
        .target(name: "SocketIOParser", dependencies: ["EngineIOParser", nioCore, orderedCollections], swiftSettings: swiftSettings),

        // MARK: - Engine
        .target(
            name: "EngineIO",
            dependencies: [
                "EngineIOParser", nioCore, nioPosix, nioHTTP1, nioWebSocket, nioConcurrencyHelpers,
                logging, metrics, serviceLifecycle, compressNIO, httpTypes, .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Socket.IO
        .target(
            name: "SocketIO",
            dependencies: [
                "EngineIO", "EngineIOParser", "SocketIOParser", nioCore, nioPosix, nioConcurrencyHelpers, logging, serviceLifecycle,
                orderedCollections, httpTypes, .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Cluster
        .target(
            name: "Backplane",
            dependencies: [nioCore, nioConcurrencyHelpers, logging, metrics, .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // A disabled broker's target compiles to nothing (its sources are inside `#if`) and
        // does not depend on its C library.
        .target(
            name: "RedisBackplane",
            dependencies: ["Backplane", .target(name: "CHiredis", condition: .when(traits: redis)), nioCore, nioConcurrencyHelpers, logging, metrics],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .target(
            name: "AMQPBackplane",
            dependencies: ["Backplane", .target(name: "CRabbitMQ", condition: .when(traits: amqp)), nioCore, nioConcurrencyHelpers, logging, metrics],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(
            name: "KafkaBackplane",
            dependencies: ["Backplane", .target(name: "CRdKafka", condition: .when(traits: kafka)), nioCore, nioConcurrencyHelpers, logging, metrics],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SocketIOMessageQueue",
            dependencies: [
                "SocketIOParser", "EngineIOParser", "Backplane", .target(name: "RedisBackplane", condition: .when(traits: redis)),
                .target(name: "AMQPBackplane", condition: .when(traits: amqp)), .target(name: "KafkaBackplane", condition: .when(traits: kafka)),
                nioCore, logging, orderedCollections,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SocketIOCluster",
            dependencies: [
                "SocketIO", "SocketIOParser", "SocketIOMessageQueue", "Backplane", "EngineIOParser", nioCore, nioPosix,
                nioConcurrencyHelpers, logging, metrics,
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "SocketIOEmitter",
            dependencies: ["SocketIOMessageQueue", "SocketIOParser", "Backplane", nioConcurrencyHelpers, logging],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "SocketIOTesting",
            dependencies: ["SocketIO", "EngineIO", "EngineIOParser", "SocketIOParser", nioCore, nioPosix, nioHTTP1, nioConcurrencyHelpers, httpTypes],
            swiftSettings: swiftSettings
        ),

        // MARK: - Hummingbird mount
        // Its sources are inside `#if Hummingbird`: without the trait it is an empty module.
        .target(
            name: "SocketIOHummingbird",
            dependencies: [
                "EngineIO", "EngineIOParser", "SocketIO", nioCore, nioHTTP1, nioWebSocket, logging, serviceLifecycle, httpTypes,
                hummingbirdProduct, hummingbirdCore, nioHTTPTypes, nioHTTPTypesHTTP1,
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Executables
        // What the executables share and libraries must not do: print to stdout, trap signals.
        .target(name: "ExecutableSupport", dependencies: [nioCore, logging, serviceLifecycle, unixSignals], swiftSettings: swiftSettings),
        .executableTarget(
            name: "socketio-demo",
            dependencies: [
                "ExecutableSupport", "EngineIO", "EngineIOParser", "SocketIO", "SocketIOParser", "SocketIOCluster", "SocketIOMessageQueue",
                "Backplane", nioCore, nioPosix, nioHTTP1, logging, serviceLifecycle, argumentParser, httpTypes,
                .target(name: "SocketIOHummingbird", condition: .when(traits: hummingbird)), hummingbirdProduct,
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "socketio-emit",
            dependencies: ["SocketIOEmitter", "SocketIOParser", "Backplane", logging, argumentParser],
            swiftSettings: swiftSettings
        ),
        // The load generator: a client, so it links the emitter but never the server.
        .executableTarget(
            name: "socketio-bench",
            dependencies: [
                "SocketIOEmitter", "SocketIOParser", nioCore, nioPosix, nioHTTP1, nioConcurrencyHelpers, logging,
                argumentParser, orderedCollections,
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "socketio-testserver",
            dependencies: [
                "ExecutableSupport", "SocketIO", "SocketIOParser", "SocketIOCluster", "SocketIOMessageQueue", "EngineIO", nioCore,
                logging, serviceLifecycle, argumentParser,
            ],
            swiftSettings: swiftSettings
        ),

        // The Hummingbird example (issue 16): a chat with a cookie session, mounted beside app routes.
        .executableTarget(
            name: "socketio-hummingbird-chat",
            dependencies: [
                "ExecutableSupport", "SocketIO", "SocketIOParser", .target(name: "SocketIOHummingbird", condition: .when(traits: hummingbird)),
                nioCore, logging, serviceLifecycle, argumentParser, orderedCollections, hummingbirdProduct,
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        .testTarget(
            name: "SocketIOParserTests",
            dependencies: ["SocketIOParser", "EngineIOParser", nioCore, orderedCollections],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "SocketIO", "SocketIOTesting", "SocketIOParser", "EngineIO", "EngineIOParser", nioCore, nioPosix,
                nioConcurrencyHelpers, nioHTTP1, logging, serviceLifecycle, httpTypes,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SocketIOClusterTests",
            dependencies: [
                "SocketIOCluster", "SocketIOMessageQueue", "Backplane", "SocketIO", "SocketIOTesting", "SocketIOParser",
                "SocketIOEmitter", .target(name: "RedisBackplane", condition: .when(traits: redis)),
                .target(name: "AMQPBackplane", condition: .when(traits: amqp)), .target(name: "KafkaBackplane", condition: .when(traits: kafka)),
                .target(name: "CRdKafka", condition: .when(traits: kafka)), nioCore, nioConcurrencyHelpers, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "EngineIOParserTests", dependencies: ["EngineIOParser", nioCore], swiftSettings: swiftSettings),
        .testTarget(
            name: "EngineIOTests",
            dependencies: [
                "EngineIO", "EngineIOParser", nioCore, nioPosix, nioHTTP1, nioEmbedded, nioWebSocket,
                nioConcurrencyHelpers, logging, httpTypes,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SocketIOHummingbirdTests",
            dependencies: [
                .target(name: "SocketIOHummingbird", condition: .when(traits: hummingbird)), "SocketIO", "SocketIOParser", "EngineIO",
                "EngineIOParser", nioCore, nioPosix, nioHTTP1, nioWebSocket, nioConcurrencyHelpers, logging, serviceLifecycle, httpTypes,
                hummingbirdProduct,
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
