import Foundation
import Testing
import TestSupport

@Suite("cwmigrate inspect")
struct InspectCLITests {
    let dir: URL
    init() throws { dir = try TestSupport.temporaryDirectory("cwmigrate-inspect-cli") }

    static let id = "1.0.73_2022-02-16T15:37:19.242Z"
    static let fileSafeID = "1.0.73_2022-02-16T15-37-19.242Z"

    func sh(_ script: String) throws { try TestSupport.shell("set -euo pipefail\n" + script, in: dir) }

    func inspect(_ arguments: [String]) throws -> ProgramResult {
        try TestSupport.run(TestSupport.product("cwmigrate"), ["inspect"] + arguments, currentDirectory: dir)
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A backup shaped like Connectware's: an id directory holding metadata and a dump.
    func backup(_ name: String = "backup.tgz", metadata: String? = nil) throws -> String {
        let meta = metadata ?? #"{"version": "1.0.73", "id": "\#(Self.id)"}"#
        try sh(
            """
            mkdir -p src/\(Self.fileSafeID)
            printf '%s' '\(meta)' > src/\(Self.fileSafeID)/metadata.json
            head -c 3000000 /dev/urandom > src/\(Self.fileSafeID)/dump.sql
            tar -C src -czf \(name) \(Self.fileSafeID)/metadata.json \(Self.fileSafeID)/dump.sql
            """)
        return dir.appendingPathComponent(name).path
    }

    @Test("--json prints one object with exactly the documented keys and nulls kept")
    func jsonKeys() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try backup()

        let result = try inspect(["--json", file])

        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.split(separator: "\n").count == 1)
        let object = try json(result.stdout)
        #expect(
            Set(object.keys) == [
                "file", "version", "backupId", "evidence", "entries", "uncompressedBytes", "compression", "format",
                "verified", "sha256", "warnings", "complete",
            ])
        #expect(object["version"] as? String == "1.0.73")
        #expect(object["backupId"] as? String == Self.id)
        #expect(object["sha256"] is NSNull)
        #expect(object["verified"] as? Bool == false)
        #expect(object["complete"] as? Bool == false)
        #expect(object["compression"] as? String == "gzip")
        let evidence = try #require(object["evidence"] as? [[String: Any]])
        #expect(evidence.first?["source"] as? String == "metadata-file")
        #expect(evidence.allSatisfy { Set($0.keys) == ["source", "detail", "version"] })
    }

    @Test("--verify --json reports the file's SHA-256 and a complete reading")
    func verifyJSON() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try backup()
        let expected = try TestSupport.shell("sha256sum '\(file)' | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let result = try inspect(["--verify", "--json", file])

        #expect(result.status == 0)
        let object = try json(result.stdout)
        #expect(object["sha256"] as? String == expected)
        #expect(object["verified"] as? Bool == true)
        #expect(object["complete"] as? Bool == true)
        #expect(object["entries"] as? Int == 2)
    }

    @Test("A null backupId is printed as null when no evidence carries an id")
    func nullBackupID() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try sh("mkdir -p s && echo 1.7.2 > s/VERSION && tar -C s -cJf plain.tar.xz VERSION")

        let result = try inspect(["--json", "plain.tar.xz"])

        #expect(result.status == 0)
        let object = try json(result.stdout)
        #expect(object["backupId"] is NSNull)
        #expect(object["version"] as? String == "1.7.2")
        #expect(object["compression"] as? String == "xz")
    }

    @Test("The human summary names the version, the backup id and the evidence")
    func humanOutput() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try backup()

        let result = try inspect(["--verify", file])

        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("version:   1.0.73"))
        #expect(lines.contains("backup id: \(Self.id)"))
        #expect(lines.contains { $0.hasPrefix("evidence:  metadata-file") })
        #expect(lines.contains { $0.hasPrefix("sha256:    ") && $0.count == 11 + 64 })
    }

    @Test("A missing file exits 66 with one error line")
    func missingFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try inspect(["nowhere.tgz"])

        #expect(result.status == 66)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "error: nowhere.tgz: no such file\n")
    }

    @Test("A file that is not an archive exits 65 naming the file")
    func notAnArchive() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try sh("seq 1 1000 > notes.txt")

        let result = try inspect(["notes.txt"])

        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("error: notes.txt is not a tar archive"))
        #expect(result.stderr.contains("\nhint: "))
    }

    @Test("A truncated archive exits 65 with --verify and names the byte offset")
    func truncated() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try backup()
        try sh("head -c 2000000 '\(file)' > cut.tgz")

        let result = try inspect(["--verify", "cut.tgz"])

        #expect(result.status == 65)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("error: cut.tgz is damaged at byte "))
        #expect(first.contains("dump.sql"))
    }

    @Test("Conflicting evidence exits 65 listing each source, and --assume-version decides with a warning")
    func conflicting() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try backup("connectware-1.0.73.tgz", metadata: #"{"version": "1.7.2"}"#)

        let refused = try inspect(["connectware-1.0.73.tgz"])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("metadata-file '\(Self.fileSafeID)/metadata.json: version = 1.7.2' says 1.7.2"))
        #expect(refused.stderr.contains("path-component '\(Self.fileSafeID)' says 1.0.73"))
        #expect(refused.stderr.contains("hint: if you know which version made this backup, pass --assume-version"))

        let decided = try inspect(["--assume-version", "1.7.2", "--json", "connectware-1.0.73.tgz"])
        #expect(decided.status == 0)
        #expect(try json(decided.stdout)["version"] as? String == "1.7.2")
        #expect(decided.stderr.hasPrefix("warning: the evidence ("))
    }

    @Test("No evidence exits 65 and says what was looked for")
    func noEvidence() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try sh("mkdir -p s && echo x > s/dump.sql && tar -C s -czf backup.tgz dump.sql")

        let result = try inspect(["backup.tgz"])

        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("error: backup.tgz: no evidence of the Connectware version; looked for a metadata file"))
    }

    @Test("A bad --assume-version exits 64 and shows the value")
    func badAssumedVersion() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try backup()

        let result = try inspect(["--assume-version", "latest", file])

        #expect(result.status == 64)
        #expect(result.stderr.contains("'latest' is not a version"))
    }
}
