import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `cwmigrate runbook` and `volumes snapshot` write only where nothing can be destroyed,
/// and say so before they read anything.
@Suite("outputs that cannot destroy anything")
struct OutputCLITests {
    final class Scene {
        let directory: URL
        let backup = "connectware-1.0.73.tgz"
        let backupBytes: Data

        init() throws {
            directory = try TestSupport.temporaryDirectory("cwmigrate-outputs")
            let id = "1.0.73_2022-02-16T15:37:19.242Z"
            try TestSupport.shell(
                """
                mkdir -p 'src/\(id)' && printf '{"version":"1.0.73","id":"\(id)"}' > 'src/\(id)/metadata.json' \
                && printf 'PGDMP' > 'src/\(id)/cybus_connectware.dump' && tar -C src -czf '\(backup)' '\(id)'
                """, in: directory)
            backupBytes = try Data(contentsOf: directory.appendingPathComponent(backup))
        }

        func cwmigrate(_ arguments: [String]) throws -> ProgramResult {
            try TestSupport.run(
                TestSupport.product("cwmigrate"), arguments,
                environment: ["XDG_STATE_HOME": directory.appendingPathComponent("state").path],
                currentDirectory: directory)
        }

        func runbook(_ extra: [String]) throws -> ProgramResult {
            try cwmigrate(["runbook", "--backup", backup, "--running", "1.8.0"] + extra)
        }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func text(_ name: String) -> String? { try? String(contentsOfFile: path(name), encoding: .utf8) }
        var backupUnchanged: Bool { (try? Data(contentsOf: directory.appendingPathComponent(backup))) == backupBytes }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func aRunbookOntoItsOwnBackupIsRefusedAndTheBackupKeepsItsBytes() throws {
        let scene = try Scene()
        let result = try scene.runbook(["--output", "./" + scene.backup, "--force"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: ./\(scene.backup) is "), "\(result.stderr)")
        #expect(result.stderr.contains("an input of this command; it would be destroyed"), "\(result.stderr)")
        #expect(scene.backupUnchanged)
    }

    @Test func aRunbookOntoItsOwnCompatFileIsRefused() throws {
        let scene = try Scene()
        try Data("barriers: []\n".utf8).write(to: URL(fileURLWithPath: scene.path("mine.yml")))
        let result = try scene.runbook(["--compat", "mine.yml", "--output", scene.path("mine.yml"), "--force"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(scene.text("mine.yml") == "barriers: []\n")
    }

    @Test func aDashWritesTheRunbookToStandardOutputAndNoFileNamedDash() throws {
        let scene = try Scene()
        let result = try scene.runbook(["--output", "-"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("## Step 1"), "\(result.stdout)")
        var info = stat()
        #expect(lstat(scene.path("-"), &info) != 0)
    }

    @Test func anExistingFileIsReplacedOnlyWithForce() throws {
        let scene = try Scene()
        try Data("my notes\n".utf8).write(to: URL(fileURLWithPath: scene.path("runbook.md")))
        let refused = try scene.runbook(["--output", "runbook.md"])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("error: runbook.md already exists"), "\(refused.stderr)")
        #expect(refused.stderr.contains("hint: give --force to replace it"), "\(refused.stderr)")
        #expect(scene.text("runbook.md") == "my notes\n")
        let forced = try scene.runbook(["--output", "runbook.md", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(scene.text("runbook.md")?.contains("## Step 1") == true)
    }

    @Test func aDeviceIsRefusedEvenWithForceAndStaysADevice() throws {
        let scene = try Scene()
        let result = try scene.runbook(["--output", "/dev/full", "--force"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: /dev/full is a character device"), "\(result.stderr)")
        var info = stat()
        #expect(lstat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func aDirectoryOrAFIFOIsRefusedWithoutBlocking() throws {
        let scene = try Scene()
        mkdir(scene.path("dir"), 0o755)
        mkfifo(scene.path("fifo"), 0o600)
        let directory = try scene.runbook(["--output", "dir", "--force"])
        #expect(directory.status == 73, "\(directory.stderr)")
        #expect(directory.stderr.hasPrefix("error: dir is a directory"), "\(directory.stderr)")
        let fifo = try scene.runbook(["--output", "fifo", "--force"])
        #expect(fifo.status == 73, "\(fifo.stderr)")
        #expect(fifo.stderr.hasPrefix("error: fifo is a FIFO"), "\(fifo.stderr)")
    }

    /// The output is refused before the backup is read: a backup that is not an archive
    /// would otherwise fail first (exit 65).
    @Test func theOutputIsCheckedBeforeTheBackupIsRead() throws {
        let scene = try Scene()
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: scene.path("junk.tgz")))
        let result = try scene.cwmigrate(
            ["runbook", "--backup", "junk.tgz", "--running", "1.8.0", "--output", "missing/runbook.md"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("error: cannot write missing/runbook.md: missing does not exist"),
            "\(result.stderr)")
    }

    @Test func anAnsibleDirectoryWithAPlaybookInItNeedsForce() throws {
        let scene = try Scene()
        mkdir(scene.path("fleet"), 0o755)
        try Data("# mine\n".utf8).write(to: URL(fileURLWithPath: scene.path("fleet/site.yml")))
        let refused = try scene.runbook(["--format", "ansible", "--output", "fleet"])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("error: fleet/site.yml already exists"), "\(refused.stderr)")
        #expect(scene.text("fleet/site.yml") == "# mine\n")
        #expect((try FileManager.default.contentsOfDirectory(atPath: scene.path("fleet"))) == ["site.yml"])
        let forced = try scene.runbook(["--format", "ansible", "--output", "fleet", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(scene.text("fleet/site.yml") != "# mine\n")
    }

    @Test func aSnapshotIsRefusedOntoAFIFOAndIntoAMissingDirectoryBeforeAnythingIsRead() throws {
        let scene = try Scene()
        mkdir(scene.path("volume"), 0o755)
        mkfifo(scene.path("fifo"), 0o600)
        let fifo = try scene.cwmigrate([
            "volumes", "snapshot", "postgresql", "--directory", "volume", "--output", "fifo",
        ])
        #expect(fifo.status == 73, "\(fifo.stderr)")
        #expect(fifo.stderr.hasPrefix("error: "), "\(fifo.stderr)")
        #expect(fifo.stderr.contains("fifo"), "\(fifo.stderr)")
        let missing = try scene.cwmigrate(
            ["volumes", "snapshot", "postgresql", "--directory", "volume", "--output", "missing/pg.tar.zst"])
        #expect(missing.status == 73, "\(missing.stderr)")
        #expect(missing.stderr.contains("missing does not exist"), "\(missing.stderr)")
    }
}
