// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cwmigrate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cwmigrate", targets: ["cwmigrate"]),
        .executable(name: "cwsim", targets: ["cwsim"]),
        // For Fuzz/, whose own package depends on this one by path and can use only products.
        .library(name: "Planner", targets: ["Planner"]),
        .library(name: "ArchiveInspect", targets: ["ArchiveInspect"]),
        .library(name: "ConnectwareAPI", targets: ["ConnectwareAPI"]),
        .library(name: "Vocabulary", targets: ["Vocabulary"]),
        .library(name: "YAML", targets: ["YAML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C at the edge: only ArchiveInspect imports CArchive, CCrypto and CIsal, only HTTP imports CCurl,
        // only YAML imports CYAML.
        // libarchive's headers (Debian `libarchive-dev`) and a loader that opens the library on
        // first use, so start-up does not load it and the libxml2, ICU and libstdc++ it brings.
        .target(name: "CArchive", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CIsal", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        // libcurl's headers (Debian `libcurl4-openssl-dev`) and a loader that opens the library on
        // first use, so a command that sends no request does not load it and the TLS, HTTP/2,
        // IDN, SSH, Kerberos and LDAP libraries it brings.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        // glibc's posix_spawn extensions Swift's Glibc module hides; only DockerOps imports it.
        .systemLibrary(name: "CSpawn"),

        // The bottom floor: the one way any target writes a file.
        .target(name: "SafeFiles"),
        // The ground floor: the shared vocabulary (Version, BackupID, Timestamp, installation kind),
        // progress reporting and byte formatting; every library may import it.
        .target(name: "Vocabulary"),
        // YAML documents as written (libyaml's events into a small node tree); no Foundation.
        .target(name: "YAML", dependencies: ["CYAML"]),
        .target(name: "Planner", dependencies: ["Vocabulary", "YAML"]),
        .target(
            name: "ArchiveInspect",
            dependencies: [
                "CArchive", "CCrypto", "CIsal", "SafeFiles", "Vocabulary", "YAML",
            ]),
        .target(name: "HTTP", dependencies: ["CCurl", "SafeFiles", "Vocabulary"]),
        .target(name: "ConnectwareAPI", dependencies: ["HTTP", "Planner", "Vocabulary"]),
        .target(
            name: "DockerOps",
            dependencies: [
                "CSpawn", "HTTP", "ArchiveInspect", "Planner", "SafeFiles", "Vocabulary", "YAML",
            ]),
        .target(
            name: "Runbook",
            dependencies: [
                "Planner", "SafeFiles", "Vocabulary", "YAML",
            ]),
        .target(
            name: "Migration",
            dependencies: ["Planner", "ConnectwareAPI", "DockerOps", "ArchiveInspect", "SafeFiles", "Vocabulary"]),
        // The application: the knowledge store, the run's lifecycle and the precheck suite,
        // what the commands call; the CLI above it only parses, calls and prints.
        .target(
            name: "Application",
            dependencies: ["Migration", "Planner", "ArchiveInspect", "ConnectwareAPI", "DockerOps", "HTTP", "Runbook", "SafeFiles", "Vocabulary"]),
        .executableTarget(
            name: "cwmigrate",
            dependencies: [
                "Application", "ArchiveInspect", "Planner", "ConnectwareAPI", "HTTP", "DockerOps", "Migration", "Runbook",
                "SafeFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "cwbench",
            // HTTP alone: no Foundation, so its start-up and memory are the transport's, as curl's are.
            dependencies: ["HTTP"]),
        .executableTarget(
            name: "cwsim",
            dependencies: [
                "ArchiveInspect", "Vocabulary",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SafeFilesTests", dependencies: ["SafeFiles", "TestSupport"]),
        .testTarget(name: "VocabularyTests", dependencies: ["Vocabulary", "TestSupport"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "TestSupport"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "TestSupport"]),
        .testTarget(name: "ArchiveInspectTests", dependencies: ["ArchiveInspect", "Vocabulary", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ConnectwareAPITests", dependencies: ["ConnectwareAPI", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DockerOpsTests", dependencies: ["DockerOps", "TestSupport"]),
        .testTarget(name: "MigrationTests", dependencies: ["Migration", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ApplicationTests",
            dependencies: ["Application", "ArchiveInspect", "ConnectwareAPI", "DockerOps", "Migration", "Planner", "TestSupport"]),
        .testTarget(name: "RunbookTests", dependencies: ["Runbook", "Planner", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "SimulatorTests", dependencies: ["TestSupport"]),
    ]
)
