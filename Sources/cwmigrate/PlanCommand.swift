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
        discussion: """
            The whole archive is read and verified before deciding (--quick reads only up to its \
            metadata, and the plan then says it was made on a partial read). Every fact the plan \
            uses is shown with its source; where sources disagree, both are shown, and what a \
            server said outranks an operator's file, which outranks the shipped data.

            --json --output FILE saves the plan; `cwmigrate migrate --plan FILE` carries out \
            exactly that plan after checking that the backup, the running version, the \
            installation and the knowledge are still the ones it was made from.

            Exit codes: 0 the backup restores directly, 3 a downgrade is required, 4 compatibility \
            is unknown (also: no plan, see Why), 5 the running Connectware must be upgraded first; \
            64 usage (also: a --refusal naming no version), 65 a bad compat or playbook file, a \
            truncated, damaged or self-contradicting backup, 66 a missing file, 73 the output \
            cannot be written.
            """)

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
            let loaded = try LocalKnowledge.loadWithFiles(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbooks: data.playbooks)
            var chosen = try LocalKnowledge.playbook(
                path: playbook.playbook, installation: installation, playbooks: data.playbooks)
            if let project { chosen.settings["project"] = project }
            if let directory { chosen.settings["directory"] = directory }
            let refused = try refusal.map { try Self.refusal($0, backup: backupVersion, running: running) }
            var plan = makePlan(
                backup: backupVersion, running: running, knowledge: loaded.knowledge, playbook: chosen,
                refusal: refused, refusalSource: FactSource(authority: .server, file: "--refusal", server: running),
                backupFile: backup)
            plan.partialRead = quick && backup != nil
            plan.basis = PlanBasis(
                backupFile: backupPath, backupSHA256: digest, project: project, directory: directory,
                knowledge: loaded.files, ignoresExampleData: sources.noExampleData)
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

    /// The `--refusal` message as a refusal; one that names no version that restores the
    /// backup is a usage error, since no plan can follow from it.
    static func refusal(_ message: String, backup: Version, running: Version) throws -> RestoreRefusal {
        let refused = RestoreRefusal(statusMessage: message, backupVersion: backup, runningVersion: running)
        switch refused.kind {
        case .versionRefusal: return refused
        case .refusalWithoutVersion:
            throw Failure(
                message: "--refusal: the message names no version that restores the backup: \(message)",
                hint:
                    "without a named version the refusal says only that \(running) refuses it; give the last version that restores a \(backup) backup in a compat file (--compat)",
                exitCode: ExitStatus.usage)
        case .failure:
            throw Failure(
                message: "--refusal: the message does not read as a refusal for the backup's version: \(message)",
                hint:
                    "a restore that failed for another reason (disk, dump, network) teaches nothing about versions; fix its cause and restore again",
                exitCode: ExitStatus.usage)
        }
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
