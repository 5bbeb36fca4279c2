// swift-tools-version:6.0
// libFuzzer targets over cwmigrate's parsers. Built apart from the main package, with
// `scripts/fuzz`, because every module must be compiled with -sanitize=fuzzer,address
// and libFuzzer supplies `main`; the main package's build never sees this directory.
import PackageDescription

let package = Package(
    name: "cwmigrate-fuzz",
    dependencies: [.package(name: "cwmigrate", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "FuzzArchiveInspect", dependencies: ["CFuzzerDriver", .product(name: "ArchiveInspect", package: "cwmigrate")]),
        .executableTarget(
            name: "FuzzMaintenanceStatus", dependencies: ["CFuzzerDriver", .product(name: "ConnectwareAPI", package: "cwmigrate")]),
        .executableTarget(name: "FuzzRestoreRefusal", dependencies: ["CFuzzerDriver", .product(name: "Planner", package: "cwmigrate")]),
        .executableTarget(name: "FuzzCompatFile", dependencies: ["CFuzzerDriver", .product(name: "Planner", package: "cwmigrate")]),
        .executableTarget(name: "FuzzPlaybook", dependencies: ["CFuzzerDriver", .product(name: "Planner", package: "cwmigrate")]),
        .executableTarget(name: "FuzzJSON", dependencies: ["CFuzzerDriver", .product(name: "Vocabulary", package: "cwmigrate")]),
        .executableTarget(name: "FuzzYAML", dependencies: ["CFuzzerDriver", .product(name: "YAML", package: "cwmigrate")]),
        .executableTarget(name: "FuzzVersion", dependencies: ["CFuzzerDriver", .product(name: "Planner", package: "cwmigrate")]),
    ]
)
