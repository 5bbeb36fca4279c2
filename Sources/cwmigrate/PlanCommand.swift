import Application
import ArchiveInspect
import ArgumentParser
import Foundation
import HTTP
import Planner
import SafeFiles

extension InstallationKind: ExpressibleByArgument {}

/// `cwmigrate plan`: decide and print the steps, without touching anything.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the plan for restoring a backup on the running Connectware (a dry run).",
        discussion: Help.plan)

    @Option(help: "The backup archive (.tgz) to restore.", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var backup: String?

    @Option(name: .customLong("backup-version"), help: "Plan for a backup of this version, without a file.")
    var backupVersionText: String?

    @OptionGroup var assumption: AssumedVersionOption

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var installationOption: InstallationKindOption
    var installation: InstallationKind? { installationOption.installation }

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var playbook: PlaybookOption

    @OptionGroup var data: DataDirectoryOption

    @OptionGroup var refusalOption: RefusalOption
    var refusal: String? { refusalOption.refusal }

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var progress: ProgressOption

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var forceFlag: ForceFlag
    var force: Bool { forceFlag.force }

    @OptionGroup var quickFlag: QuickFlag
    var quick: Bool { quickFlag.quick }

    @OptionGroup var docker: DockerOptions
    var project: String? { docker.project }

    @OptionGroup var directoryOption: DirectoryOption
    var directory: String? { directoryOption.directory }

    func validate() throws {
        guard try runningOption.version() != nil else {
            throw ValidationError("missing expected argument '--running <running>'")
        }
        if let backupVersionText { _ = try versionOption(backupVersionText, "--backup-version") }
        _ = try assumption.version()
        switch (backup, backupVersionText) {
        case (nil, nil):
            throw ValidationError("give the backup file with --backup FILE, or its version with --backup-version V")
        case (_?, _?): throw ValidationError("give either --backup or --backup-version, not both")
        default: break
        }
        if quick && backup == nil { throw ValidationError("--quick goes with --backup FILE") }
        if output != nil && !json { throw ValidationError("--output saves the plan as JSON: give --json too") }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            guard let running = try runningOption.version() else { return ExitStatus.usage }
            // The output is checked before the backup (which may be large) is read.
            let inputs = (backup.map { [$0] } ?? []) + sources.compatFiles
            if let output { try OutputFile.check(output, replacing: force, inputs: inputs, standardOutputRefusal: nil) }
            let backupVersion: Version
            var digest: String?
            let backupPath = backup.map(absolutePath)
            if let backupPath {
                let assumed = try assumption.version()
                let facts = try inspectBackup(
                    at: backupPath, options: InspectOptions(verify: !quick, assumedVersion: assumed),
                    progress: progress.reporter(terminal))
                backupVersion = facts.version
                digest = facts.sha256
            } else {
                backupVersion = try versionOption(backupVersionText ?? "", "--backup-version")
            }
            let (plan, _) = try planSources.plan(
                backup: backupVersion, running: running, refusal: refusal, backupFile: backup,
                partialRead: quick && backup != nil, basisFile: backupPath, sha256: digest, project: project,
                directory: directory
            ) { playbook in
                var chosen = playbook
                if let project { chosen.settings["project"] = project }
                if let directory { chosen.settings["directory"] = directory }
                return chosen
            }
            let text = json ? plan.renderJSON() : plan.renderText(color: terminal.colorOnStdout)
            if let output, output != "-" {
                // A plan holds no secret: 0644, as an editor would save it.
                try OutputFile.write(
                    Array((text + "\n").utf8), to: output, mode: 0o644, replacing: force, inputs: inputs)
                terminal.note("wrote the plan to \(output)")
            } else {
                terminal.out(text)
            }
            Self.notes(for: plan, terminal)
            return Self.exitCode(for: plan)
        }
    }

    /// What this command plans from: the knowledge, the playbook and the installation kind.
    var planSources: PlanSources {
        PlanSources(
            compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData,
            playbookPath: playbook.playbook, dataDirectory: data.playbooks, installation: installation)
    }

    /// The notes every command that shows a plan adds on stderr.
    static func notes(for plan: Plan, _ terminal: Terminal) {
        if plan.exampleData {
            terminal.note(Plan.exampleDataNote + " (--no-example-data ignores it)")
        }
        if plan.partialRead {
            terminal.note("the plan was made on a partial read of the backup (--quick); the archive was not verified")
        }
        if !plan.disagreements.isEmpty {
            terminal.note("the sources of this plan disagree; see Disagreements")
        }
    }

    static func exitCode(for plan: Plan) -> Int32 { ExitStatus.of(plan.decision) }
}
