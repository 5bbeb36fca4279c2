import Application
import ArchiveInspect
import ArgumentParser
import DockerOps
import Foundation
import Migration
import Planner

/// `cwmigrate migrate`: plan, check, or carry out a migration against the installation
/// found on this Docker host, journaled and resumable (Application's `MigrationExecution`).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Migrate a backup onto this host's Connectware: plan, check, or carry it out.",
        discussion: Help.migrate)

    @Option(help: "The backup archive (.tgz) to restore (not needed with --resume).", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var backup: String?

    @OptionGroup var consent: ConsentFlag
    var yes: Bool { consent.yes }

    @Option(
        name: .customLong("resume"),
        help: ArgumentHelp(
            "Carry on an unfinished run: its id, or `last` for this installation's newest unfinished run.",
            valueName: "run"))
    var resume: String?

    @OptionGroup var healthy: HealthyTimeoutOption

    @Option(
        name: .customLong("stop-timeout"),
        help: "Seconds each container gets to stop before it is killed.")
    var stopTimeout: Int = 30

    @OptionGroup var waiting: WaitRunningOption
    var waitRunning: Int { waiting.waitRunning ?? 1800 }

    @Flag(name: .customLong("dry-run"), help: "Print the plan for this installation and stop.")
    var dryRun = false

    @OptionGroup var precheckFlag: PrecheckOnlyFlag
    var precheckOnly: Bool { precheckFlag.precheckOnly }

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var initialPassword: InitialPasswordOption

    @OptionGroup var backupPassword: BackupPasswordOption

    @OptionGroup var docker: DockerOptions

    @OptionGroup var dockerHost: DockerHostOption

    @OptionGroup var installers: InstallerDirectoryOption

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var exampleData: ExampleDataAcceptance

    @OptionGroup var playbook: PlaybookOption

    @OptionGroup var data: DataDirectoryOption

    @Option(
        name: .customLong("plan"),
        help: ArgumentHelp(
            "Carry out this saved plan (cwmigrate plan --json --output FILE) after checking that it still holds here.",
            valueName: "file"),
        completion: .file(extensions: ["json"]))
    var savedPlan: String?

    @OptionGroup var assumption: AssumedVersionOption

    func validate() throws {
        if dryRun && precheckOnly { throw ValidationError("give --dry-run or --precheck-only, not both") }
        if resume != nil && (dryRun || precheckOnly) {
            throw ValidationError("--resume carries a run on; it does not go with --dry-run or --precheck-only")
        }
        if resume == nil && backup == nil && savedPlan == nil {
            throw ValidationError("give the backup to restore with --backup FILE")
        }
        if resume != nil && savedPlan != nil {
            throw ValidationError("--resume carries on a run with its own plan; it does not go with --plan")
        }
        if let resume, resume != "last", !Journal.isValidID(resume) {
            throw ValidationError("--resume takes a run id (cwmigrate runs lists them) or `last`, not \(resume)")
        }
        guard stopTimeout > 0 else { throw ValidationError("--stop-timeout must be a positive number of seconds") }
        _ = try assumption.version()
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            // A saved plan that cannot be read stops everything before Docker or the backup is looked at.
            _ = try planning.savedPlan()
            if dryRun { return try planOnly(terminal) }
            if precheckOnly { return try precheck(terminal) }
            return try execute(terminal)
        }
    }

    var dockerEnvironment: [String: String] { dockerHost.environment }

    var assumed: Version? {
        get throws { try assumption.version() }
    }

    /// The backup path: --backup, else the one the saved plan names (validate() makes sure
    /// there is one unless resuming).
    var backupPath: String {
        if let backup { return backup }
        if let plan = try? planning.savedPlan(), let file = plan.basis?.backupFile {
            return file
        }
        return ""
    }

    private func planOnly(_ terminal: Terminal) throws -> Int32 {
        let (plan, installation, running) = try planning.planHere(
            backupPath: backupPath, assumedVersion: try assumed, dockerEnvironment: dockerEnvironment,
            project: docker.project)
        if json {
            terminal.out(plan.renderJSON())
        } else {
            terminal.out(
                "Installation: project \(installation.project) in \(installation.workingDirectory ?? "an unknown directory"), Connectware \(running) (Docker Engine \(installation.engineVersion))"
            )
            terminal.out(plan.renderText(color: terminal.colorOnStdout))
        }
        notes(for: plan, terminal)
        return PlanCommand.exitCode(for: plan)
    }

    /// How this command plans: its knowledge, playbook and saved-plan options.
    var planning: MigrationPlanning {
        MigrationPlanning(
            compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbookPath: playbook.playbook,
            dataDirectory: data.playbooks, installerDirectory: installers.installerDirectory, savedPlanPath: savedPlan)
    }

    private func precheck(_ terminal: Terminal) throws -> Int32 {
        let suite = PrecheckSuite(
            backupPath: backupPath, assumedVersion: try assumed, dockerEnvironment: dockerEnvironment,
            project: docker.project, store: state.store(), planning: planning, unattended: yes,
            acceptingExampleData: exampleData.accepted)
        let (checks, plan) = suite.run(
            connect: {
                let connected = try connection.connect(terminal)
                return (connected.client, { directory in credentials(connected, directory: directory) })
            },
            describe: { error in
                let failure = (error as? Failure) ?? (error as? any OperatorFacing)?.failure
                return (failure?.message ?? "\(error)", failure?.hint)
            })

        let passed = checks.allSatisfy { $0.status == .pass }
        if json {
            terminal.out(try PrecheckSuite.json(checks))
        } else {
            printChecks(checks, terminal)
            let failed = checks.filter { $0.status != .pass }.count
            terminal.out(
                passed ? "All \(checks.count) checks passed." : "\(failed) of \(checks.count) checks did not pass.")
        }
        if let plan { notes(for: plan, terminal) }
        return passed ? ExitStatus.ok : ExitStatus.unavailable
    }

    /// One line per check: pass, FAIL or skip, its name, what was found.
    func printChecks(_ checks: [CheckResult], _ terminal: Terminal) {
        let width = (checks.map(\.name.count).max() ?? 0) + 2
        for check in checks {
            let word: String
            switch check.status {
            case .pass: word = terminal.paint("pass", .green, terminal.colorOnStdout)
            case .fail: word = terminal.paint("FAIL", .red, terminal.colorOnStdout)
            case .skip: word = terminal.paint("skip", .yellow, terminal.colorOnStdout)
            }
            terminal.out(word + "  " + check.name.padding(toLength: width, withPad: " ", startingAt: 0) + check.detail)
        }
    }

    /// The passwords the run needs, from the options, the environment and the installation's `.env`.
    func credentials(_ connected: Connection, directory: String?) -> RunCredentials {
        connected.runCredentials(
            initialPasswordFile: initialPassword.initialPasswordFile,
            backupPasswordFile: backupPassword.backupPasswordFile, directory: directory,
            environment: ProcessInfo.processInfo.environment)
    }

    func notes(for plan: Plan, _ terminal: Terminal) {
        PlanCommand.notes(for: plan, terminal)
    }

    /// Carries the migration out (Application's `MigrationExecution`) and says how it ended.
    private func execute(_ terminal: Terminal) throws -> Int32 {
        try terminal.requirePerson(
            unless: yes,
            offTerminal: Failure(
                message: "migrate asks before each step that changes the installation, and stdin is not a terminal",
                hint: "run it on a terminal, or pass --yes to run unattended", exitCode: ExitStatus.usage))
        let settings = MigrationSettings(
            resume: resume, backupPath: backupPath, project: docker.project, assumedVersion: try assumed,
            unattended: yes, acceptingExampleData: exampleData.accepted, stopTimeout: stopTimeout,
            healthySeconds: healthy.healthyTimeout,
            waits: ServerWaits(
                operation: .seconds(connection.timeout), forRunning: .seconds(waitRunning),
                settings: connection.waitSettings(terminal)),
            progress: connection.progressReporter(terminal))
        let execution = MigrationExecution(
            store: state.store(), planning: planning, dockerEnvironment: dockerEnvironment)
        let outcome = try execution.run(
            settings, connect: { try connection.connect(terminal) }, credentials: credentials,
            console: RunConsole(terminal: terminal, command: self))
        switch outcome {
        case .completed(let finished, let report):
            let summary = RunReport(finished)
            if let downtime = summary.downtimeSeconds {
                terminal.out(
                    cFormat("Downtime: %.1f s", downtime)
                        + " (from the shutdown to Connectware \(finished.plan.runningVersion) healthy again)")
            }
            for artifact in finished.artifacts {
                terminal.out("\(artifact.kind.rawValue): \(artifact.path) (SHA-256 \(artifact.sha256))")
            }
            terminal.out("report: \(report)")
            return ExitStatus.ok
        case .stopped(let journal, let error, let report, let followingPlan):
            let failure = error.failure(stopping: journal)
            if case .restoreRefused(_, _, let version, _) = error {
                terminal.report(Failure(message: failure.message, exitCode: 0))
                if let followingPlan {
                    terminal.out("The plan this refusal gives, from Connectware \(version) as it runs now:")
                    terminal.out(followingPlan.renderText(color: terminal.colorOnStdout))
                }
                if let report { terminal.out("report: \(report)") }
                if let hint = failure.hint { terminal.err("hint: " + hint) }
                return failure.exitCode
            }
            if let report { terminal.out("report: \(report)") }
            throw failure
        }
    }
}

/// What a run says on the console as it goes, and the question before each changing step.
private struct RunConsole: MigrationConsole {
    let terminal: Terminal
    let command: MigrateCommand

    func began(_ journal: Journal, resumed: Bool) {
        if resumed {
            terminal.out("Resuming run \(journal.id) for \(journal.installation)\(where: journal)")
        } else {
            terminal.out("Run \(journal.id) for \(journal.installation): \(journal.plan.decision)")
            terminal.out(journal.plan.renderText(color: terminal.colorOnStdout))
            command.notes(for: journal.plan, terminal)
        }
    }

    func removedLeftover(_ name: String) { terminal.note("removed \(name), left by a cwmigrate that no longer runs") }

    func prechecks(_ checks: [CheckResult]) {
        terminal.out("Prechecks before anything is changed:")
        command.printChecks(checks, terminal)
    }

    /// Guided mode: what the step will do, and a yes from the operator.
    func confirm(_ journal: Journal, position: Int, intent: String) -> Bool {
        let step = journal.plan.steps[position]
        terminal.err("")
        terminal.err(
            terminal.paint("Step \(position + 1) of \(journal.steps.count): \(step.title)", .yellow, terminal.colorOnStderr))
        terminal.err("  This will " + intent)
        return terminal.confirm("  Go ahead? Anything but yes pauses the run.")
    }

    func learned(_ file: URL) { terminal.note("recorded this barrier in \(file.path) for later plans") }

    func event(_ event: RunEvent, total: Int) {
        func label(_ position: Int, _ kind: StepKind) -> String { "[\(position + 1)/\(total)] \(kind)" }
        func painted(_ word: String, _ color: Terminal.Color) -> String {
            terminal.paint(word, color, terminal.colorOnStdout)
        }
        switch event {
        case .started(let position, let kind, let title):
            terminal.out("\(label(position, kind)): \(title)")
        case .done(let position, let kind, let message):
            terminal.out("\(label(position, kind)) " + painted("done", .green) + ": \(message)")
        case .foundDone(let position, let kind, let message):
            terminal.out(
                "\(label(position, kind)) " + painted("found done", .green)
                    + " (the run was interrupted after it acted): \(message)")
        case .repeating(let position, let kind, let reason):
            terminal.out("\(label(position, kind)) was interrupted and is done again (\(reason))")
        case .failed(let position, let kind, let error):
            if case .restoreRefused = error { return }
            if case .credentialsRefused = error {
                terminal.out("\(label(position, kind)) " + painted("PAUSED", .yellow))
                return
            }
            terminal.out("\(label(position, kind)) " + painted("FAILED", .red))
        case .replanned(let refusal, let plan):
            terminal.out("Connectware \(plan.runningVersion) refused the restore: \(refusal.statusMessage)")
            terminal.out("The run carries on with the plan this refusal gives:")
            terminal.out(plan.renderText(color: terminal.colorOnStdout))
        case .completed:
            terminal.out(painted("Migration completed.", .green))
        }
    }
}

extension String.StringInterpolation {
    /// ` at step 4 remove-volumes (failed)`, or nothing when every step is settled.
    fileprivate mutating func appendInterpolation(where journal: Journal) {
        guard let step = journal.currentStep else { return }
        appendLiteral(" at step \(step.position + 1) \(step.kind) (\(step.state.rawValue))")
    }
}
