import Foundation
import TestSupport
import Testing

/// The service-manager's files as the lab keeps them: a directory cwsim backs up beside
/// the dump (`--service-files`) and puts back on a successful restore.
@Suite("cwsim --service-files: backups carry the service-manager files")
struct ServiceFilesTests {
    /// A directory like a service-manager volume: nested files, one with a private mode,
    /// an executable, and a symlink that backups skip.
    private func makeServiceDirectory() throws -> URL {
        let directory = try TestSupport.temporaryDirectory("cwsim-service-files")
        try TestSupport.shell(
            """
            mkdir -p services/line-1/resources services/line-2 &&
            printf 'id: line-1\\n' > services/line-1/service.yml &&
            head -c 100000 /dev/urandom > services/line-1/resources/blob.bin &&
            printf 'secret-ish\\n' > services/line-2/credentials && chmod 600 services/line-2/credentials &&
            printf '#!/bin/sh\\necho hook\\n' > services/line-2/hook.sh && chmod 755 services/line-2/hook.sh &&
            printf '{"deployed":["line-1"]}\\n' > state.json &&
            ln -s /etc/hostname services/line-1/link-to-host
            """, in: directory)
        return directory
    }

    /// Path, mode and SHA-256 of every regular file, and every directory, sorted (symlinks are neither).
    private func tree(_ directory: URL) throws -> String {
        try TestSupport.shell(
            "find . -mindepth 1 \\( -type d -printf 'dir %p %m\\n' \\) -o \\( -type f -printf 'file %p %m ' "
                + "-exec sh -c 'sha256sum < \"$1\" | cut -c1-64' _ {} \\; \\) | LC_ALL=C sort",
            in: directory
        ).stdout
    }

    @Test("files changed, added and deleted after a backup are as they were after its restore, modes kept")
    func roundTrip() async throws {
        let files = try makeServiceDirectory()
        defer { try? FileManager.default.removeItem(at: files) }
        let sim = try SimulatedConnectware(arguments: ["--service-files", files.path])
        defer { sim.stop() }
        let before = try tree(files)
        #expect(before.contains("file ./services/line-2/credentials 600 "))
        #expect(before.contains("file ./services/line-2/hook.sh 755 "))

        let backup = sim.directory.appendingPathComponent("backup.tgz")
        let record = try await sim.backup(to: backup)
        let id = try #require(record["id"] as? String)
        let listing = try TestSupport.run(URL(fileURLWithPath: "/bin/tar"), ["-tzf", backup.path]).stdout
        #expect(listing.contains("\(id)/service-manager/services/line-1/resources/blob.bin"))
        #expect(listing.contains("\(id)/service-manager/state.json"))
        #expect(!listing.contains("link-to-host"))
        #expect(sim.log.contains("skipping the symlink"))

        try TestSupport.shell(
            """
            printf 'changed\\n' > state.json && rm services/line-1/resources/blob.bin &&
            chmod 644 services/line-2/credentials && mkdir added && printf 'new\\n' > added/later.txt
            """, in: files)
        #expect(try tree(files) != before)

        #expect(try sim.upload(backup).code == 202)
        let restored = try await sim.waitUntilFinished("restore")
        #expect(restored["succeded"] as? Bool == true)
        #expect(try tree(files) == before)
        // The symlink was not in the backup, so after the restore it is gone with the other strays.
        let link = files.appendingPathComponent("services/line-1/link-to-host").path
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == nil)
        #expect(!FileManager.default.fileExists(atPath: files.appendingPathComponent("added").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: files.path).filter {
            $0.hasPrefix(".cwsim-restore")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("a refused restore leaves the service-manager files as they are")
    func refusedRestoreLeavesFiles() async throws {
        let oldFiles = try makeServiceDirectory()
        defer { try? FileManager.default.removeItem(at: oldFiles) }
        let old = try SimulatedConnectware(version: "1.7.3", arguments: ["--service-files", oldFiles.path])
        defer { old.stop() }
        let backup = old.directory.appendingPathComponent("old.tgz")
        _ = try await old.backup(to: backup)

        let files = try TestSupport.temporaryDirectory("cwsim-service-files")
        defer { try? FileManager.default.removeItem(at: files) }
        try TestSupport.shell(
            "mkdir -p services/current && printf 'current\\n' > services/current/service.yml", in: files)
        let before = try tree(files)
        let sim = try SimulatedConnectware(arguments: [
            "--service-files", files.path, "--barrier", "before=1.8.0,last=1.7.3",
        ])
        defer { sim.stop() }
        #expect(try sim.upload(backup).code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == false)
        #expect((record["statusMessage"] as? String)?.contains("1.7.3") == true)
        #expect(try tree(files) == before)
    }

    @Test("a backup without service-manager files restores the rows and leaves the directory alone")
    func backupWithoutFiles() async throws {
        let plain = try SimulatedConnectware()
        defer { plain.stop() }
        try plain.sql("INSERT INTO services (id, name) VALUES ('from-plain', 'Backed up without files')")
        let backup = plain.directory.appendingPathComponent("plain.tgz")
        _ = try await plain.backup(to: backup)

        let files = try makeServiceDirectory()
        defer { try? FileManager.default.removeItem(at: files) }
        let before = try tree(files)
        let sim = try SimulatedConnectware(arguments: ["--service-files", files.path])
        defer { sim.stop() }
        #expect(try sim.upload(backup).code == 202)
        // The restore brings the backup's users: from then on the admin password is plain's.
        let record = try await sim.waitUntilRestored(backupPassword: plain.password)
        #expect(record["succeded"] as? Bool == true)
        #expect(try sim.sql("SELECT name FROM services WHERE id = 'from-plain'") == "Backed up without files")
        #expect(try tree(files) == before)
    }

    @Test("cwsim refuses to start, naming the directory, when --service-files does not exist")
    func missingDirectory() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString)")
        let data = try TestSupport.temporaryDirectory("cwsim-service-files")
        defer { try? FileManager.default.removeItem(at: data) }
        let result = try TestSupport.run(
            TestSupport.product("cwsim"),
            ["--listen", "127.0.0.1:0", "--data-dir", data.path, "--service-files", missing.path],
            environment: ["CWSIM_PASSWORD": "unused"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("error: cannot read \(missing.path): --service-files needs an existing directory"))
        #expect(result.stdout.isEmpty)
    }
}
