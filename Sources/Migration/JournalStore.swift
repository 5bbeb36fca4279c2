#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SafeFiles
import Vocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// The runs found in a state directory, and the files there that could not be read as runs.
public struct RunList: Sendable {
    public var runs: [Journal]
    public var unreadable: [MigrationError]
}

/// The state directory of cwmigrate: one journal per run in `runs/<id>.json`, the locks in
/// `locks/`, the run's files (fresh backup, snapshots, re-backup) in `artifacts/<id>/`.
/// Journals are replaced atomically and durably (temp file, fsync, rename, fsync of the
/// directory), are 0600 in 0700 directories, and no symlink below the directory is followed.
public struct JournalStore: Sendable {
    public static let defaultDirectory = "/var/lib/cwmigrate"
    /// A journal larger than this is not one cwmigrate wrote.
    static let journalSizeLimit = 16 << 20

    public let directory: String

    public init(directory: String = JournalStore.defaultDirectory) {
        var path = directory
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.directory = path
    }

    public var runsDirectory: String { directory + "/runs" }
    public var locksDirectory: String { directory + "/locks" }

    public func path(of id: String) -> String { runsDirectory + "/\(id).json" }

    /// Where the run's files go; created (0700) when missing.
    public func artifactDirectory(for id: String) throws(MigrationError) -> String {
        guard Journal.isValidID(id) else { throw .invalidRunID(id) }
        let top = try openTop(create: true)
        defer { close(top) }
        guard
            let artifacts = try StateFiles.openSubdirectory(
                top, "artifacts", path: directory + "/artifacts", create: true)
        else { throw .stateDirectory(path: directory + "/artifacts", reason: "it could not be created") }
        defer { close(artifacts) }
        let path = directory + "/artifacts/" + id
        if let run = try StateFiles.openSubdirectory(artifacts, id, path: path, create: true) { close(run) }
        return path
    }

    /// Where the run stages what moves through a helper container (`artifacts/ID/staging`,
    /// 0700): on the state directory's file system, never in $TMPDIR; created when missing.
    public func stagingDirectory(for id: String) throws(MigrationError) -> String {
        let run = try artifactDirectory(for: id)
        let fd = try StateFiles.openDirectory(run)
        defer { close(fd) }
        if let staging = try StateFiles.openSubdirectory(fd, "staging", path: run + "/staging", create: true) {
            close(staging)
        }
        return run + "/staging"
    }

    /// Writes the journal: complete and durable, or (on any failure) the previous version stays.
    public func save(_ journal: Journal) throws(MigrationError) {
        guard Journal.isValidID(journal.id) else { throw .invalidRunID(journal.id) }
        let target = path(of: journal.id)
        let bytes: [UInt8]
        do {
            bytes = Array(try JournalCoding.encode(journal)) + [0x0A]
        } catch {
            throw .journalWrite(path: target, reason: "it cannot be encoded: \(error)")
        }
        try write(bytes, named: "\(journal.id).json", cleaningUp: ".\(journal.id).json.")
    }

    /// Where the run's report is, in `extension` (`md` or `json`).
    public func reportPath(of id: String, extension: String) -> String {
        runsDirectory + "/\(id).report.\(`extension`)"
    }

    /// Writes the run's report beside its journal, as the journal is written.
    public func saveReport(_ bytes: [UInt8], of id: String, extension: String) throws(MigrationError) {
        guard Journal.isValidID(id) else { throw .invalidRunID(id) }
        let name = "\(id).report.\(`extension`)"
        try write(bytes, named: name, cleaningUp: "." + name + ".")
    }

    /// Replaces `runs/NAME` with `bytes`: complete and durable, or (on any failure) the
    /// previous version stays. Temp files named `prefix…` left by a killed process go.
    private func write(_ bytes: [UInt8], named name: String, cleaningUp prefix: String) throws(MigrationError) {
        let target = runsDirectory + "/" + name
        let runs = try openRuns(create: true)
        defer { close(runs) }
        // Created exclusively beside the journal as `.NAME.tmp-…` (so `prefix` finds it when
        // a killed process left it), synced, renamed over the name (a symlink there is
        // replaced, never written through), and the directory synced.
        do {
            try OutputFile.write(bytes, to: name, in: runs, mode: 0o600, replacing: true)
        } catch {
            throw .journalWrite(path: target, reason: error.reason)
        }
        // The lock makes this process the only writer of the run's files.
        for leftover in StateFiles.names(in: runs) where leftover.hasPrefix(prefix) {
            unlinkat(runs, leftover, 0)
        }
    }

    public func load(_ id: String) throws(MigrationError) -> Journal {
        guard Journal.isValidID(id) else { throw .invalidRunID(id) }
        guard let runs = try openRunsIfPresent() else { throw .noSuchRun(id: id, directory: directory) }
        defer { close(runs) }
        return try read("\(id).json", in: runs, expecting: id)
    }

    /// Every run, oldest first (ids begin with their creation time).
    /// The run `migrate --resume last` and `rollback` without an id take: the newest one not
    /// ended, of the compose project `project` when one is given; nil when there is none.
    public func newestUnfinished(project: String? = nil) throws(MigrationError) -> Journal? {
        try list().runs.last { run in !run.outcome.isFinal && (project.map { run.installation.name == $0 } ?? true) }
    }

    public func list() throws(MigrationError) -> RunList {
        guard let runs = try openRunsIfPresent() else { return RunList(runs: [], unreadable: []) }
        defer { close(runs) }
        var list = RunList(runs: [], unreadable: [])
        for name in StateFiles.names(in: runs).sorted() where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard Journal.isValidID(id) else { continue }
            do {
                list.runs.append(try read(name, in: runs, expecting: id))
            } catch {
                list.unreadable.append(error)
            }
        }
        return list
    }

    /// Ends a run for good (outcome `abandoned`), keeping its journal and files. Refused
    /// while another process holds the installation's lock: that run is still going.
    @discardableResult
    public func abandon(_ id: String, at now: Date, reason: String) throws(MigrationError) -> Journal {
        let found = try load(id)
        let lock = try RunLock.acquire(found.installation, in: self, holder: "cwmigrate runs abandon \(id)")
        defer { lock.release() }
        var journal = try load(id)
        try journal.abandon(at: now, reason: reason)
        try save(journal)
        return journal
    }

    // MARK: - Descriptors

    func openTop(create: Bool) throws(MigrationError) -> Int32 {
        if create { try StateFiles.makeDirectories(directory) }
        return try StateFiles.openDirectory(directory)
    }

    private func openRuns(create: Bool) throws(MigrationError) -> Int32 {
        let top = try openTop(create: create)
        defer { close(top) }
        guard let runs = try StateFiles.openSubdirectory(top, "runs", path: runsDirectory, create: create) else {
            throw .stateDirectory(path: runsDirectory, reason: "it does not exist")
        }
        return runs
    }

    private func openRunsIfPresent() throws(MigrationError) -> Int32? {
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        let top = try openTop(create: false)
        defer { close(top) }
        return try StateFiles.openSubdirectory(top, "runs", path: runsDirectory, create: false)
    }

    private func read(_ name: String, in runs: Int32, expecting id: String) throws(MigrationError) -> Journal {
        let path = runsDirectory + "/" + name
        let fd = openat(runs, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: throw .noSuchRun(id: id, directory: directory)
            case ELOOP: throw .unsafePath(path: path, reason: "it is a symlink; cwmigrate does not follow it")
            default: throw .journalRead(path: path, reason: systemError())
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unsafePath(path: path, reason: "it is not a regular file")
        }
        guard let bytes = Vocabulary.readAll(fd, limit: Self.journalSizeLimit) else {
            throw .journalRead(path: path, reason: "it cannot be read whole (\(systemError()))")
        }
        let journal: Journal
        do {
            journal = try JournalCoding.decode(Data(bytes))
        } catch {
            throw .journalCorrupt(path: path, reason: Self.decodingProblem(error))
        }
        guard journal.format == Journal.currentFormat else {
            throw .journalCorrupt(path: path, reason: "its format is \(journal.format), not \(Journal.currentFormat)")
        }
        guard journal.id == id else {
            throw .journalCorrupt(path: path, reason: "it holds run \(journal.id), not \(id)")
        }
        return journal
    }

    /// A decoding error in one line: where in the JSON, and what.
    static func decodingProblem(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty
                ? "the top level" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "it is not JSON" : "\(at(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "\(at(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
