import Application
import ArchiveInspect
import ArgumentParser
import DockerOps
import Migration
import Planner

/// `cwmigrate migrate`: plan, check, or carry out a migration against the installation
/// found on this Docker host, journaled and resumable (Application's `MigrationExecution`).
struct MigrateCommand: ConsoleCommand {
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

    @Option(
        name: .customLong("stop-timeout"),
        help: "Seconds each container gets to stop before it is killed.")
    var stopTimeout: Int = 30

    @OptionGroup var waiting: WaitRunningOption

    @Flag(name: .customLong("dry-run"), help: "Print the plan for this installation and stop.")
    var dryRun = false

    @OptionGroup var checks: RestoreCheckOptions

    @OptionGroup var json: JSONFlag

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var connection: ConnectionOptions

    /// Never in argv: a file, else the environment or the installation's .env.
    @Option(
        name: .customLong("initial-password-file"),
        help: ArgumentHelp(
            "The initial admin's password (first line, plain text) of the fresh install of the older version (default: $CWMIGRATE_INITIAL_PASSWORD, else CYBUS_INITIAL_ADMIN_USER_PASSWORD of the installation's .env).",
            valueName: "file"))
    var initialPasswordFile: String?

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var docker: DockerOptions

    @OptionGroup var installers: InstallerDirectoryOption

    @OptionGroup var sources: PlanningOptions

    @Option(
        name: .customLong("plan"),
        help: ArgumentHelp(
            "Carry out this saved plan (cwmigrate plan --json --output FILE) after checking that it still holds here.",
            valueName: "file"),
        completion: .file(extensions: ["json"]))
    var savedPlan: String?

    func validate() throws {
        if dryRun && checks.precheckOnly { throw ValidationError("give --dry-run or --precheck-only, not both") }
        if resume != nil && (dryRun || checks.precheckOnly) {
            throw ValidationError("--resume carries a run on; it does not go with --dry-run or --precheck-only")
        }
        if resume == nil && archive.backup == nil && savedPlan == nil {
            throw ValidationError("give the backup to restore with --backup FILE")
        }
        if resume != nil && savedPlan != nil {
            throw ValidationError("--resume carries on a run with its own plan; it does not go with --plan")
        }
        if let resume, (try? RunName(parsing: resume)) == nil {
            throw ValidationError("--resume takes a run id (cwmigrate runs lists them) or `last`, not \(resume)")
        }
        try requirePositiveSeconds(stopTimeout, "--stop-timeout")
    }

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        // A saved plan that cannot be read stops everything before Docker or the backup is looked at.
        _ = try planning.savedPlan()
        if dryRun { return try planOnly(console) }
        if checks.precheckOnly { return try precheck(console) }
        return try execute(console)
    }

    /// --backup, else the backup the saved plan names (validate() makes sure there is one unless resuming).
    var backupPath: String { planning.backupPath(given: archive.backup) }

    private func planOnly(_ console: Console) throws -> Int32 {
        let (plan, installation, running) = try planning.planHere(
            backupPath: backupPath, assumedVersion: try sources.assumption.version(),
            dockerEnvironment: runOptions.dockerEnvironment, project: docker.project)
        return plan.say(json: json.requested, heading: installation.planHeading(running: running), on: console)
    }

    /// How this command plans: its knowledge, playbook and saved-plan options.
    var planning: MigrationPlanning {
        MigrationPlanning(
            sources: sources.planSources(installation: nil), installerDirectory: installers.installerDirectory,
            savedPlanPath: savedPlan)
    }

    private func precheck(_ console: Console) throws -> Int32 {
        let suite = PrecheckSuite(
            backupPath: backupPath, assumedVersion: try sources.assumption.version(),
            dockerEnvironment: runOptions.dockerEnvironment, project: docker.project, store: state.store(),
            planning: planning, unattended: consent.yes, acceptingExampleData: checks.acceptExampleData)
        let (checks, plan) = suite.run(connect: { try connection.connect(console) }, credentials: credentials)
        return try PrecheckSuite.say(checks, plan: plan, json: json.requested, on: console)
    }

    /// The passwords the run needs, from the options, the environment and the installation's `.env`.
    func credentials(_ connected: Connection, directory: String?) -> RunCredentials {
        connected.runCredentials(
            initialPasswordFile: initialPasswordFile,
            backupPasswordFile: runOptions.backupPasswordFile, directory: directory,
            environment: processEnvironment)
    }

    /// Carries the migration out (Application's `MigrationExecution`) and says how it ended.
    private func execute(_ console: Console) throws -> Int32 {
        let reporter = try ConsoleRunReporter(console: console, unattended: consent.yes)
        let settings = MigrationSettings(
            resume: try resume.map(RunName.init(parsing:)), backupPath: backupPath, project: docker.project,
            assumedVersion: try sources.assumption.version(), unattended: consent.yes,
            acceptingExampleData: checks.acceptExampleData, stopTimeout: stopTimeout,
            healthySeconds: runOptions.healthyTimeout,
            waits: connection.waiting.serverWaits(forRunning: .seconds(waiting.waitRunning ?? 1800), console),
            progress: connection.progress.reporter(console))
        let execution = MigrationExecution(
            store: state.store(), planning: planning, dockerEnvironment: runOptions.dockerEnvironment)
        let outcome = try execution.run(
            settings, connect: { try connection.connect(console) }, credentials: credentials,
            console: reporter)
        return try outcome.say(on: console)
    }
}
