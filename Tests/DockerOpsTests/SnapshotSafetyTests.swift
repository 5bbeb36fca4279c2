import Foundation
import TestSupport
import Testing

@testable import DockerOps

#if canImport(Glibc)
    import Glibc
#endif

/// A symlink planted at any name a snapshot writes (the archive, its `.manifest.json` and
/// `.sha256` sidecars, or their `.part` files) is never written through: the file it points
/// to keeps its bytes and mode, and what cwmigrate creates is 0600. No Docker needed.
struct SnapshotSafetyTests {
    struct Scene {
        let root: URL
        let source: String
        let victim: String
        let output: String

        init() throws {
            root = try TestSupport.temporaryDirectory("cwmigrate-snapshot-safety")
            source = root.appendingPathComponent("volume").path
            try TestSupport.shell("mkdir -p '\(source)/base' && printf 'PG 15\\n' > '\(source)/PG_VERSION'")
            victim = root.appendingPathComponent("victim").path
            try Data("the victim's bytes\n".utf8).write(to: URL(fileURLWithPath: victim))
            chmod(victim, 0o644)
            let snapshots = root.appendingPathComponent("snapshots")
            try FileManager.default.createDirectory(at: snapshots, withIntermediateDirectories: true)
            output = snapshots.appendingPathComponent("postgresql.tar.zst").path
        }

        func plant(at link: String) throws {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        }

        func snapshot() throws -> SnapshotManifest {
            try ConnectwareHost.snapshotDirectory(source, volume: "postgresql", to: output, connectwareVersion: "1.8.0")
        }

        var victimUnchanged: Bool {
            (try? String(contentsOfFile: victim, encoding: .utf8)) == "the victim's bytes\n" && mode(victim) == 0o644
        }

        /// The snapshot and both sidecars are regular files, 0600, and the snapshot verifies.
        func expectSnapshotInPlace() throws {
            for path in [output, output + ".manifest.json", output + ".sha256"] {
                #expect(!isSymlink(path), "\(path)")
                #expect(mode(path) == 0o600, "\(path)")
            }
            for path in [output + ".part", output + ".manifest.json.part", output + ".sha256.part"] {
                #expect(!lexists(path), "\(path)")
            }
            #expect(try ConnectwareHost.verifySnapshot(at: output, volume: "postgresql").volume == "postgresql")
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test(arguments: ["", ".manifest.json"])
    func aSymlinkAtTheSnapshotOrItsManifestIsRefused(suffix: String) throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.output + suffix)
        #expect(throws: DockerOpsError.outputExists(path: scene.output + suffix)) { try scene.snapshot() }
        #expect(scene.victimUnchanged)
        #expect(isSymlink(scene.output + suffix))
        #expect(!lexists(scene.output + ".part"))
    }

    /// The temporary files are cwmigrate's own names: a symlink there is removed, not followed.
    @Test(arguments: [".part", ".manifest.json.part", ".sha256.part"])
    func aSymlinkAtATemporaryFileIsNotFollowed(suffix: String) throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.output + suffix)
        _ = try scene.snapshot()
        #expect(scene.victimUnchanged)
        try scene.expectSnapshotInPlace()
    }

    /// The checksum file is a convenience beside the snapshot: a symlink there is replaced
    /// by the real file in one rename, and what it pointed to stays as it was.
    @Test func aSymlinkAtTheChecksumFileIsReplacedNotWrittenThrough() throws {
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.output + ".sha256")
        let manifest = try scene.snapshot()
        #expect(scene.victimUnchanged)
        try scene.expectSnapshotInPlace()
        let line = try String(contentsOfFile: scene.output + ".sha256", encoding: .utf8)
        #expect(line == "\(manifest.archiveSHA256 ?? "?")  postgresql.tar.zst\n")
    }
}

private func mode(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
}

private func isSymlink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
}

private func lexists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}
