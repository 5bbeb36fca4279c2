import Application
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
        let lifecycle = RunLifecycle(store: state.store())
        let store = lifecycle.store
        // What can never be resumed is refused before anything is connected to.
        if let resume { try lifecycle.refuseUnresumable(resume) }
        let connected = try connection.connect(terminal)
        let client = connected.client
        let host = try ConnectwareHost(environment: dockerEnvironment)
        let here = RunHost(host)
        let holder = { (id: String) in "cwmigrate migrate, run \(id), pid \(getpid())" }

        let current: Journal
        let lock: RunLock
        if let resume {
            (current, lock) = try lifecycle.resume(resume, host: host, project: docker.project, here: here, holder: holder)
            terminal.out("Resuming run \(current.id) for \(current.installation)\(where: current)")
        } else {
            (current, lock) = try lifecycle.newRun(
                backup: absolutePath(backupPath), host: host, project: docker.project, here: here, planning: planning,
                assumedVersion: assumed, holder: holder)
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
            progress: connection.progressReporter(terminal))
        let total = StepCount(current.steps.count)
        let credentials = runCredentials.credentials(
            connected, tokens: connection.login || connected.password == nil, directory: current.installation.directory)
        let run = try MigrationRun(
            journal: current, store: store, lock: lock, runners: runners, clock: Date.init, here: here,
            prechecks: { journal in
                let checks =
                    Prechecks.forRun(
                        journal, host: host, client: client, store: store, installerDirectory: target.installerDirectory,
                        unattended: yes, acceptingExampleData: exampleData.accepted)
                    + [credentials.check(journal.plan)]
                show(checks, terminal)
                return checks
            },
            credentials: credentials,
            confirm: yes ? nil : { journal, position, intent in
                confirm(journal, position, intent, terminal)
            },
            replanning: try? planning.replanning(for: current),
            onEvent: { event in
                show(event, total: total.value, terminal)
                if case .replanned(let refusal, let plan) = event {
                    total.value = plan.steps.count
                    if let file = RunLifecycle.learn(
                        from: refusal, backup: current.backup.version, running: plan.runningVersion)
                    {
                        terminal.note("recorded this barrier in \(file.path) for later plans")
                    }
                }
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
            journal: journal, installerDirectory: installers.installerDirectory, stopTimeout: stopTimeout,
            healthySeconds: healthy.healthyTimeout)
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
            if case .credentialsRefused = error {
                terminal.out("\(label(position, kind)) " + terminal.paint("PAUSED", .yellow, terminal.colorOnStdout))
                return
            }
            terminal.out("\(label(position, kind)) " + terminal.paint("FAILED", .red, terminal.colorOnStdout))
        case .replanned(let refusal, let plan):
            terminal.out("Connectware \(plan.runningVersion) refused the restore: \(refusal.statusMessage)")
            terminal.out("The run carries on with the plan this refusal gives:")
            terminal.out(plan.renderText(color: terminal.colorOnStdout))
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
            if let plan = try? planning.plan(
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
            RunLifecycle.learn(from: refusal, backup: journal.backup.version, running: version)
            return ExitStatus.restoreRefused
        case .preconditionFailed, .postconditionFailed, .stepFailed, .stepNotImplemented:
            let destroyed = MigrationRun.changedInstallation(journal)
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
