// swift-tools-version:6.1
// Kontor: a B2B sales workspace server. See README.md and docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Kontor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kontord", targets: ["kontord"]),
        .executable(name: "kontor", targets: ["kontor"]),
        .executable(name: "kontor-bench", targets: ["kontor-bench"]),
        .executable(name: "kontor-bridge", targets: ["kontor-bridge"]),
        .executable(name: "kontor-seed", targets: ["kontor-seed"]),
    ],
    dependencies: [
        // Networking for the line protocol (server and clients).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Structured logging, one line per request.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // Command-line flags of kontord and kontor.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // SIGTERM/SIGINT graceful shutdown of kontord.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // kontor-bridge's webhook endpoints (HTTP/1.1 server). Default traits off: the
        // bridge reads its own configuration, so swift-configuration is not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // kontor-bridge: HMAC-SHA1/SHA256 webhook signatures (Twilio, Viber) and SHA-256
        // fallback ids, with constant-time comparison; Foundation has no HMAC on Linux.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // Header names of Hummingbird's requests (already a Hummingbird dependency).
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // kontord's reminder webhooks: an HTTPS client with pooling, timeouts and TLS
        // (custom CA files for private push gateways). Hand-rolling HTTP over NIO would
        // be more code to get wrong than this well-kept library.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // TLS settings of those webhooks (a CA file of one's own); AsyncHTTPClient uses it anyway.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // libpq, from Debian's libpq-dev, found through pkg-config.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A tiny extern "C" shim over libphonenumber (Debian libphonenumber-dev).
        .target(
            name: "CPhoneNumber",
            linkerSettings: [.linkedLibrary("phonenumber")]
        ),
        // Calendar arithmetic and timestamp text, shared by Postgres and KontorDomain.
        .target(name: "CivilTime"),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ", "CivilTime",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "KontorDomain", dependencies: ["CPhoneNumber", "CivilTime"]),
        .target(
            name: "KontorStore",
            dependencies: ["Postgres", "KontorDomain", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "KontorProtocol", dependencies: ["KontorDomain"]),
        .target(
            name: "KontorClient",
            dependencies: [
                "KontorProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "KontorServer",
            dependencies: [
                "Postgres", "KontorDomain", "KontorStore", "KontorProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Reminder webhooks: delivery and their HMAC-SHA256 signatures.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "kontord",
            dependencies: [
                "KontorServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libedit (Debian libedit-dev) behind a non-variadic C surface, for the REPL.
        .target(
            name: "CEditLine",
            linkerSettings: [.linkedLibrary("edit")]
        ),
        // The client's engine: human command syntax, tables, charts, completion.
        .target(name: "KontorShell", dependencies: ["KontorProtocol", "KontorClient", "KontorDomain"]),
        .executableTarget(
            name: "kontor",
            dependencies: [
                "KontorProtocol", "KontorClient", "KontorShell", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kontor-bench",
            dependencies: [
                "KontorProtocol", "KontorClient", "KontorDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The demo: a distributor's team, clients and three months of history, over the protocol.
        .executableTarget(
            name: "kontor-seed",
            dependencies: [
                "KontorProtocol", "KontorClient", "KontorDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // GMime 3 (Debian libgmime-3.0-dev) for kontor-bridge's e-mail parsing.
        .systemLibrary(
            name: "CGMime",
            pkgConfig: "gmime-3.0",
            providers: [.apt(["libgmime-3.0-dev"])]
        ),
        // The robot: provider payloads and files → ingestion calls, through an on-disk spool.
        .target(
            name: "KontorBridge",
            dependencies: [
                "KontorProtocol", "KontorClient", "KontorDomain", "CGMime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kontor-bridge",
            dependencies: [
                "KontorBridge", "KontorProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KontorTestSupport",
            dependencies: ["Postgres", "KontorStore", "KontorServer", "KontorClient", "KontorProtocol"],
            path: "Tests/KontorTestSupport"
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "KontorTestSupport"]),
        .testTarget(name: "KontorDomainTests", dependencies: ["KontorDomain"]),
        .testTarget(name: "KontorStoreTests", dependencies: ["KontorStore", "KontorTestSupport"]),
        .testTarget(name: "KontorProtocolTests", dependencies: ["KontorProtocol", "KontorDomain"]),
        .testTarget(name: "KontorServerTests", dependencies: [
            "KontorServer", "KontorClient", "KontorTestSupport",
            // A real webhook receiver in the reminder tests, which checks the signatures,
            // also over TLS with a certificate of a private CA (openssl makes it).
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "KontorBridgeTests", dependencies: ["KontorBridge", "KontorTestSupport"]),
        .testTarget(name: "KontorShellTests", dependencies: ["KontorShell", "KontorProtocol", "KontorClient", "KontorServer", "KontorTestSupport"]),
        // kontor-seed against a live kontord (the binary is spawned, as make run does).
        .testTarget(name: "KontorSeedTests", dependencies: ["KontorProtocol", "KontorClient", "KontorServer", "KontorTestSupport", "Postgres"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
