import ArchiveInspect
import Foundation
import Vocabulary
import Testing
import TestSupport

@Suite("Version evidence")
struct EvidenceTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    func inspect(_ file: String, verify: Bool = false, assume: String? = nil) throws -> ArchiveFacts {
        try inspectBackup(
            at: file, options: InspectOptions(verify: verify, assumedVersion: assume.flatMap { Version.parse($0) }))
    }

    func error(_ file: String, verify: Bool = false) -> ArchiveInspectError? {
        do {
            _ = try inspectBackup(at: file, options: InspectOptions(verify: verify))
            return nil
        } catch { return error }
    }

    @Test("An assumed version as given is taken when it is one, and refused showing the text when not")
    func assumedVersionText() throws {
        let options = try InspectOptions(verify: true, assumedVersionText: "1.7.3")
        #expect(options.verify)
        #expect(options.assumedVersion == Version(major: 1, minor: 7, patch: 3))
        #expect(try InspectOptions(verify: false, assumedVersionText: nil).assumedVersion == nil)
        #expect(throws: ArchiveInspectError.self) { try InspectOptions(verify: false, assumedVersionText: "latest") }
        do {
            _ = try InspectOptions(verify: false, assumedVersionText: "latest")
        } catch {
            guard case .badAssumedVersion(let text, _) = error else {
                Issue.record("expected badAssumedVersion, got \(error)")
                return
            }
            #expect(text == "latest")
            #expect(error.description.contains("'latest' is not a version"))
        }
    }

    @Test("Metadata first stops the scan early, and --verify reads the rest")
    func metadataFirst() throws {
        defer { scratch.remove() }
        try scratch.tree([
            "\(backupID)/metadata.json": #"{"connectwareVersion": "1.0.73", "backupId": "\#(backupID)"}"#,
            "\(backupID)/dump.sql": String(repeating: "row\n", count: 10_000),
        ])
        try scratch.sh("head -c 200000 /dev/urandom > tree/\(backupID)/blob.bin")
        let file = try scratch.archive(
            "b.tgz", with: .gnuTar("pax"), .gzip,
            order: [backupID, "\(backupID)/metadata.json", "\(backupID)/dump.sql", "\(backupID)/blob.bin"])

        let quick = try inspect(file)
        #expect(quick.version.description == "1.0.73")
        #expect(quick.backupID?.description == backupID)
        #expect(quick.entries == 2)
        #expect(!quick.complete && !quick.verified && quick.sha256 == nil)

        let full = try inspect(file, verify: true)
        #expect(full.entries == 4)
        #expect(full.complete && full.verified)
        #expect(full.evidence.map(\.source) == [.metadataFile, .metadataFile, .pathComponent])
    }

    @Test("Metadata as the last entry is found")
    func metadataLast() throws {
        defer { scratch.remove() }
        try scratch.tree(["data/dump.sql": "x\n", "data/manifest.yaml": "connectware:\n  version: v1.7.3\nformat: 2\n"])
        let file = try scratch.archive("b.tar.xz", with: .python("PAX_FORMAT"), .xz, order: ["data/dump.sql", "data/manifest.yaml"])

        let facts = try inspect(file)

        #expect(facts.version.description == "1.7.3")
        #expect(facts.evidence.first?.detail == "data/manifest.yaml: connectware.version = v1.7.3")
        #expect(facts.backupID == nil)
    }

    @Test("Metadata nested deep in directories is found")
    func metadataNested() throws {
        defer { scratch.remove() }
        try scratch.tree(["a/b/c/d/backup.yml": "connectware_version: 1.9.0\n", "a/x.txt": "x"])
        let file = try scratch.archive("b.tar", with: .bsdtar("pax"), .none, order: ["a/x.txt", "a/b/c/d/backup.yml"])

        let facts = try inspect(file)

        #expect(facts.version.description == "1.9.0")
        #expect(facts.evidence.map(\.source) == [.metadataFile])
    }

    @Test("A directory named like a backup id is evidence on its own")
    func onlyDirectoryName() throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/dump.sql": "x\n"])
        let file = try scratch.archive("b.tar.zst", with: .gnuTar("gnu"), .zstd, order: [fileSafeID, "\(fileSafeID)/dump.sql"])

        let facts = try inspect(file)

        #expect(facts.version.description == "1.0.73")
        #expect(facts.backupID?.description == backupID)
        #expect(facts.evidence.map(\.source) == [.pathComponent])
        #expect(facts.evidence.map(\.detail) == [fileSafeID])
    }

    @Test("The archive's file name is the last resort")
    func onlyFileName() throws {
        defer { scratch.remove() }
        try scratch.tree(["dump.sql": "x\n"])
        let byID = try scratch.archive("connectware-\(fileSafeID).tgz", with: .gnuTar("gnu"), .gzip, order: ["dump.sql"])
        let byVersion = try scratch.archive("connectware-1.10.2.tar.bz2", with: .gnuTar("gnu"), .bzip2, order: ["dump.sql"])

        let first = try inspect(byID)
        let second = try inspect(byVersion)

        #expect(first.version.description == "1.0.73")
        #expect(first.backupID?.description == backupID)
        #expect(first.evidence.map(\.source) == [.fileName])
        #expect(second.version.description == "1.10.2")
        #expect(second.backupID == nil)
    }

    @Test("A label after the version in a file name is not a pre-release; rc and beta are")
    func fileNameLabels() throws {
        defer { scratch.remove() }
        try scratch.tree(["dump.sql": "x\n"])
        let labelled = try scratch.archive(
            "connectware-1.8.0-before-migration.tgz", with: .gnuTar("gnu"), .gzip, order: ["dump.sql"])
        let candidate = try scratch.archive("connectware-1.9.0-rc.1.tgz", with: .gnuTar("gnu"), .gzip, order: ["dump.sql"])
        let glued = try scratch.archive("connectware-1.8.0x.tgz", with: .gnuTar("gnu"), .gzip, order: ["dump.sql"])

        #expect(try inspect(labelled).version.description == "1.8.0")
        #expect(try inspect(candidate).version.description == "1.9.0-rc.1")
        #expect(throws: ArchiveInspectError.self) { try inspect(glued) }
    }

    @Test("A VERSION file counts, and one that holds no version is a warning")
    func versionFile() throws {
        defer { scratch.remove() }
        try scratch.tree(["x/VERSION": "1.8.0\n", "y/version": "latest\n"])
        let file = try scratch.archive("b.tgz", with: .python("GNU_FORMAT"), .gzip, order: ["y/version", "x/VERSION"])

        let facts = try inspect(file)

        #expect(facts.version.description == "1.8.0")
        #expect(facts.evidence.map(\.detail) == ["x/VERSION: 1.8.0"])
        #expect(facts.warnings.contains { $0.contains("'y/version' holds 'latest'") })
    }

    @Test("Evidence that disagrees is an error listing every source, unless a version is assumed")
    func conflictingEvidence() throws {
        defer { scratch.remove() }
        try scratch.tree(["\(backupID)/metadata.json": #"{"version": "1.0.73"}"#, "\(backupID)/VERSION": "1.7.2"])
        let file = try scratch.archive(
            "b.tgz", with: .gnuTar("gnu"), .gzip, order: ["\(backupID)/VERSION", "\(backupID)/metadata.json"])

        guard case .conflictingEvidence(let path, let evidence) = error(file) else {
            Issue.record("expected conflicting evidence")
            return
        }
        #expect(path == file)
        #expect(evidence.map(\.source) == [.metadataFile, .versionFile, .pathComponent])
        #expect(evidence.map(\.version.description) == ["1.0.73", "1.7.2", "1.0.73"])

        let decided = try inspect(file, assume: "1.7.2")
        #expect(decided.version.description == "1.7.2")
        #expect(decided.warnings.contains { $0.contains("overruled by --assume-version 1.7.2") })
    }

    @Test("No evidence at all is an error that says what was looked for")
    func absentEvidence() throws {
        defer { scratch.remove() }
        try scratch.tree(["dump.sql": "x\n", "notes.json": #"{"version": "1.0.0"}"#])
        let file = try scratch.archive("backup.tgz", with: .gnuTar("pax"), .gzip, order: ["dump.sql", "notes.json"])

        guard case .noEvidence(let path, let lookedFor) = error(file, verify: true) else {
            Issue.record("expected no evidence")
            return
        }
        #expect(path == file)
        #expect(lookedFor.count == 4)
        #expect(lookedFor[0].contains("metadata.json"))
    }
}
