import ArchiveInspect
import DockerOps
import Migration
import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A run as the operator names it: `last`, or its id as `cwmigrate runs` lists it.
public enum RunName: Equatable, Sendable {
    /// The newest run that fits: for `--resume`, the installation's newest unfinished one; for
    /// a report, the newest of all.
    case last
    case id(String)

    /// `last` or a run id; any other text is `MigrationError.invalidRunID`.
    public init(parsing text: String) throws(MigrationError) {
        if text == "last" {
            self = .last
            return
        }
        guard Journal.isValidID(text) else { throw .invalidRunID(text) }
        self = .id(text)
    }
}

/// Starting, picking and resuming the runs of a state directory: a new run under the
/// installation's lock, the run `--resume` or `rollback` means, and the checks that keep an
/// ended, rolled-back or foreign run from being carried on.
public struct RunLifecycle {
    public let store: JournalStore

    public init(store: JournalStore) { self.store = store }

    /// The one version every service of `installation` runs.
    public static func runningVersion(of installation: Installation) throws -> Version {
        guard let running = installation.version else {
            throw RunLifecycleError.mixedVersions(project: installation.project, versions: installation.versionText)
        }
        return running
    }

    /// Refuses, before anything is connected to, a run `--resume` names that can never be
    /// resumed (`last` is looked up later, once the installation is known).
    public func refuseUnresumable(_ name: RunName) throws {
        guard case .id(let id) = name else { return }
        let journal = try store.load(id)
        guard !journal.outcome.isFinal else { throw MigrationError.runEnded(run: journal.id, outcome: journal.outcome) }
        try journal.requireNoRollback()
    }

    /// `runs abandon`: the run ended for good at `date` for `reason`, said with where its journal
    /// stays; then the keep tags no unfinished run needs are released on `host` (when Docker
    /// answers), and the run's place and kept files are said.
    public func abandon(
        _ id: String, reason: String, at date: Date, host: ConnectwareHost?, on console: Console
    ) throws {
        let journal = try store.abandon(id, at: date, reason: reason)
        let lines = journal.abandonedLines(journalPath: store.path(of: journal.id))
        console.out(lines[0])
        console.say(KeptImages.releaseAfterAbandon(store: store, host: host))
        console.out(lines: Array(lines.dropFirst()))
    }

    /// The run `--resume` names (`last`: this installation's newest unfinished one), under the
    /// installation's lock, read again under it and checked: not ended, no rollback begun, this host.
    public func resume(
        _ name: RunName, host: ConnectwareHost, project: String?, here: RunHost, holder: (String) -> String
    )
        throws -> (Journal, RunLock)
    {
        let found: Journal
        if case .id(let id) = name {
            found = try store.load(id)
            guard !found.outcome.isFinal else { throw MigrationError.runEnded(run: found.id, outcome: found.outcome) }
        } else {
            let discovered = (try? host.discover(project: project))?.project ?? project
            guard let last = try store.newestUnfinished(project: discovered) else {
                throw RunLifecycleError.noUnfinishedRun(directory: store.directory, toRollBack: false)
            }
            found = last
        }
        let lock = try RunLock.acquire(found.installation, in: store, holder: holder(found.id))
        do {
            // Read again under the lock: another process may have moved the run on meanwhile.
            let current = try store.load(found.id)
            guard !current.outcome.isFinal else {
                throw MigrationError.runEnded(run: current.id, outcome: current.outcome)
            }
            try current.requireNoRollback()
            try current.requireHost(here)
            return (current, lock)
        } catch {
            lock.release()
            throw error
        }
    }

    /// The run `rollback` goes back from: `id`, else the newest unfinished run; never one that has ended.
    public func toRollBack(_ id: String?) throws -> Journal {
        let journal: Journal
        if let id {
            journal = try store.load(id)
        } else {
            guard let last = try store.newestUnfinished() else {
                throw RunLifecycleError.noUnfinishedRun(directory: store.directory, toRollBack: true)
            }
            journal = last
        }
        guard !journal.outcome.isFinal else {
            throw RunLifecycleError.nothingToRollBack(run: journal.id, outcome: journal.outcome)
        }
        return journal
    }

    /// A new run, made under the installation's lock (kept for the run): no unfinished or
    /// unreadable run in the state directory, the backup copied into the run's directory and
    /// that copy inspected to its end, the installation found in a known directory, the plan made.
    public func newRun(
        backup path: String, host: ConnectwareHost, project: String?, here: RunHost, planning: MigrationPlanning,
        assumedVersion: Version?, holder: (String) -> String, now: Date = Date()
    ) throws -> (Journal, RunLock) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ArchiveInspectError.fileNotFound(path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw RunLifecycleError.backupNotARegularFile(path: path) }
        let installation = try host.discover(project: project)
        let running = try Self.runningVersion(of: installation)
        guard installation.workingDirectory != nil else {
            throw MigrationError.projectDirectoryUnknown(project: installation.project)
        }
        let reference = InstallationRef(installation)
        let id = Journal.makeID(at: now)
        let lock = try RunLock.acquire(reference, in: store, holder: holder(id))
        do {
            let journal = try makeRun(
                id: id, backup: path, size: Int64(info.st_size), installation: installation, running: running,
                here: here, planning: planning, assumedVersion: assumedVersion, now: now)
            return (journal, lock)
        } catch {
            lock.release()
            throw error
        }
    }

    private func makeRun(
        id: String, backup path: String, size: Int64, installation: Installation, running: Version, here: RunHost,
        planning: MigrationPlanning, assumedVersion: Version?, now: Date
    ) throws -> Journal {
        let reference = InstallationRef(installation)
        let list = try store.list()
        if let unreadable = list.unreadable.first {
            throw RunLifecycleError.unreadableRun(description: unreadable.description, runsDirectory: store.runsDirectory)
        }
        let open = list.runs.filter { $0.installation.lockKey == reference.lockKey && !$0.outcome.isFinal }
        if let unfinished = open.last {
            throw RunLifecycleError.unfinishedRun(
                run: unfinished.id, installation: reference.description, outcome: unfinished.outcome)
        }
        if let free = Prechecks.freeBytes(near: store.directory)?.1, free < size + size / 10 {
            throw RunLifecycleError.tooLittleSpace(directory: store.directory, free: free, needed: size)
        }
        let copy = try store.copyIntoRun(path, id: id, as: "backup-" + lastPathComponent(path))
        let facts: ArchiveFacts
        let plan: Plan
        do {
            facts = try inspectBackup(at: copy.path, options: InspectOptions(verify: true, assumedVersion: assumedVersion))
            plan = try planning.checkedPlan(
                facts: facts, running: running, installation: installation, backupFile: copy.path)
            guard plan.hasSteps else { throw RunLifecycleError.noPlanToCarryOut(reason: plan.reason) }
        } catch {
            store.discard(copy, id: id)
            throw error
        }
        var journal = Journal(
            id: id, createdAt: now, installation: reference,
            backup: BackupRecord(
                path: copy.path, version: facts.version, id: facts.backupID, sha256: copy.sha256, original: path),
            plan: plan)
        journal.host = here
        try store.save(journal)
        return journal
    }

    /// Remembers what a refusal of a `backup` restore at `running` taught, in the learned compat
    /// file; the file's path, or nil when nothing was learned or there is nowhere to keep it.
    @discardableResult
    public static func learn(from refusal: RestoreRefusal, backup: Version, running: Version) -> URL? {
        guard let barrier = RestoreBarrier.learned(from: refusal, backup: backup, running: running)
        else { return nil }
        return try? LocalKnowledge.record(barrier)
    }
}

/// Starting or picking a run was refused. The CLI words each case once (`Errors+Application.swift`).
public enum RunLifecycleError: Error, Equatable, Sendable {
    /// The installation's services run mixed or unknown versions.
    case mixedVersions(project: String, versions: String)
    /// The backup path is not a regular file (a run copies it into its directory).
    case backupNotARegularFile(path: String)
    /// A run's journal cannot be read; it may be an unfinished run, so no new run starts.
    case unreadableRun(description: String, runsDirectory: String)
    /// The installation has an unfinished run.
    case unfinishedRun(run: String, installation: String, outcome: RunOutcome)
    /// The state directory has too little room for the run's copy of the backup.
    case tooLittleSpace(directory: String, free: Int64, needed: Int64)
    /// The decision needs no steps (or allows none).
    case noPlanToCarryOut(reason: String)
    /// `--resume last` or `rollback` without a run: the state directory has no unfinished run.
    case noUnfinishedRun(directory: String, toRollBack: Bool)
    /// `rollback RUN` of a run that has ended.
    case nothingToRollBack(run: String, outcome: RunOutcome)
    /// A saved plan was made for another world than this host's now.
    case savedPlanDoesNotHold(path: String, changes: [String])
    /// A saved plan has no steps to carry out.
    case savedPlanHasNoSteps(path: String, reason: String)
}

extension Installation {
    /// The versions the services run, by image, as the operator reads them when they disagree.
    public var versionText: String {
        var parts = imageVersions.sorted { $0.key < $1.key }.map {
            "\($0.key) (\($0.value.sorted().joined(separator: ", ")))"
        }
        if let displayVersion, imageVersions.keys.contains(displayVersion) == false || imageVersions.count > 1 {
            parts.append("display version \(displayVersion)")
        }
        return parts.isEmpty ? "unknown" : parts.joined(separator: "; ")
    }
}

extension JournalStore {
    /// The state directory: `given` (`--state-dir`), else `CWMIGRATE_STATE_DIR` when set and not
    /// empty, else the default.
    public init(given: String?, environment: [String: String]) {
        self.init(directory: given ?? environment.nonEmpty("CWMIGRATE_STATE_DIR") ?? JournalStore.defaultDirectory)
    }
}
