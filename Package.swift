// swift-tools-version:6.1
// Kontor: a B2B sales workspace server. See README.md and docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Kontor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kontord", targets: ["kontord"]),
        .executable(name: "kontor", targets: ["kontor"]),
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
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "KontorDomain", dependencies: ["CPhoneNumber"]),
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
        .target(
            name: "KontorTestSupport",
            dependencies: ["Postgres", "KontorStore", "KontorServer", "KontorClient", "KontorProtocol"],
            path: "Tests/KontorTestSupport"
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "KontorTestSupport"]),
        .testTarget(name: "KontorDomainTests", dependencies: ["KontorDomain"]),
        .testTarget(name: "KontorStoreTests", dependencies: ["KontorStore", "KontorTestSupport"]),
        .testTarget(name: "KontorProtocolTests", dependencies: ["KontorProtocol", "KontorDomain"]),
        .testTarget(name: "KontorServerTests", dependencies: ["KontorServer", "KontorClient", "KontorTestSupport"]),
        .testTarget(name: "KontorShellTests", dependencies: ["KontorShell", "KontorProtocol", "KontorClient", "KontorServer", "KontorTestSupport"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
