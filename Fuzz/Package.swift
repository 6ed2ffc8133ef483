// swift-tools-version:6.2
import PackageDescription

/// libFuzzer targets for Flotilla's parsers, built only by `scripts/fuzz` (with `-sanitize=fuzzer,address
/// -parse-as-library`), never by the main package: each target's main.swift is the fuzz target (`LLVMFuzzerTestOneInput`)
/// and hands its entry point to libFuzzer's driver (`FuzzDriver`).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "flotilla-fuzz",
    dependencies: [
        .package(name: "flotilla", path: ".."),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(name: "FuzzDriver", swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzTaskDefinition",
            dependencies: ["FuzzDriver", .product(name: "TaskDefinitions", package: "flotilla")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzClusterQuery",
            dependencies: ["FuzzDriver", .product(name: "Scheduler", package: "flotilla")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzECSRequest",
            dependencies: [
                "FuzzDriver", .product(name: "ECSProtocol", package: "flotilla"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzTarReader",
            dependencies: ["FuzzDriver", .product(name: "OCIImage", package: "flotilla")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzSigV4",
            dependencies: ["FuzzDriver", .product(name: "SigV4", package: "flotilla")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzOCIImage",
            dependencies: ["FuzzDriver", .product(name: "OCIImage", package: "flotilla")],
            swiftSettings: swiftSettings),
    ]
)
