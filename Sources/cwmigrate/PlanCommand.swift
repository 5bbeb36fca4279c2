import Application
import ArchiveInspect
import ArgumentParser
import HTTP
import Planner
import SafeFiles

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
        guard try runningOption.version() != nil else {
            throw ValidationError("missing expected argument '--running <running>'")
        }
        if let backupVersionText { _ = try versionOption(backupVersionText, "--backup-version") }
        _ = try sources.assumption.version()
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
        // The output is checked before the backup (which may be large) is read.
        let inputs = (archive.backup.map { [$0] } ?? []) + sources.knowledge.compatFiles
        if let output = destination.output {
            try OutputFile.check(output, replacing: destination.force, inputs: inputs, standardOutputRefusal: nil)
        }
        let backupVersion: Version
        var digest: String?
        let backupPath = archive.backup.map(absolutePath)
        if let backupPath {
            let assumed = try sources.assumption.version()
            let facts = try inspectBackup(
                at: backupPath, options: InspectOptions(verify: !given.quick, assumedVersion: assumed),
                progress: progress.reporter(console))
            backupVersion = facts.version
            digest = facts.sha256
        } else {
            backupVersion = try versionOption(backupVersionText ?? "", "--backup-version")
        }
        let plan = try sources.planSources(installation: given.installation).plan(
            backup: backupVersion, running: running, refusal: given.refusal, backupFile: archive.backup,
            partialRead: given.quick && archive.backup != nil, basisFile: backupPath, sha256: digest,
            project: docker.project, directory: given.directory)
        let text = json.requested ? plan.renderJSON() : plan.renderText(color: console.colorOnStdout)
        if let output = destination.output, output != "-" {
            // A plan holds no secret: 0644, as an editor would save it.
            try OutputFile.write(
                Array((text + "\n").utf8), to: output, mode: 0o644, replacing: destination.force, inputs: inputs)
            console.note("wrote the plan to \(output)")
        } else {
            console.out(text)
        }
        for note in plan.notes { console.note(note) }
        return ExitStatus.of(plan.decision)
    }
}
