import Dispatch
import ArchiveInspect
import Foundation
import TestSupport
import Testing

@testable import DockerOps

/// Snapshots of plain directories: no Docker needed.
struct SnapshotTests {
    /// A scratch directory, its `source` directory holding 300,000 random bytes, and the path
    /// of a snapshot file beside it, not written yet.
    func randomDirectorySnapshotPlace() throws -> (root: URL, source: String, file: String) {
        let root = try TestSupport.temporaryDirectory()
        let source = root.appendingPathComponent("source").path
        try TestSupport.shell("mkdir -p '\(source)' && head -c 300000 /dev/urandom > '\(source)/data'")
        return (root, source, root.appendingPathComponent("snap.tar.zst").path)
    }

    @Test func aDirectorySnapshotRestoresModesOwnersSymlinksHardLinksAndBytes() throws {
        let root = try TestSupport.temporaryDirectory()
        let source = root.appendingPathComponent("source").path
        let target = root.appendingPathComponent("target").path
        try TestSupport.shell(
            """
            mkdir -p '\(source)/base/1' '\(source)/empty' '\(target)' && cd '\(source)' && \
            head -c 3000000 /dev/urandom > base/1/16384 && printf 'PG 15\\n' > PG_VERSION && \
            ln -s base/1/16384 link && ln PG_VERSION hard && chmod 700 base && chmod 600 PG_VERSION && \
            chown -R 999:998 base && chown 70:70 empty && chmod 2750 empty && touch -d 2020-01-02T03:04:05 PG_VERSION
            """)
        let file = root.appendingPathComponent("snap.tar.zst").path
        let manifest = try ConnectwareHost.snapshotDirectory(
            source, volume: "lab_pg", to: file, connectwareVersion: "1.8.1")
        #expect(manifest.files == 2)
        #expect(manifest.hardlinks == 1)
        #expect(manifest.symlinks == 1)
        #expect(manifest.bytes == 3_000_006)

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))
        #expect(facts.version.description == "1.8.1")
        #expect(facts.sha256 == manifest.archiveSHA256)
        let sidecar = try String(contentsOfFile: file + ".sha256", encoding: .utf8)
        #expect(sidecar == "\(manifest.archiveSHA256!)  snap.tar.zst\n")
        #expect(try TestSupport.shell("cd '\(root.path)' && sha256sum -c snap.tar.zst.sha256").status == 0)

        try ConnectwareHost.verifySnapshot(at: file, volume: "lab_pg")
        let totals = try extractTree(from: file, prefix: SnapshotManifest.dataPrefix, into: target)
        #expect(totals.entries == manifest.entries)
        #expect(try Lab.treeDigest(target) == Lab.treeDigest(source))
        #expect(try TestSupport.shell("stat -c %h '\(target)/hard'").stdout == "2\n")
    }

    @Test func aSnapshotNeverReplacesAnExistingFile() throws {
        let root = try TestSupport.temporaryDirectory()
        let file = root.appendingPathComponent("snap.tar.zst").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep".utf8)))
        #expect(throws: DockerOpsError.outputExists(path: file)) {
            try ConnectwareHost.snapshotDirectory(root.path, volume: "x", to: file, connectwareVersion: nil)
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep")
    }

    @Test func retargetingTheComposeFileChangesEveryConnectwareTagAndVersionValue() throws {
        let text = """
            services:
              postgresql:
                image: registry.cybus.io/cybus/postgresql:1.8.1
              admin-web-app:
                image: "registry.cybus.io/cybus/admin-web-app:1.8.1"
                environment:
                  CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION: "1.8.1"
                  OTHER: 1.8.10
              other:
                image: example.org/tool:1.8.1
            """
        let result = ConnectwareHost.retargetCompose(text, to: "1.7.3")
        #expect(result.contains("image: registry.cybus.io/cybus/postgresql:1.7.3"))
        #expect(result.contains("image: \"registry.cybus.io/cybus/admin-web-app:1.7.3\""))
        #expect(result.contains("CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION: \"1.7.3\""))
        #expect(result.contains("OTHER: 1.8.10"))
        #expect(result.contains("image: example.org/tool:1.8.1"))
    }
    @Test func snapshotsVerifiedTogetherComeBackInTheOrderAskedAndNameTheOneThatWasChanged() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var files: [String] = []
        for name in ["first", "second", "third"] {
            let source = root.appendingPathComponent(name).path
            try TestSupport.shell("mkdir -p '\(source)' && head -c 200000 /dev/urandom > '\(source)/data'")
            let file = root.appendingPathComponent("\(name).tar.zst").path
            _ = try ConnectwareHost.snapshotDirectory(
                source, volume: "lab_\(name)", to: file, connectwareVersion: "1.8.0")
            files.append(file)
        }
        // One byte of the second snapshot inverted after it was made (never written as it was).
        try TestSupport.invertByte(at: 100, of: files[1])

        let outcomes = ConnectwareHost.verifySnapshots([
            (files[0], "lab_first"), (files[1], "lab_second"), (files[2], "lab_third"),
        ])
        #expect(outcomes.count == 3)
        #expect((try? outcomes[0].get())?.volume == "lab_first")
        #expect((try? outcomes[2].get())?.volume == "lab_third")
        guard case .failure(.snapshotNotVerified(let volume, let path, _)) = outcomes[1] else {
            Issue.record("the changed snapshot verified: \(outcomes[1])")
            return
        }
        #expect(volume == "lab_second")
        #expect(path == files[1])
    }

    @Test func aRecheckedSnapshotIsReadWholeAgainOnceAByteChangedEvenWithItsModificationTimePutBack() throws {
        let (root, source, file) = try randomDirectorySnapshotPlace()
        defer { try? FileManager.default.removeItem(at: root) }
        let made = try ConnectwareHost.snapshotDirectory(source, volume: "lab_sm", to: file, connectwareVersion: "1.8.0")
        try ConnectwareHost.verifySnapshot(at: file, volume: "lab_sm")
        #expect(try ConnectwareHost.recheckSnapshot(at: file, volume: "lab_sm") == made)
        #expect(throws: DockerOpsError.self) { try ConnectwareHost.recheckSnapshot(at: file, volume: "lab_other") }

        // One byte inverted in place, and the modification time set back to what it was.
        try TestSupport.invertByte(at: 100, of: file, keepingModificationTime: true)
        #expect {
            try ConnectwareHost.recheckSnapshot(at: file, volume: "lab_sm")
        } throws: { error in
            guard case .snapshotNotVerified(let volume, let path, _) = error as? DockerOpsError else { return false }
            return volume == "lab_sm" && path == file
        }
    }

    @Test func aSnapshotThisProcessNeverReadWholeIsReadWholeByARecheck() throws {
        let (root, source, file) = try randomDirectorySnapshotPlace()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try ConnectwareHost.snapshotDirectory(source, volume: "lab_pg", to: file, connectwareVersion: "1.8.0")
        try TestSupport.invertByte(at: 100, of: file)
        #expect {
            try ConnectwareHost.recheckSnapshot(at: file, volume: "lab_pg")
        } throws: { error in
            guard case .snapshotNotVerified = error as? DockerOpsError else { return false }
            return true
        }
    }

    @Test func aRecheckReadsTheSidecarManifestAgainAndReadsTheSnapshotWholeWhenItDiffers() throws {
        let (root, source, file) = try randomDirectorySnapshotPlace()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try ConnectwareHost.snapshotDirectory(source, volume: "lab_pg", to: file, connectwareVersion: "1.8.0")
        try ConnectwareHost.verifySnapshot(at: file, volume: "lab_pg")
        // The manifest now claims other contents: the archive, read whole, no longer matches it.
        let sidecar = SnapshotManifest.sidecarPath(of: file)
        try TestSupport.shell("sed -i 's/\"entries\" : [0-9]*/\"entries\" : 7/' '\(sidecar)'")
        #expect(try String(contentsOfFile: sidecar, encoding: .utf8).contains("\"entries\" : 7"))
        #expect {
            try ConnectwareHost.recheckSnapshot(at: file, volume: "lab_pg")
        } throws: { error in
            guard case .snapshotNotVerified(_, _, let reason) = error as? DockerOpsError else { return false }
            return reason.contains("the manifest says 8")
        }
    }

    @Test func workDoneAtTheSameTimeComesBackInTheOrderOfItsIndicesWithEachFailureInItsPlace() {
        // Index 0 finishes only once index 1 has begun: one after another, it would wait in vain.
        let second = DispatchSemaphore(value: 0)
        let outcomes = ConnectwareHost.concurrently(4) { (index: Int) throws(DockerOpsError) -> Int in
            if index == 0, second.wait(timeout: .now() + 20) == .timedOut { return -1 }
            if index == 1 { second.signal() }
            if index == 2 { throw .noSuchVolume("volume-\(index)") }
            return index * 10
        }
        #expect(outcomes.count == 4)
        #expect((try? outcomes[0].get()) == 0)
        #expect((try? outcomes[1].get()) == 10)
        #expect((try? outcomes[3].get()) == 30)
        guard case .failure(.noSuchVolume("volume-2")) = outcomes[2] else {
            Issue.record("index 2 did not fail in its place: \(outcomes[2])")
            return
        }
    }
}
