import Application
import ArgumentParser
import Planner

extension InstallationKind: ExpressibleByArgument {}

/// `cwmigrate plan`: decide and print the steps, without touching anything.
struct PlanCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the plan for restoring a backup on the running Connectware (a dry run).",
        discussion: Help.plan)

    @OptionGroup var archive: BackupOption

    @Option(name: .customLong("backup-version"), help: "Plan for a backup of this version, without a file.")
    var backupVersionText: String?

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var given: PlanInputOptions

    @OptionGroup var sources: PlanningOptions

    @OptionGroup var json: JSONFlag

    @OptionGroup var progress: ProgressOption

    @OptionGroup var destination: OutputOptions

    @OptionGroup var docker: DockerOptions

    func validate() throws {
        guard runningOption.running != nil else {
            throw ValidationError("missing expected argument '--running <running>'")
        }
        if let backupVersionText { _ = try versionOption(backupVersionText, "--backup-version") }
        switch (archive.backup, backupVersionText) {
        case (nil, nil):
            throw ValidationError("give the backup file with --backup FILE, or its version with --backup-version V")
        case (_?, _?): throw ValidationError("give either --backup or --backup-version, not both")
        default: break
        }
        if given.quick && archive.backup == nil { throw ValidationError("--quick goes with --backup FILE") }
        if destination.output != nil && !json.requested {
            throw ValidationError("--output saves the plan as JSON: give --json too")
        }
    }

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        guard let running = try runningOption.version() else { return ExitStatus.usage }
        let backup: PlannedBackup =
            if let file = archive.backup {
                .file(file, quick: given.quick, assumedVersion: try sources.assumption.version())
            } else {
                .version(try versionOption(backupVersionText ?? "", "--backup-version"))
            }
        let composition = PlanComposition(
            backup: backup, sources: sources.planSources(installation: given.installation), running: running,
            refusal: given.refusal, project: docker.project, directory: given.directory)
        return try composition.say(
            json: json.requested, output: DocumentOutput(path: destination.output, replacing: destination.force),
            progress: progress.reporter(console), on: console)
    }
}
