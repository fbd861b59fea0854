// swift-tools-version: 6.1
import PackageDescription

// librdkafka 2.8.0 is built by scripts/bootstrap into this prefix; the rpath makes every
// binary load it even when Debian's older librdkafka1 is installed too.
let rdkafkaLibDir = "/opt/souk/librdkafka-2.8.0/lib"

// The executables allocate with jemalloc: records are allocated on librdkafka's and the consumer's
// threads and freed on the worker's; glibc's malloc spent a tenth of the exactly-once pipe's CPU
// consolidating its bins (Benchmarks/README.md).
let jemalloc: [LinkerSetting] = [.linkedLibrary("jemalloc")]

// The record path crosses Kafka, Timestamps and Streams: their generic helpers (`withValue`,
// `withRFC3339`, the batch processor over a role) are specialised in the modules that call them,
// instead of instantiating generic metadata per record.
let crossModuleOptimization: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"])]

let package = Package(
    name: "souk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "souk", targets: ["souk"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // JWT verification (HS256 secrets, RS256/ES256 keys from a JWKS) and SHA-256 for idempotency keys.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses; the header is on the default path.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "Redis", dependencies: ["CHiredis"]),
        .target(
            name: "Projections",
            dependencies: [
                "Contracts", "JSONCodec", "Kafka", "Postgres", "Redis", "Streams", "Timestamps",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: crossModuleOptimization,
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", rdkafkaLibDir])]
        ),
        .target(
            name: "Streams",
            dependencies: [
                "Kafka", "Timestamps", "JSONCodec",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        .target(name: "Timestamps", swiftSettings: crossModuleOptimization),
        .target(
            name: "JSONCodec",
            dependencies: ["Timestamps"],
            // The writer is one object mutated by every container: checked exclusivity cost a quarter
            // of its time, and no access to it overlaps another.
            swiftSettings: crossModuleOptimization + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .target(name: "Contracts", dependencies: ["Timestamps", "JSONCodec"]),
        .target(name: "Commerce", dependencies: ["Contracts"]),
        .target(name: "RoleSupport", dependencies: ["Contracts", "JSONCodec", "Kafka", "Streams"]),
        .target(name: "Catalog", dependencies: ["Contracts", "Commerce", "JSONCodec", "RoleSupport", "Streams"]),
        .target(name: "Customers", dependencies: ["Contracts", "Commerce", "JSONCodec", "RoleSupport", "Streams"]),
        .target(name: "Carts", dependencies: ["Contracts", "Commerce", "JSONCodec", "RoleSupport", "Streams"]),
        .target(name: "Inventory", dependencies: ["Contracts", "Commerce", "RoleSupport", "Streams"]),
        .target(name: "Payments", dependencies: ["Contracts", "Commerce", "RoleSupport", "Streams"]),
        .target(name: "Shipping", dependencies: ["Contracts", "Commerce", "RoleSupport", "Streams"]),
        .target(name: "Orders", dependencies: ["Contracts", "Commerce", "RoleSupport", "Streams"]),
        .target(name: "Counting", dependencies: ["Streams"]),
        .executableTarget(
            name: "souk-counter",
            dependencies: [
                "App", "Counting", "Streams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            linkerSettings: jemalloc
        ),
        .executableTarget(
            name: "souk-bench",
            dependencies: [
                "App", "JSONCodec", "Kafka", "Streams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/souk-bench",
            linkerSettings: jemalloc
        ),
        .target(
            name: "App",
            dependencies: [
                "API", "JSONCodec", "Timestamps",
                "Inventory",
                "Orders",
                "Payments",
                "Projections",
                "Shipping",
                "Carts",
                "Catalog",
                "Commerce",
                "Contracts",
                "Counting",
                "Customers",
                "Kafka",
                "Streams",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "API",
            dependencies: [
                "Commerce", "Contracts", "JSONCodec", "Kafka", "Postgres", "Projections", "Redis", "Streams", "Timestamps",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["App", "Kafka", "Streams", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "souk",
            dependencies: [
                "API",
                "App",
                "Contracts",
                "Kafka",
                "Postgres",
                "Projections",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: jemalloc
        ),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "App"]),
        .testTarget(name: "KafkaIntegrationTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(
            name: "StreamsTests",
            dependencies: ["Streams", "Counting", "Kafka", "Timestamps", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts", "App", "TestSupport"]),
        .testTarget(name: "CommerceTests", dependencies: ["Commerce", "Contracts"]),
        .testTarget(name: "PaymentsTests", dependencies: ["Payments", "Commerce", "Contracts"]),
        .testTarget(
            name: "RoleIntegrationTests",
            dependencies: [
                "Carts", "Catalog", "Commerce", "Contracts", "Customers", "Kafka", "Streams", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ProjectionsIntegrationTests",
            dependencies: ["Contracts", "Kafka", "Postgres", "Projections", "Redis", "Streams", "TestSupport"]
        ),
        .testTarget(
            name: "RoleTests",
            dependencies: ["Catalog", "Customers", "Carts", "Inventory", "Orders", "Payments", "Shipping", "RoleSupport", "Commerce", "Contracts", "JSONCodec", "Streams"]
        ),
        .testTarget(
            name: "SagaIntegrationTests",
            dependencies: [
                "App", "Carts", "Commerce", "Contracts", "Customers", "Inventory", "JSONCodec", "Kafka", "Orders", "Payments", "Postgres", "Projections", "RoleSupport",
                "Shipping", "Streams",
                "TestSupport", .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OperatorTests",
            dependencies: ["App", "Kafka", "Streams", "Counting", "Postgres", "Projections", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "StreamsIntegrationTests", dependencies: ["Streams", "Counting", "JSONCodec", "TestSupport"]),
        .testTarget(name: "JSONCodecTests", dependencies: ["JSONCodec", "Contracts", "Commerce"]),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Contracts", "Kafka", "Postgres", "Projections", "Redis", "Streams", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "APIEndToEndTests",
            dependencies: ["API", "App", "Contracts", "Kafka", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
