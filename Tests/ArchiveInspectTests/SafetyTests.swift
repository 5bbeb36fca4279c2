import ArchiveInspect
import Foundation
import Testing
import TestSupport

@Suite("Entries that must not be trusted")
struct SafetyTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    /// Writes an archive entry by entry with Python's tarfile, which writes any name and type.
    func python(_ name: String, _ body: String) throws -> String {
        try scratch.sh(
            """
            python3 - <<'PY'
            import io, tarfile
            def reg(t, name, data):
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            def link(t, name, target, kind):
                info = tarfile.TarInfo(name); info.type = kind; info.linkname = target; t.addfile(info)
            with tarfile.open("\(name)", "w:gz", format=tarfile.PAX_FORMAT) as t:
            \(body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            PY
            """)
        return scratch.path(name)
    }

    @Test("Absolute and '..' names are warnings and nothing is written outside")
    func unsafeNames() throws {
        defer { scratch.remove() }
        let file = try python(
            "b.tgz",
            """
            reg(t, "/tmp/cwmigrate-should-not-exist/x", b"x")
            reg(t, "../escaped.txt", b"x")
            reg(t, "\(backupID)/../../also-escaped.txt", b"x")
            reg(t, "\(backupID)/VERSION", b"1.0.73")
            """)

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.0.73")
        #expect(facts.warnings.filter { $0.contains("is an absolute path") }.count == 1)
        #expect(facts.warnings.filter { $0.contains("has a '..' component") }.count == 2)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/cwmigrate-should-not-exist"))
        #expect(!FileManager.default.fileExists(atPath: scratch.root.deletingLastPathComponent().appendingPathComponent("escaped.txt").path))
    }

    @Test("A symlinked metadata file is never followed")
    func symlinkedMetadata() throws {
        defer { scratch.remove() }
        let file = try python(
            "b.tgz",
            """
            reg(t, "real/notes.json", b'{"version": "1.9.0"}')
            link(t, "\(backupID)/metadata.json", "../real/notes.json", tarfile.SYMTYPE)
            link(t, "\(backupID)/VERSION", "/etc/hostname", tarfile.SYMTYPE)
            """)

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.0.73")
        #expect(facts.evidence.map(\.source) == [.pathComponent])
        #expect(facts.warnings.contains { $0.contains("'\(backupID)/metadata.json'") && $0.contains("symbolic link") })
        #expect(facts.warnings.contains { $0.contains("'\(backupID)/VERSION'") && $0.contains("symbolic link") })
    }

    @Test("A hard-linked metadata file is never followed")
    func hardlinkedMetadata() throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/other.json": #"{"version": "1.9.0"}"#])
        try scratch.sh("ln tree/\(fileSafeID)/other.json tree/\(fileSafeID)/metadata.json")
        let file = try scratch.archive(
            "b.tgz", with: .gnuTar("gnu"), .gzip, order: ["\(fileSafeID)/other.json", "\(fileSafeID)/metadata.json"])

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.0.73")
        #expect(facts.evidence.map(\.source) == [.pathComponent])
        #expect(facts.warnings.contains { $0.contains("hard link") && $0.contains("metadata.json") })
    }

    @Test("YAML metadata full of nested aliases is read without expanding them")
    func yamlAliasBomb() throws {
        defer { scratch.remove() }
        // Nine levels of nine aliases: expanded, it would be 9^10 strings.
        var lines = [#"a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
        for level in 1...9 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        lines.append("version: 1.0.73")
        try scratch.tree(["meta/metadata.yaml": lines.joined(separator: "\n") + "\n"])
        let file = try scratch.archive("b.tgz", with: .gnuTar("gnu"), .gzip, order: ["meta/metadata.yaml"])

        let facts = try inspectBackup(at: file)

        #expect(facts.version.description == "1.0.73")
        #expect(facts.evidence.map(\.source) == [.metadataFile])
    }

    @Test("Metadata over 1 MiB is named in a warning and not read")
    func oversizedMetadata() throws {
        defer { scratch.remove() }
        let huge = #"{"version": "1.9.0", "padding": ""# + String(repeating: "p", count: 1 << 20) + #""}"#
        try scratch.tree(["\(fileSafeID)/metadata.json": huge])
        let file = try scratch.archive(
            "b.tar.zst", with: .bsdtar("pax"), .zstd, order: [fileSafeID, "\(fileSafeID)/metadata.json"])

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.0.73")
        #expect(facts.evidence.map(\.source) == [.pathComponent])
        #expect(facts.warnings.contains { $0.contains("'\(fileSafeID)/metadata.json' is \(huge.utf8.count) bytes") })
    }
}
