import Foundation
import TestSupport
import Testing

/// The JSON objects of `--progress json`'s lines on stderr (other lines are left out).
private func events(_ stderr: String) -> [[String: Any]] {
    stderr.split(separator: "\n").compactMap { line in
        guard line.hasPrefix("{") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }
}

private func cwmigrate(_ arguments: [String], in directory: URL) throws -> ProgramResult {
    try TestSupport.run(TestSupport.product("cwmigrate"), arguments, currentDirectory: directory)
}

private func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
}

/// Progress on long local work: a bar on a terminal, JSON lines on request, a line naming what was written.
@Suite("progress of long local work")
struct ProgressCLITests {
    /// A backup of about 48 MiB that does not compress, its metadata first, made by GNU tar and gzip.
    static func bigBackup(in directory: URL) throws -> String {
        let id = "1.7.3_2026-11-30T06:00:00.000Z"
        try TestSupport.shell(
            """
            set -e
            mkdir -p 'src/\(id)' && printf '{"version":"1.7.3","id":"\(id)"}' > 'src/\(id)/metadata.json'
            head -c 50000000 /dev/urandom > 'src/\(id)/cybus_connectware.dump'
            tar -C src -cf - '\(id)/metadata.json' '\(id)/cybus_connectware.dump' | gzip -1 > big.tgz
            rm -rf src
            """, in: directory)
        return directory.appendingPathComponent("big.tgz").path
    }

    /// Starts feeding big.tgz into the named pipe pipe.tgz: half, a pause of 1.5 s, the rest.
    /// A read of it lasts past the first progress report whatever the machine's speed (a quick
    /// read of a regular file rightly reports nothing before its end).
    static func feedThroughPipe(size: Int, in directory: URL) throws -> Process {
        try TestSupport.shell("mkfifo pipe.tgz", in: directory)
        let feeder = Process()
        feeder.executableURL = URL(fileURLWithPath: "/bin/sh")
        feeder.arguments = [
            "-c", "{ head -c \(size / 2) big.tgz; sleep 1.5; tail -c +\(size / 2 + 1) big.tgz; } > pipe.tgz",
        ]
        feeder.currentDirectoryURL = directory
        try feeder.run()
        return feeder
    }

    @Test func inspectVerifyWritesJSONLinesThatEndWithTheWholeFileDone() throws {
        let directory = try TestSupport.temporaryDirectory("progress-inspect")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let size = try fileSize(backup)
        let result = try cwmigrate(["inspect", "--verify", "--progress", "json", backup], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("verified:  yes"))
        let lines = events(result.stderr)
        #expect(lines.count == result.stderr.split(separator: "\n").count, "every stderr line is a JSON object")
        let done = try #require(lines.last)
        #expect(done["event"] as? String == "done")
        #expect(done["direction"] as? String == "verify")
        #expect(done["bytes"] as? Int == size && done["total"] as? Int == size)
        let progress = lines.dropLast()
        #expect(progress.allSatisfy { $0["event"] as? String == "progress" && $0["total"] as? Int == size })
        let bytes = progress.compactMap { $0["bytes"] as? Int }
        // A fast machine may finish before the first report: then `done` is the only line (the
        // pipe test below proves the reports while a read lasts).
        #expect(bytes == bytes.sorted() && bytes.allSatisfy { $0 <= size })
        #expect(progress.allSatisfy { $0["bytesPerSecond"] is Int && $0.keys.contains("secondsLeft") })
    }

    @Test func aReadThatTakesAWhileReportsAsItGoesEvenWithoutAKnownTotal() throws {
        let directory = try TestSupport.temporaryDirectory("progress-fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let size = try fileSize(backup)
        let feeder = try Self.feedThroughPipe(size: size, in: directory)
        defer { feeder.waitUntilExit() }
        let result = try cwmigrate(["inspect", "--verify", "--progress", "json", "pipe.tgz"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = events(result.stderr)
        let progress = lines.filter { $0["event"] as? String == "progress" }
        #expect(!progress.isEmpty, "a read of more than 1.5 s reports while it goes")
        #expect(progress.allSatisfy { $0["direction"] as? String == "verify" && $0["total"] is NSNull })
        #expect(lines.last?["event"] as? String == "done" && lines.last?["bytes"] as? Int == size)
    }

    @Test func onATerminalInspectVerifyDrawsABarInPlaceWhileTheReadLasts() throws {
        let directory = try TestSupport.temporaryDirectory("progress-tty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let size = try fileSize(backup)
        let feeder = try Self.feedThroughPipe(size: size, in: directory)
        defer { feeder.waitUntilExit() }
        let binary = TestSupport.product("cwmigrate").path
        // script(1) gives the command a pseudo-terminal and copies what it wrote there to stdout.
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", "'\(binary)' inspect --verify pipe.tgz", "/dev/null"],
            currentDirectory: directory)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("\r"), "the bar is drawn on a terminal")
        #expect(result.stdout.contains("\u{1B}[K"), "the bar is redrawn in place")
        #expect(result.stdout.contains("MiB/s"))
        #expect(result.stdout.contains("47.7 MiB"), "the last bar shows the whole file")
        #expect(result.stdout.contains("verified:  yes"))
    }

    @Test func withProgressNoneNothingButTheResultIsPrinted() throws {
        let directory = try TestSupport.temporaryDirectory("progress-none")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let result = try cwmigrate(["inspect", "--verify", "--progress", "none", backup], in: directory)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
    }

    @Test func aQuickLookAtTheMetadataSaysNothingAboutProgress() throws {
        let directory = try TestSupport.temporaryDirectory("progress-quick")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let plan = try cwmigrate(
            ["plan", "--quick", "--backup", backup, "--running", "1.8.0", "--progress", "json"], in: directory)
        #expect(events(plan.stderr).isEmpty, "\(plan.stderr)")
        #expect(plan.stdout.contains("1.7.3"))
    }

    @Test func aPlanReadsTheWholeArchiveAndSaysSoWithItsLastJSONLine() throws {
        let directory = try TestSupport.temporaryDirectory("progress-plan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let size = try fileSize(backup)
        let plan = try cwmigrate(
            ["plan", "--backup", backup, "--running", "1.8.0", "--progress", "json"], in: directory)
        #expect(plan.stdout.contains("1.7.3"))
        let done = try #require(events(plan.stderr).last, "\(plan.stderr)")
        #expect(done["event"] as? String == "done")
        #expect(done["direction"] as? String == "verify")
        #expect(done["bytes"] as? Int == size)
    }

    @Test func aVolumeSnapshotReportsItsFilesThenItsReadBack() throws {
        let directory = try TestSupport.temporaryDirectory("progress-snapshot")
        defer { try? FileManager.default.removeItem(at: directory) }
        try TestSupport.shell(
            """
            set -e
            mkdir -p data/base && head -c 30000000 /dev/urandom > data/base/1 && head -c 1000 /dev/urandom > data/2
            ln data/2 data/base/2-again && ln -s base/1 data/link
            """, in: directory)
        let result = try cwmigrate(
            [
                "volumes", "snapshot", "connectware_postgresql", "--directory", directory.path + "/data", "--output",
                "pg.tar.zst", "--connectware-version", "1.7.3", "--progress", "json",
            ], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("snapshot:  pg.tar.zst\n"))
        let lines = events(result.stderr)
        let done = lines.filter { $0["event"] as? String == "done" }
        #expect(done.map { $0["direction"] as? String } == ["snapshot", "verify"])
        #expect(done.first?["bytes"] as? Int == 30_001_000 && done.first?["total"] as? Int == 30_001_000)
        let archive = try fileSize(directory.appendingPathComponent("pg.tar.zst").path)
        #expect(done.last?["bytes"] as? Int == archive && done.last?["total"] as? Int == archive)
        #expect(
            lines.prefix { $0["direction"] as? String == "snapshot" }.allSatisfy { $0["total"] as? Int == 30_001_000 })
    }

    @Test func aRunbookWrittenToAFileNamesItOnOneLine() throws {
        let directory = try TestSupport.temporaryDirectory("progress-runbook")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backup = try Self.bigBackup(in: directory)
        let output = directory.appendingPathComponent("runbook.md").path
        let result = try cwmigrate(
            ["runbook", "--backup", backup, "--running", "1.8.0", "--output", output, "--progress", "none"],
            in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").contains("note: wrote \(output): the markdown runbook"))
        #expect(try fileSize(output) > 1000)
    }
}
