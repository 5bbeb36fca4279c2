@testable import DockerOps
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a killed cwmigrate leaves on the Docker host is cleared without a manual step.
@Suite(.serialized)
struct LeftoverTests {
    func helpers(_ lab: Lab) throws -> [String] {
        try TestSupport.shell(
            "DOCKER_HOST='\(lab.dockerHost)' docker ps -aq --no-trunc --filter label=\(HelperContainer.label)"
        ).stdout.split(separator: "\n").map(String.init)
    }

    @Test func aHelperContainerOrphanedBySIGKILLDuringASnapshotIsRemovedAndALiveOnesHelperStays() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let volume = "\(lab.project)_postgresql"
            let directory = try TestSupport.temporaryDirectory("cwmigrate-leftover")
            defer { try? FileManager.default.removeItem(at: directory) }
            #expect(try helpers(lab).isEmpty)

            let child = Process()
            child.executableURL = TestSupport.product("cwmigrate")
            child.arguments = [
                "volumes", "snapshot", volume, "-o", directory.appendingPathComponent("pg.tar.zst").path,
                "--access", "helper-container",
            ]
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            var seen: [String] = []
            for _ in 0..<3000 where child.isRunning {
                seen = try helpers(lab)
                if !seen.isEmpty { break }
                usleep(10_000)
            }
            try #require(!seen.isEmpty, "the snapshot ended before its helper container was seen")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(try helpers(lab) == seen, "the killed snapshot's helper is left behind")

            let live = try HelperContainer.create(for: volume, readOnly: true, engine: host.engine)
            defer { live.remove() }
            let removed = try host.removeOrphanedHelpers()
            #expect(removed.contains { $0.hasPrefix("helper container cwmigrate-volume-") }, "\(removed)")
            #expect(try helpers(lab) == [live.id], "only the helper of this live process stays")
            live.remove()
            // Nothing uses the volume any more: it can be removed (here: inspected as unused).
            let users = try TestSupport.shell(
                "DOCKER_HOST='\(lab.dockerHost)' docker ps -aq --filter volume=\(volume)"
            ).stdout
            #expect(users.isEmpty)
        }
    }

    func staged(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
            $0.hasPrefix("cwmigrate-") || $0.hasPrefix(".cwmigrate-")
        }
    }

    @Test func aHelperSnapshotStagesBesideItsOutputNeverInTMPDIRAndTheNextClearsWhatAKilledOneLeft() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let volume = "\(lab.project)_postgresql"
            let directory = try TestSupport.temporaryDirectory("cwmigrate-staging")
            let temporary = try TestSupport.temporaryDirectory("cwmigrate-tmpdir")
            defer {
                try? FileManager.default.removeItem(at: directory)
                try? FileManager.default.removeItem(at: temporary)
            }
            let arguments = { (name: String) in
                ["volumes", "snapshot", volume, "-o", directory.appendingPathComponent(name).path,
                 "--access", "helper-container"]
            }
            let child = Process()
            child.executableURL = TestSupport.product("cwmigrate")
            child.arguments = arguments("killed.tar.zst")
            child.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": temporary.path]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            var seen: [String] = []
            for _ in 0..<30000 where child.isRunning {
                seen = staged(in: directory)
                if !seen.isEmpty { break }
                usleep(1_000)
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            try #require(!seen.isEmpty, "the snapshot ended before it staged its tar")
            #expect(!staged(in: directory).isEmpty, "the killed snapshot's staged tar is beside its output")
            #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty)

            let again = try TestSupport.run(
                TestSupport.product("cwmigrate"), arguments("again.tar.zst"), environment: ["TMPDIR": temporary.path])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(staged(in: directory).isEmpty, "the next snapshot there cleared the leftover")
            #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "TMPDIR stays empty")
            try ConnectwareHost.verifySnapshot(at: directory.appendingPathComponent("again.tar.zst").path, volume: volume)
            _ = try host.removeOrphanedHelpers()
        }
    }
}
