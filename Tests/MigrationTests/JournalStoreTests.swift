import Foundation
import Migration
import Planner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("the journal store on disk")
struct JournalStoreTests {
    @Test func aSavedJournalLoadsBackEqualAndIsPrivateOnDisk() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        try journal.begin(0, at: Date(timeIntervalSince1970: 1_795_000_001.25))
        try store.save(journal)
        #expect(try store.load(journal.id) == journal)
        #expect(Fixtures.mode(store.path(of: journal.id)) == 0o600)
        #expect(Fixtures.mode(store.runsDirectory) == 0o700)
        let text = try String(contentsOfFile: store.path(of: journal.id), encoding: .utf8)
        #expect(text.contains("\"startedAt\" : \"2026-11-18T11:06:41.250Z\""))
        #expect(text.contains("\"state\" : \"running\""))
        // Nothing but the journal is left in the directory: the temp file was renamed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.runsDirectory) == ["\(journal.id).json"])
    }

    @Test func aTempFileLeftByAProcessKilledMidSaveIsClearedByTheNextSave() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        try store.save(journal)
        let stale = store.runsDirectory + "/.\(journal.id).json.4242.17"
        try Data("{\"half".utf8).write(to: URL(fileURLWithPath: stale))
        #expect(try store.list().runs.map(\.id) == [journal.id])
        try store.save(journal)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.runsDirectory) == ["\(journal.id).json"])
    }

    @Test func savingReplacesASymlinkPlantedAtTheJournalsPathWithoutWritingThroughIt() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        try store.save(journal)
        let victim = store.directory + "/../victim"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.removeItem(atPath: store.path(of: journal.id))
        try FileManager.default.createSymbolicLink(atPath: store.path(of: journal.id), withDestinationPath: victim)

        try store.save(journal)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(!Fixtures.isSymlink(store.path(of: journal.id)))
        #expect(Fixtures.mode(store.path(of: journal.id)) == 0o600)
        #expect(try store.load(journal.id) == journal)
    }

    @Test func savingTheReportsReplacesSymlinksPlantedAtTheirPathsWithoutWritingThroughThem() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        try store.save(journal)
        let victim = store.directory + "/../victim-report"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        for format in ["md", "json"] {
            try FileManager.default.createSymbolicLink(
                atPath: store.reportPath(of: journal.id, extension: format), withDestinationPath: victim)
        }

        let markdown = try store.saveReports(journal)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        for format in ["md", "json"] {
            let path = store.reportPath(of: journal.id, extension: format)
            #expect(!Fixtures.isSymlink(path))
            #expect(Fixtures.mode(path) == 0o600)
        }
        #expect(try String(contentsOfFile: markdown, encoding: .utf8).hasPrefix("# cwmigrate run \(journal.id): in-progress"))
    }

    @Test func aJournalReachedThroughASymlinkIsRefusedNotRead() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let elsewhere = try Fixtures.store()
        try elsewhere.save(journal)
        try store.save(try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_500)))
        try FileManager.default.createSymbolicLink(
            atPath: store.path(of: journal.id), withDestinationPath: elsewhere.path(of: journal.id))
        #expect {
            try store.load(journal.id)
        } throws: { error in
            guard case MigrationError.unsafePath(let path, let reason) = error else { return false }
            return path == store.path(of: journal.id) && reason.contains("symlink")
        }
    }

    @Test func aRunsDirectoryThatIsASymlinkIsRefusedAndNothingIsWrittenWhereItPoints() throws {
        let store = try Fixtures.store()
        let target = try TestSupport.temporaryDirectory("cwmigrate-elsewhere")
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: store.runsDirectory, withDestinationPath: target.path)
        #expect {
            try store.save(try Fixtures.journal())
        } throws: { error in
            guard case MigrationError.unsafePath(let path, _) = error else { return false }
            return path == store.runsDirectory
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }

    @Test func theNewestUnfinishedRunIsTheLastNotEndedOneOfTheProjectWhenOneIsNamed() throws {
        let store = try Fixtures.store()
        #expect(try store.newestUnfinished() == nil)
        let other = InstallationRef(name: "other", directory: "/opt/other")
        let first = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_100))
        var ended = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_200))
        ended.outcome = .abandoned
        let otherRun = try Fixtures.journal(installation: other, at: Date(timeIntervalSince1970: 1_795_000_300))
        for journal in [first, ended, otherRun] { try store.save(journal) }
        #expect(try store.newestUnfinished()?.id == otherRun.id)
        #expect(try store.newestUnfinished(project: "connectware")?.id == first.id)
        #expect(try store.newestUnfinished(project: "other")?.id == otherRun.id)
        #expect(try store.newestUnfinished(project: "none") == nil)
    }

    @Test func listShowsRunsOldestFirstAndReportsAFileThatIsNotAJournalWithoutHidingTheOthers() throws {
        let store = try Fixtures.store()
        let later = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_900))
        let earlier = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_100))
        try store.save(later)
        try store.save(earlier)
        let brokenID = "20261118T120000Z-00beef"
        try Data("{\"format\": 1,".utf8).write(to: URL(fileURLWithPath: store.path(of: brokenID)))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: store.runsDirectory + "/notes.txt"))

        let list = try store.list()
        #expect(list.runs.map(\.id) == [earlier.id, later.id])
        #expect(list.unreadable.count == 1)
        guard case .journalCorrupt(let path, let reason)? = list.unreadable.first else {
            Issue.record("expected a corrupt journal, got \(list.unreadable)")
            return
        }
        #expect(path == store.path(of: brokenID))
        #expect(reason == "it is not JSON")
    }

    @Test func anAbsentStateDirectoryListsNoRunsAndCreatesNothing() throws {
        let store = try Fixtures.store()
        #expect(try store.list().runs.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.directory))
        #expect(throws: MigrationError.noSuchRun(id: "20261118T120000Z-00beef", directory: store.directory)) {
            try store.load("20261118T120000Z-00beef")
        }
        #expect(throws: MigrationError.invalidRunID("../../etc/passwd")) { try store.load("../../etc/passwd") }
    }

    @Test func abandoningARunKeepsItsFileMarksItAbandonedAndCannotBeDoneTwice() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        try journal.begin(0, at: Date(timeIntervalSince1970: 1_795_000_100))
        try store.save(journal)
        let now = Date(timeIntervalSince1970: 1_795_000_200)
        try store.abandon(journal.id, at: now, reason: "restored by hand")
        let loaded = try store.load(journal.id)
        #expect(loaded.outcome == .abandoned)
        #expect(loaded.outcomeMessage == "restored by hand")
        #expect(loaded.endedAt == now)
        #expect(loaded.steps[0].state == .failed)
        #expect(throws: MigrationError.runEnded(run: journal.id, outcome: .abandoned)) {
            try store.abandon(journal.id, at: now, reason: "again")
        }
    }
}
