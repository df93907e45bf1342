// swift-tools-version: 6.1
import PackageDescription

// RadStream: a daemon and command-line tool for the stream of chest X-ray studies.
// Modules are split by concern; C libraries sit behind thin system-library or shim targets.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
// The numeric modules are optimised in debug builds too: the tests and the debug daemon of the
// integration tests train and run real models, which unoptimised array code makes tens of times slower.
let numeric: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "RadStream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "radstream", targets: ["RadStreamCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // C libraries: system-library targets found through pkg-config, and two thin shims
        // for what Swift cannot call directly (setjmp error handling, DCMTK's C++ API).
        .systemLibrary(name: "CKafka", path: "Sources/C/CKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Sources/C/CPostgres", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/C/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/C/CMalloc"),
        .target(name: "CImageCodecs", path: "Sources/C/CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        .target(name: "CDicom", path: "Sources/C/CDicom",
                linkerSettings: ["dcmimage", "dcmimgle", "dcmjpeg", "dcmjpls", "dcmdata",
                                 "ijg8", "ijg12", "ijg16", "dcmtkcharls", "oflog", "ofstd"]
                    .map { .linkedLibrary($0) }),
        .target(name: "CDicomReport", path: "Sources/C/CDicomReport",
                linkerSettings: ["dcmsr", "dcmdata", "oflog", "ofstd"].map { .linkedLibrary($0) }),
        .target(name: "CDicomNetwork", path: "Sources/C/CDicomNetwork",
                linkerSettings: ["dcmnet", "dcmdata", "oflog", "ofstd"].map { .linkedLibrary($0) }),

        // The SQL migrations and event JSON Schemas of schemas/, bundled with the binary.
        .target(name: "Schemas", path: "schemas", exclude: ["asyncapi.yaml"],
                resources: [.copy("migrations"), .copy("events")]),

        // The release and the commit a binary is built from (`--version`, `radstream_build_info`).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", swiftSettings: strict, plugins: ["BuildInfoPlugin"]),

        // Domain modules.
        .target(name: "Reports", swiftSettings: strict),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "CDicom"], swiftSettings: strict),
        .target(name: "Events", dependencies: ["Reports", "Imaging"], swiftSettings: strict),
        .target(name: "Kafka", dependencies: ["CKafka"],
                swiftSettings: strict),
        .target(name: "ChildProcesses", swiftSettings: strict),
        .target(name: "Postgres", dependencies: ["CPostgres", "ChildProcesses"],
                swiftSettings: strict),
        .target(name: "Pipeline",
                dependencies: [
                    "Events", "Kafka", "Postgres", "Reports", "Imaging", "Schemas", "Models", "Summarization", "Captioning", "SelfTraining", "Registry", "Dashboard", "Gateway", "ResultDocuments",
                    "Diffusion", "Explanations", "BuildInfo",
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "Hummingbird", package: "hummingbird"),
                ],
                swiftSettings: strict),
        // Optimised in every configuration, as the numeric Swift modules are.
        .target(name: "CConvolution", path: "Sources/C/CConvolution", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CVectorMath", path: "Sources/C/CVectorMath", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "TensorEngine", dependencies: ["COpenBLAS", "CMalloc", "CConvolution", "CVectorMath"], swiftSettings: numeric),
        .target(name: "Models", dependencies: ["TensorEngine"], swiftSettings: numeric),
        .target(name: "Training", dependencies: ["Models", "TensorEngine", "Imaging"], swiftSettings: numeric),
        .target(name: "Summarization", dependencies: ["Reports", "TensorEngine", "Models", "CVectorMath"], swiftSettings: numeric),
        .target(name: "Captioning", dependencies: ["Summarization", "Reports", "TensorEngine", "Models", "Training"], swiftSettings: numeric),
        .target(name: "Diffusion", dependencies: ["TensorEngine", "Training", "Models", "Imaging"], swiftSettings: numeric),
        .target(name: "Explanations", dependencies: ["Postgres"], swiftSettings: strict),
        // The web dashboard: server-rendered pages over the dashboard views, behind a login.
        .target(name: "Dashboard", dependencies: ["Postgres", "Imaging", .product(name: "Hummingbird", package: "hummingbird")],
                swiftSettings: strict),
        .target(name: "SelfTraining", dependencies: ["Training", "Models", "TensorEngine"], swiftSettings: numeric),
        // The home of the model registry and the round log (and the leadership's lock), on PostgreSQL.
        .target(name: "Registry", dependencies: ["SelfTraining", "Postgres", "Models", "Training", "TensorEngine"], swiftSettings: strict),
        .target(name: "Replay", dependencies: ["Events", "Kafka", "Reports"], swiftSettings: strict),
        // An image's result as a DICOM SR and a FHIR DiagnosticReport: what goes back to the hospital.
        .target(name: "ResultDocuments", dependencies: ["CDicomReport", "Events"], swiftSettings: strict),
        // DICOM C-STORE and HL7 MLLP in, events out: the hospital's door.
        .target(name: "Gateway", dependencies: ["CDicomNetwork", "Events", "Kafka", "Imaging", "Reports",
                                                .product(name: "Logging", package: "swift-log"),
                                                .product(name: "Prometheus", package: "swift-prometheus"),
                                                .product(name: "Hummingbird", package: "hummingbird"),
                                                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                swiftSettings: strict),
        // Local servers started together (the embedded broker, a private PostgreSQL) and what runs
        // on them beside the daemon: the reliability drill.
        .target(name: "Harness", dependencies: ["Pipeline", "Kafka", "Postgres", "Events", "Replay", "Reports", "ChildProcesses",
                                                "Models", "Training", "SelfTraining", "Registry", "Dashboard"],
                swiftSettings: strict),
        .executableTarget(
            name: "RadStreamCLI",
            dependencies: [
                "Harness", "Pipeline", "Events", "Kafka", "Postgres", "Reports", "Imaging", "Replay", "ChildProcesses",
                "TensorEngine", "Models", "Training", "Summarization", "Captioning", "SelfTraining", "Registry", "Diffusion", "Dashboard", "Gateway", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),

        // Fuzz targets (Fuzz/README.md). Built as here, each replays the files it is given through
        // its harness, so that the kept corpus is run by the tests; Fuzz/run.sh builds them with
        // libFuzzer and the address sanitizer.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzEvents", dependencies: ["Events", "FuzzSupport"], path: "Fuzz/Targets/FuzzEvents"),
        .executableTarget(name: "FuzzSections", dependencies: ["Reports", "FuzzSupport"], path: "Fuzz/Targets/FuzzSections"),
        .executableTarget(name: "FuzzIUXML", dependencies: ["Reports", "FuzzSupport"], path: "Fuzz/Targets/FuzzIUXML"),
        .executableTarget(name: "FuzzPNG", dependencies: ["Imaging", "FuzzSupport"], path: "Fuzz/Targets/FuzzPNG"),
        .executableTarget(name: "FuzzJPEG", dependencies: ["Imaging", "FuzzSupport"], path: "Fuzz/Targets/FuzzJPEG"),
        .executableTarget(name: "FuzzDICOM", dependencies: ["Imaging", "FuzzSupport"], path: "Fuzz/Targets/FuzzDICOM"),

        // Test support shared by the test targets: where the shared data and the package are.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EventsTests", dependencies: ["Events", "Schemas"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard"]),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine"], exclude: ["Fixtures"]),
        // Counts a thread's heap allocations (malloc replaced in the test executable, forwarding to glibc).
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TensorEngine", "AllocationCounter", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "TensorEngine", "TestSupport"]),
        .testTarget(name: "SummarizationTests", dependencies: ["Summarization", "Reports", "TensorEngine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CaptioningTests", dependencies: ["Captioning", "Summarization", "Reports", "Models", "TensorEngine", "Training", "TestSupport"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "Training", "Models", "TensorEngine", "TestSupport"]),
        .testTarget(name: "SelfTrainingTests", dependencies: ["SelfTraining", "Training", "Models", "TensorEngine", "TestSupport"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Reports", "Events"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ResultDocumentsTests", dependencies: ["ResultDocuments", "Events", "ChildProcesses"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Events", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Events", "Kafka", "Postgres", "Models", "Imaging", "Reports", "Summarization", "Captioning", "TestSupport"]),
        .testTarget(name: "ChildProcessesTests", dependencies: ["ChildProcesses"]),
        .testTarget(name: "IntegrationTests",
                    dependencies: ["Pipeline", "Events", "Kafka", "Postgres", "Replay", "Reports", "ChildProcesses", "Models", "Summarization", "Captioning",
                                   "SelfTraining", "Registry", "Training", "Imaging", "Explanations", "TestSupport", "BuildInfo", "Harness",
                                   "Dashboard", "TensorEngine"]),
    ]
)
