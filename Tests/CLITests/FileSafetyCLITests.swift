import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A maintenance API that takes backups and refuses every restore, enough for `backup`
/// and `restore` to write their files; it serves the file named on its command line as
/// the backup. Written to the test's directory and run with python3 (no PostgreSQL).
private let fakeMaintenanceServer = #"""
    import json, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    BACKUP = sys.argv[1]
    state = {"backup": None, "restore": None, "n": 0}
    lock = threading.Lock()

    def stamp():
        state["n"] += 1
        return "2026-11-27T00:00:%02d.000Z" % (state["n"] % 60)

    class Handler(BaseHTTPRequestHandler):
        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/api/maintenance/db":
                with lock:
                    body = {"running": False}
                    for key in ("backup", "restore"):
                        if state[key] is not None:
                            body[key] = state[key]
                self.answer(200, body)
            elif self.path == "/api/maintenance/db/backup":
                with open(BACKUP, "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self.answer(404, {"message": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            while length > 0:
                length -= len(self.rfile.read(min(length, 1 << 20)))
            with lock:
                if self.path == "/api/maintenance/db/backup":
                    start = stamp()
                    state["backup"] = {"id": "1.6.0_" + start, "startDate": start, "endDate": stamp(),
                                       "succeded": True, "statusMessage": "ok"}
                    code = 202
                elif self.path == "/api/maintenance/db/restore":
                    start = stamp()
                    state["restore"] = {"startDate": start, "endDate": stamp(), "succeded": False,
                                        "statusMessage": "Restore failed: the last version that can restore it is 1.7.3"}
                    code = 202
                else:
                    code = 404
            self.answer(code, {})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on %d" % server.server_address[1], flush=True)
    server.serve_forever()
    """#

/// A symlink planted at any file `backup` and `restore` write (the backup, its `.part`,
/// its `.unverified` name, the learned compat file) never has a byte written through it:
/// the file it points to, outside, keeps its bytes and mode; what cwmigrate creates is 0600.
@Suite("files that backup and restore write never follow a planted symlink", .serialized)
struct FileSafetyCLITests {
    static let id = "1.6.0_2026-11-27T00-00-00.000Z"

    final class Scene {
        let directory: URL
        let victim: String
        let state: URL
        private var server: RunningProgram?
        private(set) var url = ""

        /// `backupBytes`: what the server sends as the backup; nil for a real archive.
        init(backupBytes: Data? = nil) throws {
            directory = try TestSupport.temporaryDirectory("cwmigrate-file-safety")
            victim = directory.appendingPathComponent("victim").path
            try Data("the victim's bytes\n".utf8).write(to: URL(fileURLWithPath: victim))
            chmod(victim, 0o644)
            state = directory.appendingPathComponent("state")
            let served = directory.appendingPathComponent("served.tgz")
            if let backupBytes {
                try backupBytes.write(to: served)
            } else {
                try TestSupport.shell(
                    """
                    set -e; mkdir -p src/\(FileSafetyCLITests.id)
                    printf '{"version":"1.6.0","id":"1.6.0_2026-11-27T00:00:00.000Z"}' > src/\(FileSafetyCLITests.id)/metadata.json
                    head -c 100000 /dev/urandom > src/\(FileSafetyCLITests.id)/dump.sql
                    tar -C src -czf served.tgz \(FileSafetyCLITests.id)
                    """, in: directory)
            }
            let script = directory.appendingPathComponent("server.py")
            try Data(fakeMaintenanceServer.utf8).write(to: script)
            let program = try RunningProgram(
                URL(fileURLWithPath: "/usr/bin/python3"), ["-u", script.path, served.path],
                readyPrefix: "listening on", logFile: directory.appendingPathComponent("server.log"))
            server = program
            url = "http://127.0.0.1:" + (program.readyLine.split(separator: " ").last.map(String.init) ?? "0")
        }

        func cwmigrate(_ arguments: [String]) throws -> ProgramResult {
            try TestSupport.run(
                TestSupport.product("cwmigrate"), arguments + ["--url", url, "--progress", "none"],
                environment: ["CWMIGRATE_PASSWORD": "secret", "CWMIGRATE_TOKEN": "", "XDG_STATE_HOME": state.path],
                currentDirectory: directory)
        }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        /// Whether the server was asked for a backup (its status then names one).
        var serverTookABackup: Bool {
            get throws {
                try TestSupport.shell("curl -sf \(url)/api/maintenance/db").stdout.contains("\"backup\"")
            }
        }

        func plant(at link: String) throws {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        }

        var victimUnchanged: Bool {
            (try? String(contentsOfFile: victim, encoding: .utf8)) == "the victim's bytes\n" && mode(victim) == 0o644
        }

        /// SIGKILL: children of the test runner ignore SIGTERM.
        func stop() {
            if let server {
                kill(server.processIdentifier, SIGKILL)
                server.stop()
            }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func aSymlinkAtTheOutputIsRefusedWithoutForce() throws {
        let scene = try Scene()
        defer { scene.stop() }
        try scene.plant(at: scene.path("out.tgz"))
        let result = try scene.cwmigrate(["backup", "--output", "out.tgz"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains("already exists"), "\(result.stderr)")
        #expect(scene.victimUnchanged)
        #expect(isSymlink(scene.path("out.tgz")))
        #expect(!lexists(scene.path("out.tgz.part")))
    }

    @Test func forceReplacesASymlinkAtTheOutputNotTheFileBehindIt() throws {
        let scene = try Scene()
        defer { scene.stop() }
        try scene.plant(at: scene.path("out.tgz"))
        let result = try scene.cwmigrate(["backup", "--output", "out.tgz", "--force"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(scene.victimUnchanged)
        #expect(!isSymlink(scene.path("out.tgz")))
        #expect(mode(scene.path("out.tgz")) == 0o600)
    }

    @Test func aSymlinkAtThePartFileIsNotFollowed() throws {
        let scene = try Scene()
        defer { scene.stop() }
        try scene.plant(at: scene.path("out.tgz.part"))
        let result = try scene.cwmigrate(["backup", "--output", "out.tgz"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(scene.victimUnchanged)
        #expect(mode(scene.path("out.tgz")) == 0o600)
        #expect(!lexists(scene.path("out.tgz.part")))
    }

    /// A backup that does not verify is renamed FILE.unverified; a symlink there is replaced
    /// by that file in one rename, not written through.
    @Test func aSymlinkAtTheUnverifiedNameIsReplacedNotWrittenThrough() throws {
        let scene = try Scene(backupBytes: Data(repeating: 0x5A, count: 50_000))
        defer { scene.stop() }
        try scene.plant(at: scene.path("out.tgz.unverified"))
        let result = try scene.cwmigrate(["backup", "--output", "out.tgz"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: the downloaded backup does not verify"), "\(result.stderr)")
        #expect(result.stderr.contains("hint: kept as out.tgz.unverified"), "\(result.stderr)")
        #expect(scene.victimUnchanged)
        #expect(!isSymlink(scene.path("out.tgz.unverified")))
        #expect(mode(scene.path("out.tgz.unverified")) == 0o600)
        #expect(try Data(contentsOf: URL(fileURLWithPath: scene.path("out.tgz.unverified"))).count == 50_000)
        #expect(!lexists(scene.path("out.tgz")))
    }

    @Test func anOutputInAMissingDirectoryIsRefusedBeforeTheServerIsAskedForABackup() throws {
        let scene = try Scene()
        defer { scene.stop() }
        let result = try scene.cwmigrate(["backup", "--output", "missing/out.tgz"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("error: cannot write missing/out.tgz: missing does not exist"), "\(result.stderr)")
        #expect(try !scene.serverTookABackup)
    }

    @Test func anExistingOutputIsRefusedBeforeTheServerIsAskedForABackup() throws {
        let scene = try Scene()
        defer { scene.stop() }
        let result = try scene.cwmigrate(["backup", "--output", "victim"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: victim already exists"), "\(result.stderr)")
        #expect(result.stderr.contains("hint: give --force to replace it"), "\(result.stderr)")
        #expect(try !scene.serverTookABackup)
        #expect(scene.victimUnchanged)
    }

    @Test func aBackupIsNeverWrittenToStandardOutputOrADevice() throws {
        let scene = try Scene()
        defer { scene.stop() }
        let dash = try scene.cwmigrate(["backup", "--output", "-"])
        #expect(dash.status == 64, "\(dash.stderr)")
        #expect(
            dash.stderr.hasPrefix("error: '-' (standard output): a backup archive cannot be written"), "\(dash.stderr)")
        #expect(!lexists(scene.path("-")))
        let device = try scene.cwmigrate(["backup", "--output", "/dev/full", "--force"])
        #expect(device.status == 73, "\(device.stderr)")
        #expect(device.stderr.hasPrefix("error: /dev/full is a character device"), "\(device.stderr)")
        #expect(isCharacterDevice("/dev/full"))
        #expect(try !scene.serverTookABackup)
    }

    @Test func thePasswordFileIsNeverTheOutput() throws {
        let scene = try Scene()
        defer { scene.stop() }
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: scene.path("pw")))
        let result = try scene.cwmigrate(["backup", "--password-file", "pw", "--output", "./pw", "--force"])
        #expect(result.status == 73, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: ./pw is pw, an input of this command"), "\(result.stderr)")
        #expect(try String(contentsOfFile: scene.path("pw"), encoding: .utf8) == "secret\n")
    }

    @Test func theLearnedFileIsCreated0600InA0700Directory() throws {
        let scene = try Scene()
        defer { scene.stop() }
        #expect(try scene.cwmigrate(["backup", "--output", "b.tgz"]).status == 0)
        let result = try scene.cwmigrate(["restore", "b.tgz", "--running", "1.8.0", "--yes"])
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        let learned = scene.state.appendingPathComponent("cwmigrate/learned-compat.yml").path
        #expect(mode(learned) == 0o600)
        #expect(mode(scene.state.appendingPathComponent("cwmigrate").path) == 0o700)
        #expect(try String(contentsOfFile: learned, encoding: .utf8).contains("lastRestoringVersion: 1.7.3"))
        let names = try FileManager.default.contentsOfDirectory(
            atPath: scene.state.appendingPathComponent("cwmigrate").path)
        #expect(names == ["learned-compat.yml"], "no temporary file is left")
    }

    @Test func aSymlinkAtTheLearnedFileIsRefusedAndNotRead() throws {
        let scene = try Scene()
        defer { scene.stop() }
        #expect(try scene.cwmigrate(["backup", "--output", "b.tgz"]).status == 0)
        let learned = scene.state.appendingPathComponent("cwmigrate/learned-compat.yml").path
        try FileManager.default.createDirectory(
            atPath: scene.state.appendingPathComponent("cwmigrate").path, withIntermediateDirectories: true)
        try scene.plant(at: learned)
        // Read before anything is uploaded (the plan needs it), and refused there.
        let result = try scene.cwmigrate(["restore", "b.tgz", "--running", "1.8.0", "--yes"])
        #expect(result.status == 66, "\(result.stderr)")
        #expect(
            result.stderr.contains("error: cannot read the learned compat file \(learned): it is a symlink"),
            "\(result.stderr)")
        let plan = try TestSupport.run(
            TestSupport.product("cwmigrate"), ["plan", "--backup-version", "1.6.0", "--running", "1.8.0"],
            environment: ["XDG_STATE_HOME": scene.state.path])
        #expect(plan.status == 66)
        #expect(plan.stderr.hasPrefix("error: cannot read the learned compat file"), "\(plan.stderr)")
        #expect(scene.victimUnchanged)
        #expect(isSymlink(learned))
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

private func isCharacterDevice(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR
}
