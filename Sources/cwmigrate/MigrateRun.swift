import ArchiveInspect
import ArgumentParser
import ConnectwareAPI
import DockerOps
import Foundation
import HTTP
import Migration
import Planner

#if canImport(Glibc)
    import Glibc
#endif

/// Carrying a migration out: a new run, or one resumed, walked under the installation's
/// lock with the executors of Migration, and a report at the end whatever happened.
extension MigrateCommand {
    func execute(_ terminal: Terminal) throws -> Int32 {
        let interactive = terminal.personPresent
        guard yes || interactive else {
            throw Failure(
                message: "migrate asks before each step that changes the installation, and stdin is not a terminal",
                hint: "run it on a terminal, or pass --yes to run unattended", exitCode: ExitStatus.usage)
        }
        let store = state.store()
        if let resume, resume != "last" {
            // What can never be resumed is refused before anything is connected to.
            let journal = try store.load(resume)
            guard !journal.outcome.isFinal else {
                throw MigrationError.runEnded(run: journal.id, outcome: journal.outcome)
            }
            try journal.requireNoRollback()
        }
        let connected = try connection.connect(terminal)
        let client = connected.client
        let host = try ConnectwareHost(environment: dockerEnvironment)
        let here = RunHost(host)

        let current: Journal
        let lock: RunLock
        if let resume {
            let found = try resumable(resume, store: store, host: host)
            lock = try RunLock.acquire(
                found.installation, in: store, holder: "cwmigrate migrate, run \(found.id), pid \(getpid())")
            // Read again under the lock: another process may have moved the run on meanwhile.
            current = try store.load(found.id)
            guard !current.outcome.isFinal else {
                throw MigrationError.runEnded(run: current.id, outcome: current.outcome)
            }
            try current.requireNoRollback()
            try current.requireHost(here)
            terminal.out("Resuming run \(current.id) for \(current.installation)\(where: current)")
        } else {
            (current, lock) = try newRun(store: store, host: host, here: here, terminal: terminal)
            terminal.out("Run \(current.id) for \(current.installation): \(current.plan.decision)")
            terminal.out(current.plan.renderText(color: terminal.colorOnStdout))
            notes(for: current.plan, terminal)
        }
        defer { lock.release() }
        host.stagingDirectory = try store.stagingDirectory(for: current.id)
        for leftover in try host.removeOrphanedHelpers() {
            terminal.note("removed \(leftover), left by a cwmigrate that no longer runs")
        }

        let target = try composeTarget(for: current)
        let runners = StepRunners.compose(
            client: client, host: host, target: target,
            waits: ServerWaits(
                operation: .seconds(connection.timeout), forRunning: .seconds(waitRunning),
                settings: connection.waitSettings(terminal)),
            progress: connection.progressReporter())
        let total = StepCount(current.steps.count)
        let credentials = runCredentials.credentials(
            connected, tokens: connection.login || connected.password == nil, directory: current.installation.directory)
        let run = try MigrationRun(
            journal: current, store: store, lock: lock, runners: runners, clock: Date.init, here: here,
            prechecks: { journal in
                let checks =
                    Prechecks.forRun(
                        journal, host: host, client: client, store: store, installerDirectory: target.installerDirectory,
                        unattended: yes, acceptingExampleData: acceptExampleData)
                    + [credentials.check(journal.plan)]
                show(checks, terminal)
                return checks
            },
            credentials: credentials,
            confirm: yes ? nil : { journal, position, intent in
                confirm(journal, position, intent, terminal)
            },
            replanner: { journal, refusal in
                replan(journal, refusal, terminal)
            },
            onEvent: { event in
                if case .replanned(_, let plan) = event { total.value = plan.steps.count }
                show(event, total: total.value, terminal)
            })
        let outcome: Result<Journal, MigrationError>
        do { outcome = .success(try run.run()) } catch { outcome = .failure(error) }
        switch outcome {
        case .success(let finished):
            let report = try store.saveReports(finished)
            summary(finished, terminal)
            terminal.out("report: \(report)")
            return ExitStatus.ok
        case .failure(let error):
            let stopped = run.journal
            let report = try? store.saveReports(stopped)
            return try stoppedRun(stopped, error, report: report, terminal)
        }
    }

    /// How the run's installation is reached and installed: from the journal and the options.
    func composeTarget(for journal: Journal) throws -> ComposeTarget {
        try ComposeTarget(
            journal: journal, installerDirectory: installerDirectory, stopTimeout: stopTimeout,
            healthySeconds: healthyTimeout)
    }

    /// A new run, made under the installation's lock (kept for the run): no unfinished or
    /// unreadable run in the state directory, the backup copied into the run's directory and
    /// that copy inspected to its end, the installation found in a known directory, the plan made.
    private func newRun(store: JournalStore, host: ConnectwareHost, here: RunHost, terminal: Terminal) throws
        -> (Journal, RunLock)
    {
        let path = absolute(backupPath)
        var info = stat()
        guard stat(path, &info) == 0 else { throw ArchiveInspectError.fileNotFound(path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(
                message: "\(path) is not a regular file; the run copies the backup file into its directory",
                exitCode: ExitStatus.noInput)
        }
        let installation = try host.discover(project: docker.project)
        guard let running = installation.version else {
            throw Failure(
                message:
                    "the installation \(installation.project) runs mixed or unknown versions: \(installation.versionText)",
                hint: "bring every service to one version first (cwmigrate host shows them)",
                exitCode: ExitStatus.unavailable)
        }
        guard installation.workingDirectory != nil else {
            throw MigrationError.projectDirectoryUnknown(project: installation.project)
        }
        let reference = InstallationRef(installation)
        let id = Journal.makeID(at: Date())
        let lock = try RunLock.acquire(reference, in: store, holder: "cwmigrate migrate, run \(id), pid \(getpid())")
        let list = try store.list()
        if let unreadable = list.unreadable.first {
            throw Failure(
                message: unreadable.description + "; it may be an unfinished run, so no new run starts",
                hint:
                    "look at it, and move it out of \(store.runsDirectory) once you know it belongs to no run that is going on",
                exitCode: ExitStatus.dataError)
        }
        let open = list.runs.filter { $0.installation.lockKey == reference.lockKey && !$0.outcome.isFinal }
        if let unfinished = open.last {
            throw Failure(
                message: "run \(unfinished.id) for \(reference) is unfinished (\(unfinished.outcome.rawValue))",
                hint:
                    "carry it on with `cwmigrate migrate --resume \(unfinished.id)`, go back with `cwmigrate rollback \(unfinished.id)`, or end it with `cwmigrate runs abandon \(unfinished.id)`",
                exitCode: ExitStatus.tempFailure)
        }
        if let free = Prechecks.freeBytes(near: store.directory)?.1,
            free < Int64(info.st_size) + Int64(info.st_size) / 10
        {
            throw Failure(
                message:
                    "the state directory \(store.directory) has \(formatBytes(free)) free, too little for the run's copy of the backup (\(formatBytes(Int64(info.st_size))))",
                hint: "free space there, or give another directory with --state-dir", exitCode: ExitStatus.cantCreate)
        }
        let copy = try store.copyIntoRun(path, id: id, as: "backup-" + (path as NSString).lastPathComponent)
        let facts: ArchiveFacts
        let plan: Plan
        do {
            facts = try inspectBackup(at: copy.path, options: InspectOptions(verify: true, assumedVersion: assumed))
            plan = try checkedPlan(facts: facts, running: running, installation: installation, backupFile: copy.path)
            guard plan.hasSteps else {
                throw Failure(
                    message: "there is no plan to carry out: \(plan.reason)",
                    hint: "cwmigrate migrate --dry-run shows the decision; nothing was changed",
                    exitCode: ExitStatus.dataError)
            }
        } catch {
            store.discard(copy, id: id)
            throw error
        }
        var journal = Journal(
            id: id, createdAt: Date(), installation: reference,
            backup: BackupRecord(
                path: copy.path, version: facts.version, id: facts.backupID, sha256: copy.sha256, original: path),
            plan: plan)
        journal.host = here
        try store.save(journal)
        return (journal, lock)
    }

    /// The run `--resume` names (`last`: this installation's newest unfinished one).
    private func resumable(_ name: String, store: JournalStore, host: ConnectwareHost) throws -> Journal {
        if name != "last" {
            let journal = try store.load(name)
            guard !journal.outcome.isFinal else {
                throw MigrationError.runEnded(run: journal.id, outcome: journal.outcome)
            }
            return journal
        }
        let project = (try? host.discover(project: docker.project))?.project ?? docker.project
        guard let last = try store.newestUnfinished(project: project) else {
            throw Failure(
                message: "no unfinished run in \(store.directory)",
                hint: "cwmigrate runs lists the runs; is --state-dir the right directory?", exitCode: ExitStatus.noInput)
        }
        return last
    }

    /// Guided mode: what the step will do, and a yes from the operator.
    private func confirm(_ journal: Journal, _ position: Int, _ intent: String, _ terminal: Terminal) -> Bool {
        let step = journal.plan.steps[position]
        terminal.err("")
        terminal.err(
            terminal.paint("Step \(position + 1) of \(journal.steps.count): \(step.title)", .yellow, terminal.colorOnStderr))
        terminal.err("  This will " + intent)
        return terminal.confirm("  Go ahead? Anything but yes pauses the run.")
    }

    /// Connectware refused the restore at the running version: the refusal is remembered
    /// and the run goes on with the plan it implies (nil: none follows, the run stops).
    private func replan(_ journal: Journal, _ refusal: RestoreRefusal, _ terminal: Terminal) -> Plan? {
        terminal.out("Connectware \(journal.plan.runningVersion) refused the restore: \(refusal.statusMessage)")
        if let barrier = RestoreBarrier.learned(
            from: refusal, backup: journal.backup.version, running: journal.plan.runningVersion)
        {
            if let file = try? LocalKnowledge.record(barrier) {
                terminal.note("recorded this barrier in \(file.path) for later plans")
            }
        }
        guard
            let plan = try? makePlan(
                backupVersion: journal.backup.version, running: journal.plan.runningVersion,
                project: journal.installation.name, directory: journal.installation.directory, refusal: refusal,
                backupFile: journal.backup.path),
            plan.decision == .downgradeRequired
        else { return nil }
        terminal.out("The run carries on with the plan this refusal gives:")
        terminal.out(plan.renderText(color: terminal.colorOnStdout))
        return plan
    }

    private func show(_ event: RunEvent, total: Int, _ terminal: Terminal) {
        func label(_ position: Int, _ kind: StepKind) -> String { "[\(position + 1)/\(total)] \(kind)" }
        switch event {
        case .started(let position, let kind, let title):
            terminal.out("\(label(position, kind)): \(title)")
        case .done(let position, let kind, let message):
            terminal.out("\(label(position, kind)) " + terminal.paint("done", .green, terminal.colorOnStdout) + ": \(message)")
        case .foundDone(let position, let kind, let message):
            terminal.out(
                "\(label(position, kind)) " + terminal.paint("found done", .green, terminal.colorOnStdout)
                    + " (the run was interrupted after it acted): \(message)")
        case .repeating(let position, let kind, let reason):
            terminal.out("\(label(position, kind)) was interrupted and is done again (\(reason))")
        case .failed(let position, let kind, let error):
            if case .restoreRefused = error { return }
            terminal.out("\(label(position, kind)) " + terminal.paint("FAILED", .red, terminal.colorOnStdout))
        case .replanned:
            break
        case .completed:
            terminal.out(terminal.paint("Migration completed.", .green, terminal.colorOnStdout))
        }
    }

    /// The run's prechecks, as `--precheck-only` shows them.
    private func show(_ checks: [CheckResult], _ terminal: Terminal) {
        terminal.out("Prechecks before anything is changed:")
        printChecks(checks, terminal)
    }

    private func summary(_ journal: Journal, _ terminal: Terminal) {
        let report = RunReport(journal)
        if let downtime = report.downtimeSeconds {
            terminal.out(String(format: "Downtime: %.1f s (from the shutdown to Connectware %@ healthy again)", downtime, journal.plan.runningVersion.description))
        }
        for artifact in journal.artifacts {
            terminal.out("\(artifact.kind.rawValue): \(artifact.path) (SHA-256 \(artifact.sha256))")
        }
    }

    /// A run that stopped: what happened, where it stands, and the ways on (resume, rollback).
    private func stoppedRun(_ journal: Journal, _ error: MigrationError, report: String?, _ terminal: Terminal)
        throws -> Int32
    {
        var failure = error.failure
        switch error {
        case .credentialsRefused(_, _, _, let fix):
            failure = Failure(
                message: error.description,
                hint: "\(fix); then carry on with `cwmigrate migrate --resume \(journal.id)`",
                exitCode: ExitStatus.paused)
        case .declined:
            failure = Failure(
                message: error.description,
                hint: "nothing of this step was done; carry on with `cwmigrate migrate --resume \(journal.id)`, or go back with `cwmigrate rollback \(journal.id)`",
                exitCode: ExitStatus.paused)
        case .restoreRefused(_, _, let version, let refusal):
            terminal.report(
                Failure(message: error.description + "; the run stopped before anything more was changed", exitCode: 0))
            if let plan = try? makePlan(
                backupVersion: journal.backup.version, running: version, project: journal.installation.name,
                directory: journal.installation.directory, refusal: refusal, backupFile: journal.backup.path)
            {
                terminal.out("The plan this refusal gives, from Connectware \(version) as it runs now:")
                terminal.out(plan.renderText(color: terminal.colorOnStdout))
            }
            if let report { terminal.out("report: \(report)") }
            terminal.err(
                "hint: go back to Connectware \(journal.plan.runningVersion) with `cwmigrate rollback \(journal.id)`; the refusal is recorded, so a new `cwmigrate migrate` plans with it"
            )
            if let barrier = RestoreBarrier.learned(from: refusal, backup: journal.backup.version, running: version) {
                _ = try? LocalKnowledge.record(barrier)
            }
            return ExitStatus.restoreRefused
        case .preconditionFailed, .postconditionFailed, .stepFailed, .stepNotImplemented:
            let destroyed = journal.steps.contains {
$0.kind.changesInstallation && $0.attempts > 0
            }
            failure = Failure(
                message: error.description,
                hint: destroyed
                    ? "fix the cause, then `cwmigrate migrate --resume \(journal.id)`; or go back with `cwmigrate rollback \(journal.id)`"
                    : "nothing of the installation was changed; fix the cause and `cwmigrate migrate --resume \(journal.id)`, or end the run with `cwmigrate runs abandon \(journal.id)`",
                exitCode: ExitStatus.unavailable)
        default:
            break
        }
        if let report { terminal.out("report: \(report)") }
        throw failure
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// The number of steps shown as `[n/total]`; it changes when the run takes a new plan.
private final class StepCount {
    var value: Int
    init(_ value: Int) { self.value = value }
}

extension String.StringInterpolation {
    /// ` at step 4 remove-volumes (failed)`, or nothing when every step is settled.
    fileprivate mutating func appendInterpolation(where journal: Journal) {
        guard let step = journal.currentStep else { return }
        appendLiteral(" at step \(step.position + 1) \(step.kind) (\(step.state.rawValue))")
    }
}
