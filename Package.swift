// swift-tools-version:6.2
import PackageDescription

/// One settings array for every Swift target: Swift 6 mode plus the upcoming features we hold ourselves to.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// NodeAgent and its tests without MemberImportVisibility: glibc's `struct stat` reaches them both through Glibc and
/// through Dispatch's CDispatch headers, and which module Swift 6.3.1 credits depends on how files are batched into
/// frontend jobs, so that check fails at random on `stat` members. Everything else is the same.
let nodeAgentSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "flotilla",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ecsctl", targets: ["ecsctl"]),
        .executable(name: "ecs-control-plane", targets: ["ecs-control-plane"]),
        .executable(name: "ecs-agent", targets: ["ecs-agent"]),
        .executable(name: "ecs-lb", targets: ["ecs-lb"]),
        .executable(name: "flotilla-bench", targets: ["flotilla-bench"]),
        // The pure libraries, for the fuzz targets in Fuzz/ (a package of their own, built by scripts/fuzz).
        .library(name: "TaskDefinitions", targets: ["TaskDefinitions"]),
        .library(name: "Scheduler", targets: ["Scheduler"]),
        .library(name: "OCIImage", targets: ["OCIImage"]),
        .library(name: "ECSProtocol", targets: ["ECSProtocol"]),
        .library(name: "SigV4", targets: ["SigV4"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: - Pure libraries
        .target(name: "TaskDefinitions", swiftSettings: swiftSettings),
        // The ECS status words (task, container, health, stop codes, instance, service, deployment, ...): one home.
        .target(name: "ECSVocabulary", swiftSettings: swiftSettings),
        .target(name: "Scheduler", dependencies: ["TaskDefinitions", "ECSVocabulary"], swiftSettings: swiftSettings),
        // Optimized in debug builds too: unoptimized, SHA-256 hashes 1.5 MB/s (0.4 s per 16 MiB with -O, 10.6 s
        // without), and the image store's digests then ate the test suite's CPU.
        .target(
            name: "FlotillaDigest",
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "AgentProtocol", dependencies: ["TaskDefinitions", "ECSVocabulary"], swiftSettings: swiftSettings),
        .target(
            name: "ECSProtocol",
            dependencies: [
                "TaskDefinitions", "ECSVocabulary", "Scheduler", "AgentProtocol",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OCIImage",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        // AWS Signature Version 4: signing, verifying (header and presigned forms) and the AWS CLI's credential files.
        .target(
            name: "SigV4",
            dependencies: ["FlotillaDigest"],
            swiftSettings: swiftSettings
        ),
        // The cluster CA: creating it, issuing server certificates, its hash (swift-certificates; control plane only).
        .target(
            name: "ClusterPKI",
            dependencies: [
                "FlotillaDigest",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPServerLimits",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),

        // The executables' shared plumbing: logging and Prometheus bootstrap, the ServiceGroup, --listen and limit flags.
        .target(
            name: "DaemonSupport",
            dependencies: [
                "HTTPServerLimits",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Control plane
        .target(
            name: "ControlPlane",
            dependencies: [
                "TaskDefinitions", "ECSVocabulary", "Scheduler", "LoadBalancer", "AgentProtocol",
                "HTTPServerLimits", "ECSProtocol", "SigV4", "FlotillaDigest", "ClusterPKI",
                // AES-GCM for SecretBox alone: digests and MACs are FlotillaDigest's.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The clients' one HTTP/1.1 transport is NIO's, with swift-nio-ssl: URLSession on Linux takes no CA bundle.
        .target(
            name: "FlotillaClient",
            dependencies: [
                "TaskDefinitions", "ECSVocabulary", "AgentProtocol", "SigV4", "FlotillaDigest",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings),

        // MARK: - Node agent and its runtime
        .target(
            name: "CFlotillaRuntime",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("seccomp")]
        ),
        .target(
            name: "NodeAgent",
            dependencies: [
                "TaskDefinitions", "ECSVocabulary", "CFlotillaRuntime", "FlotillaClient", "FlotillaDigest",
                "AgentProtocol", "SigV4",
                "HTTPServerLimits", "OCIImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: nodeAgentSwiftSettings
        ),

        // MARK: - Load balancer
        .target(
            name: "LoadBalancer",
            dependencies: [
                "ECSProtocol", "ECSVocabulary",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Executables (thin)
        .executableTarget(
            name: "ecsctl",
            dependencies: [
                "FlotillaClient", "TaskDefinitions", "ECSVocabulary", "AgentProtocol", "SigV4",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ecs-control-plane",
            dependencies: [
                "DaemonSupport",
                "ControlPlane", "ECSProtocol", "HTTPServerLimits", "LoadBalancer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ecs-agent",
            dependencies: [
                "DaemonSupport",
                "NodeAgent", "HTTPServerLimits",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ecs-lb",
            dependencies: [
                "DaemonSupport", "HTTPServerLimits",
                "LoadBalancer", "FlotillaClient", "TaskDefinitions", "ECSProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Benchmarks
        .executableTarget(
            name: "flotilla-bench",
            dependencies: [
                "TaskDefinitions", "ECSVocabulary", "Scheduler", "ControlPlane", "FlotillaClient", "NodeAgent", "SigV4",
                "LoadBalancer", "FlotillaTestKit",  // `flotilla-bench e2e` drives real processes through the e2e harness
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/flotilla-bench",
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        .target(
            name: "FlotillaTestKit",
            dependencies: ["TaskDefinitions", "ECSVocabulary", "Scheduler", "FlotillaClient", "SigV4", "ClusterPKI"],
            path: "Tests/FlotillaTestKit",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlotillaClientTests", dependencies: ["FlotillaClient", "FlotillaTestKit", "SigV4"],
            swiftSettings: swiftSettings),
        // ecsctl's presentation (tables, JSON text, argument documents), through `@testable import ecsctl`.
        .testTarget(
            name: "EcsctlTests", dependencies: ["ecsctl", "FlotillaClient", "TaskDefinitions"],
            swiftSettings: swiftSettings),
        .testTarget(name: "TaskDefinitionsTests", dependencies: ["TaskDefinitions"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ECSVocabularyTests", dependencies: ["ECSVocabulary", "FlotillaTestKit"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SchedulerTests", dependencies: ["Scheduler", "ECSVocabulary", "FlotillaTestKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ECSProtocolTests", dependencies: ["ECSProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "OCIImageTests", dependencies: ["OCIImage"], swiftSettings: swiftSettings),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ClusterPKITests",
            dependencies: [
                "ClusterPKI",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ControlPlane", "AgentProtocol", "ECSVocabulary", "ECSProtocol", "FlotillaTestKit", "FlotillaDigest",
                "LoadBalancer", "SigV4",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NodeAgentTests",
            dependencies: [
                "NodeAgent", "AgentProtocol", "ECSVocabulary", "FlotillaTestKit", "FlotillaDigest", "HTTPServerLimits",
                "OCIImage", "SigV4",
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: nodeAgentSwiftSettings
        ),
        .testTarget(
            name: "LoadBalancerTests",
            dependencies: [
                "LoadBalancer", "FlotillaTestKit", "ECSProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["FlotillaClient", "FlotillaTestKit", "TaskDefinitions", "SigV4", "ECSVocabulary"],
            swiftSettings: swiftSettings
        ),
    ]
)
