import Application
import ArchiveInspect
import ArgumentParser
import DockerOps
import Migration
import Planner

/// `cwmigrate migrate`: plan, check, or carry out a migration against the installation
/// found on this Docker host, journaled and resumable (Application's `MigrationExecution`).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Migrate a backup onto this host's Connectware: plan, check, or carry it out.",
        discussion: Help.migrate)

    @OptionGroup var archive: BackupOption

    @OptionGroup var consent: ConsentFlag

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

    @Flag(name: .customLong("dry-run"), help: "Print the plan for this installation and stop.")
    var dryRun = false

    @OptionGroup var mode: PrecheckOnlyFlag

    @OptionGroup var json: JSONFlag

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
        if dryRun && mode.precheckOnly { throw ValidationError("give --dry-run or --precheck-only, not both") }
        if resume != nil && (dryRun || mode.precheckOnly) {
            throw ValidationError("--resume carries a run on; it does not go with --dry-run or --precheck-only")
        }
        if resume == nil && archive.backup == nil && savedPlan == nil {
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
        try guarded(global) { console in
            // A saved plan that cannot be read stops everything before Docker or the backup is looked at.
            _ = try planning.savedPlan()
            if dryRun { return try planOnly(console) }
            if mode.precheckOnly { return try precheck(console) }
            return try execute(console)
        }
    }

    /// --backup, else the backup the saved plan names (validate() makes sure there is one unless resuming).
    var backupPath: String { planning.backupPath(given: archive.backup) }

    private func planOnly(_ console: Console) throws -> Int32 {
        let (plan, installation, running) = try planning.planHere(
            backupPath: backupPath, assumedVersion: try assumption.version(), dockerEnvironment: dockerHost.environment,
            project: docker.project)
        if json.requested {
            console.out(plan.renderJSON())
        } else {
            console.out(
                "Installation: project \(installation.project) in \(installation.workingDirectory ?? "an unknown directory"), Connectware \(running) (Docker Engine \(installation.engineVersion))"
            )
            console.out(plan.renderText(color: console.colorOnStdout))
        }
        for note in plan.notes { console.note(note) }
        return PlanCommand.exitCode(for: plan)
    }

    /// How this command plans: its knowledge, playbook and saved-plan options.
    var planning: MigrationPlanning {
        MigrationPlanning(
            compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbookPath: playbook.playbook,
            dataDirectory: data.playbooks, installerDirectory: installers.installerDirectory, savedPlanPath: savedPlan)
    }

    private func precheck(_ console: Console) throws -> Int32 {
        let suite = PrecheckSuite(
            backupPath: backupPath, assumedVersion: try assumption.version(), dockerEnvironment: dockerHost.environment,
            project: docker.project, store: state.store(), planning: planning, unattended: consent.yes,
            acceptingExampleData: exampleData.accepted)
        let (checks, plan) = suite.run(
            connect: {
                let connected = try connection.connect(console)
                return (connected.client, { directory in credentials(connected, directory: directory) })
            },
            describe: { error in
                let failure = (error as? Failure) ?? (error as? any OperatorFacing)?.failure
                return (failure?.message ?? "\(error)", failure?.hint)
            })

        let passed = checks.allSatisfy { $0.status == .pass }
        let text = CheckResult.lines(checks, color: console.colorOnStdout) + [CheckResult.verdict(checks)]
        console.out(lines: json.requested ? [try PrecheckSuite.json(checks)] : text)
        for note in plan?.notes ?? [] { console.note(note) }
        return passed ? ExitStatus.ok : ExitStatus.unavailable
    }

    /// The passwords the run needs, from the options, the environment and the installation's `.env`.
    func credentials(_ connected: Connection, directory: String?) -> RunCredentials {
        connected.runCredentials(
            initialPasswordFile: initialPassword.initialPasswordFile,
            backupPasswordFile: backupPassword.backupPasswordFile, directory: directory,
            environment: processEnvironment)
    }

    /// Carries the migration out (Application's `MigrationExecution`) and says how it ended.
    private func execute(_ console: Console) throws -> Int32 {
        try console.requirePerson(
            unless: consent.yes,
            offTerminal: Failure(
                message: "migrate asks before each step that changes the installation, and stdin is not a terminal",
                hint: "run it on a terminal, or pass --yes to run unattended", exitCode: ExitStatus.usage))
        let settings = MigrationSettings(
            resume: resume, backupPath: backupPath, project: docker.project, assumedVersion: try assumption.version(),
            unattended: consent.yes, acceptingExampleData: exampleData.accepted, stopTimeout: stopTimeout,
            healthySeconds: healthy.healthyTimeout,
            waits: ServerWaits(
                operation: .seconds(connection.timeout), forRunning: .seconds(waiting.waitRunning ?? 1800),
                settings: connection.waitSettings(console)),
            progress: connection.progress.reporter(console))
        let execution = MigrationExecution(
            store: state.store(), planning: planning, dockerEnvironment: dockerHost.environment)
        let outcome = try execution.run(
            settings, connect: { try connection.connect(console) }, credentials: credentials,
            console: ConsoleRunReporter(console: console))
        switch outcome {
        case .completed(let finished, let report):
            console.out(lines: finished.completedLines(report: report))
            return ExitStatus.ok
        case .stopped(let journal, let error, let report, let followingPlan):
            let failure = error.failure(stopping: journal)
            if case .restoreRefused(_, _, let version, _) = error {
                console.report(Failure(message: failure.message, exitCode: 0))
                if let followingPlan {
                    console.out("The plan this refusal gives, from Connectware \(version) as it runs now:")
                    console.out(followingPlan.renderText(color: console.colorOnStdout))
                }
                if let report { console.out("report: \(report)") }
                if let hint = failure.hint { console.err("hint: " + hint) }
                return failure.exitCode
            }
            if let report { console.out("report: \(report)") }
            throw failure
        }
    }
}
