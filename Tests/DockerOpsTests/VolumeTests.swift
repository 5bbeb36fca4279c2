import ArchiveInspect
import DockerOps
import Foundation
import TestSupport
import Testing

/// Snapshot, removal and restore on the lab's real volumes. Each test leaves Connectware
/// running with its volumes as it found them.
@Suite(.serialized)
struct VolumeTests {
    @Test func snapshotRemoveAndRestoreBringBackEveryByteOfPostgreSQLAndServiceManager() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            try lab.run(["seed"])
            let checkBefore = try lab.run(["check"]).stdout
            let host = try lab.host()
            let installation = try host.discover()
            let certsName = "\(lab.project)_certs"
            let certs = try Lab.treeDigest(lab.mountpoint(certsName))
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            let directory = try TestSupport.temporaryDirectory("cwmigrate-snapshots")
            defer { try? FileManager.default.removeItem(at: directory) }
            for short in ["postgresql", "service-manager"] {
                let name = "\(lab.project)_\(short)"
                let digest = try Lab.treeDigest(lab.mountpoint(name))
                let file = directory.appendingPathComponent("\(short).tar.zst").path
                let manifest = try host.snapshotVolume(
                    name, to: file, connectwareVersion: installation.version?.description)
                #expect(manifest.files > 0)
                try host.removeVolume(name, snapshot: file, policy: .vendorDefault)
                #expect(try lab.volumeExists(name) == false)
                try host.restoreVolume(name, from: file)
                #expect(try Lab.treeDigest(lab.mountpoint(name)) == digest)
            }
            #expect(try Lab.treeDigest(lab.mountpoint(certsName)) == certs)
            try lab.startAgain(host)
            #expect(try lab.run(["check"]).stdout == checkBefore)
            #expect(try Lab.treeDigest(lab.mountpoint(certsName)) == certs)
        }
    }

    @Test func throughAHelperContainerASnapshotAndRestoreBringBackEveryByteAndTheHelperGoes() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let certsName = "\(lab.project)_certs"
            let certs = try Lab.treeDigest(lab.mountpoint(certsName))
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let directory = try TestSupport.temporaryDirectory("cwmigrate-helper")
            defer { try? FileManager.default.removeItem(at: directory) }
            for short in ["service-manager", "postgresql"] {
                let name = "\(lab.project)_\(short)"
                let digest = try Lab.treeDigest(lab.mountpoint(name))
                let file = directory.appendingPathComponent("\(short).tar.zst").path
                try host.snapshotVolume(name, to: file, connectwareVersion: nil, access: .helperContainer)
                let copy = directory.appendingPathComponent("\(short)-copy")
                try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
                _ = try extractTree(from: file, prefix: SnapshotManifest.dataPrefix, into: copy.path)
                #expect(try Lab.treeDigest(copy.path) == digest)
                try host.removeVolume(name, snapshot: file, policy: .vendorDefault)
                try host.restoreVolume(name, from: file, access: .helperContainer)
                #expect(try Lab.treeDigest(lab.mountpoint(name)) == digest)
            }
            let helpers = try TestSupport.shell(
                "DOCKER_HOST='\(lab.dockerHost)' docker ps -aq --filter label=io.cybus.cwmigrate")
            #expect(helpers.stdout.isEmpty)
            #expect(try Lab.treeDigest(lab.mountpoint(certsName)) == certs)
        }
    }

    @Test func volumesSnapshottedTogetherEachHoldEveryByteAndAnOccupiedOutputStopsAllBeforeAnyIsWritten()
        async throws
    {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let directory = try TestSupport.temporaryDirectory("cwmigrate-together")
            defer { try? FileManager.default.removeItem(at: directory) }
            let names = ["postgresql", "service-manager"].map { "\(lab.project)_\($0)" }
            let files = names.map { directory.appendingPathComponent("\($0).tar.zst").path }

            // The second output is taken: nothing is written, not even the first snapshot.
            _ = FileManager.default.createFile(atPath: files[1], contents: Data("taken".utf8))
            #expect(throws: DockerOpsError.self) {
                try host.snapshotVolumes(
                    zip(names, files).map { .init(volume: $0, output: $1) }, connectwareVersion: "1.8.0")
            }
            #expect(FileManager.default.fileExists(atPath: files[0]) == false)
            try FileManager.default.removeItem(atPath: files[1])

            let manifests = try host.snapshotVolumes(
                zip(names, files).map { .init(volume: $0, output: $1) }, connectwareVersion: "1.8.0")
            #expect(manifests.map(\.volume) == names)
            for (name, file) in zip(names, files) {
                try ConnectwareHost.verifySnapshot(at: file, volume: name)
                let copy = directory.appendingPathComponent(name + "-copy")
                try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
                _ = try extractTree(from: file, prefix: SnapshotManifest.dataPrefix, into: copy.path)
                #expect(try Lab.treeDigest(copy.path) == Lab.treeDigest(lab.mountpoint(name)))
            }
        }
    }

    @Test func aVolumeUsedByAStoppedContainerIsNotRemovedEvenWithAVerifiedSnapshot() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            let file = try TestSupport.temporaryDirectory().appendingPathComponent("sm.tar.zst").path
            try host.stop(installation, timeout: 10)
            try host.snapshotVolume(name, to: file, connectwareVersion: nil)
            #expect {
                try host.removeVolume(name, snapshot: file, policy: .vendorDefault)
            } throws: { error in
                guard case .volumeInUse(let volume, let containers) = error as? DockerOpsError else { return false }
                return volume == name && !containers.isEmpty
            }
            #expect(try lab.volumeExists(name))
            try lab.startAgain(host)
        }
    }

    @Test func snapshottingAVolumeARunningContainerWritesToIsRefused() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let name = "\(lab.project)_postgresql"
            let file = try TestSupport.temporaryDirectory().appendingPathComponent("pg.tar.zst").path
            #expect {
                try host.snapshotVolume(name, to: file, connectwareVersion: nil)
            } throws: { error in
                guard case .volumeInUse(let volume, _) = error as? DockerOpsError else { return false }
                return volume == name
            }
            #expect(FileManager.default.fileExists(atPath: file) == false)
        }
    }

    @Test func aVolumeWithoutAVerifiedSnapshotIsNotRemoved() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            let directory = try TestSupport.temporaryDirectory()
            let good = directory.appendingPathComponent("sm.tar.zst").path
            let other = directory.appendingPathComponent("scs.tar.zst").path
            try host.stop(installation, timeout: 10)
            try host.snapshotVolume(name, to: good, connectwareVersion: nil)
            try host.snapshotVolume("\(lab.project)_systemControlServerData", to: other, connectwareVersion: nil)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }

            // None at all.
            let missing = directory.appendingPathComponent("none.tar.zst").path
            #expect(throws: DockerOpsError.snapshotMissing(volume: name, path: missing)) {
                try host.removeVolume(name, snapshot: missing, policy: .vendorDefault)
            }
            // A snapshot of another volume.
            #expect {
                try host.removeVolume(name, snapshot: other, policy: .vendorDefault)
            } throws: { error in
                guard case .snapshotNotVerified(_, _, let reason) = error as? DockerOpsError else { return false }
                return reason.contains("_systemControlServerData")
            }
            // One byte changed in the archive.
            let damaged = directory.appendingPathComponent("damaged.tar.zst").path
            try TestSupport.shell(
                "cp '\(good)' '\(damaged)' && cp '\(good).manifest.json' '\(damaged).manifest.json' && "
                    + "printf 'X' | dd of='\(damaged)' bs=1 seek=200 conv=notrunc status=none")
            #expect {
                try host.removeVolume(name, snapshot: damaged, policy: .vendorDefault)
            } throws: { error in
                guard case .snapshotNotVerified = error as? DockerOpsError else { return false }
                return true
            }
            // The archive without its manifest.
            try FileManager.default.removeItem(atPath: damaged + ".manifest.json")
            #expect {
                try host.removeVolume(name, snapshot: damaged, policy: .vendorDefault)
            } throws: { error in
                guard case .snapshotNotVerified(_, _, let reason) = error as? DockerOpsError else { return false }
                return reason.contains("manifest")
            }
            #expect(try lab.volumeExists(name))
        }
    }

    @Test func certsAndVolumesOutsideThePlaybooksSetAreNeverRemoved() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let certsName = "\(lab.project)_certs"
            let certs = try Lab.treeDigest(lab.mountpoint(certsName))
            let directory = try TestSupport.temporaryDirectory()
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let certsSnapshot = directory.appendingPathComponent("certs.tar.zst").path
            try host.snapshotVolume(certsName, to: certsSnapshot, connectwareVersion: nil)
            let other = "\(lab.project)_systemControlServerData"
            let otherSnapshot = directory.appendingPathComponent("scs.tar.zst").path
            try host.snapshotVolume(other, to: otherSnapshot, connectwareVersion: nil)

            let evenNamed = VolumePolicy(removable: ["certs", "postgresql", certsName])
            #expect {
                try host.removeVolume(certsName, snapshot: certsSnapshot, policy: evenNamed)
            } throws: { error in
                guard case .volumeNotRemovable(let volume, let removable) = error as? DockerOpsError else {
                    return false
                }
                return volume == certsName && removable == ["postgresql"]
            }
            #expect(
                throws: DockerOpsError.volumeNotRemovable(volume: other, removable: ["postgresql", "service-manager"])
            ) {
                try host.removeVolume(other, snapshot: otherSnapshot, policy: .vendorDefault)
            }
            #expect(try lab.volumeExists(certsName))
            #expect(try lab.volumeExists(other))
            #expect(try Lab.treeDigest(lab.mountpoint(certsName)) == certs)
        }
    }

    @Test func restoreRefusesAVolumeInUseOrNotEmpty() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            let file = try TestSupport.temporaryDirectory().appendingPathComponent("sm.tar.zst").path
            let digest = try Lab.treeDigest(lab.mountpoint(name))
            try host.stop(installation, timeout: 10)
            try host.snapshotVolume(name, to: file, connectwareVersion: nil)
            try lab.startAgain(host)
            #expect {
                try host.restoreVolume(name, from: file)
            } throws: { error in
                guard case .volumeInUse(let volume, _) = error as? DockerOpsError else { return false }
                return volume == name
            }
            let now = try host.discover()
            try host.stop(now, timeout: 10)
            try host.removeContainers(now)
            defer { try? lab.startAgain(host) }
            #expect {
                try host.restoreVolume(name, from: file)
            } throws: { error in
                guard case .volumeNotEmpty(let volume, _) = error as? DockerOpsError else { return false }
                return volume == name
            }
            #expect(try Lab.treeDigest(lab.mountpoint(name)) == digest)
        }
    }
}
