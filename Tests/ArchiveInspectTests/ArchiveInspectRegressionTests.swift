import ArchiveInspect
import Foundation
import Testing
import TestSupport

/// Inputs that once misbehaved, and the in-memory entry point the fuzzer drives.
@Suite("Archive inspection regressions")
struct ArchiveInspectRegressionTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch.path(name))))
    }

    @Test("Bytes in memory are inspected under the name given, which counts as evidence")
    func bytesTakeTheirName() throws {
        defer { scratch.remove() }
        try scratch.tree(["backup/db.dump": "-- dump\n"])
        _ = try scratch.archive("plain.tgz", with: .gnuTar("pax"), .gzip, order: ["backup/db.dump"])
        let name = "downloads/connectware-\(fileSafeID).tgz"
        let facts = try inspectBackup(bytes: try bytes("plain.tgz"), named: name, options: InspectOptions(verify: true))
        #expect(facts.file == name)
        #expect(facts.version.description == "1.0.73")
        #expect(facts.evidence.map(\.source) == [.fileName])
        #expect(facts.sha256?.count == 64)
    }

    @Test("Errors about bytes in memory name them as given, not a temporary file")
    func errorsTakeTheName() throws {
        defer { scratch.remove() }
        #expect(throws: ArchiveInspectError.notAnArchive("upload", libarchiveMessage: "the file is empty")) {
            try inspectBackup(bytes: [UInt8](), named: "upload")
        }
        do {
            _ = try inspectBackup(bytes: Array("not an archive at all\n".utf8), named: "upload.tgz")
            Issue.record("text was taken for an archive")
        } catch {
            guard case .notAnArchive(let path, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == "upload.tgz")
        }
    }

    @Test("Directories named like backup ids count only in a path's first levels")
    func nestedIDDirectoriesAreCapped() throws {
        defer { scratch.remove() }
        // 2,000 levels once made 2,000 pieces of evidence, each naming its whole prefix:
        // time and memory grew with the square of the path (8,000 levels: 3 GB, a minute).
        try scratch.sh(
            """
            python3 - <<'PYTHON'
            import io, tarfile
            name = "/".join(["\(backupID)"] * 2000) + "/VERSION"
            with tarfile.open("nested.tar", "w", format=tarfile.PAX_FORMAT) as t:
                info = tarfile.TarInfo(name); info.size = 7
                t.addfile(info, io.BytesIO(b"1.0.73\\n"))
            PYTHON
            """)
        let facts = try inspectBackup(bytes: try bytes("nested.tar"), named: "nested.tar")
        let fromPaths = facts.evidence.filter { $0.source == .pathComponent }
        #expect(fromPaths.count == 8)
        #expect(fromPaths.allSatisfy { $0.version.description == "1.0.73" })
        #expect(facts.version.description == "1.0.73")
    }
}
