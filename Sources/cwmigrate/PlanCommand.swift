import ArchiveInspect
import ArgumentParser
import Foundation
import HTTP
import Planner

extension InstallationKind: ExpressibleByArgument {}

/// `cwmigrate plan`: decide and print the steps, without touching anything.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the plan for restoring a backup on the running Connectware (a dry run).",
        discussion: """
            Exit codes: 0 the backup restores directly, 3 a downgrade is required, 4 compatibility \
            is unknown, 5 the running Connectware must be upgraded first; 64 usage, 65 a bad \
            compat or playbook file or backup name, 66 a missing file.
            """)

    @Option(help: "The backup archive (.tgz) to restore.", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var backup: String?

    @Option(name: .customLong("backup-version"), help: "Plan for a backup of this version, without a file.")
    var backupVersionText: String?

    @Option(
        name: .customLong("assume-version"),
        help: "Take this as the backup's version when its evidence is missing or disagrees.")
    var assumeVersion: String?

    @Option(name: .customLong("running"), help: "The version of the running Connectware, e.g. 1.8.0.")
    var runningText: String

    @Option(
        help:
            "How Connectware is installed: docker-compose or kubernetes (default: the playbook's, else docker-compose)."
    )
    var installation: InstallationKind?

    @Option(name: .customLong("compat"), help: "An operator's compat file, added to the bundled one (repeatable).", completion: .file(extensions: ["yml", "yaml"]))
    var compatFiles: [String] = []

    @Flag(name: .customLong("no-example-data"), help: "Ignore the example barriers shipped with cwmigrate.")
    var noExampleData = false

    @Option(help: "A playbook file to use instead of the bundled one for the installation.", completion: .file(extensions: ["yml", "yaml"]))
    var playbook: String?

    @Option(help: ArgumentHelp("The directory holding the bundled compat.yml and playbooks.", valueName: "dir"),
        completion: .directory)
    var playbooks: String?

    @Option(help: "The status message of a refused restore; the version it names decides the plan.")
    var refusal: String?

    @Flag(help: "Print the plan as one JSON object.")
    var json = false

    @OptionGroup var progress: ProgressOption

    func validate() throws {
        _ = try versionOption(runningText, "--running")
        if let backupVersionText { _ = try versionOption(backupVersionText, "--backup-version") }
        if let assumeVersion { _ = try versionOption(assumeVersion, "--assume-version") }
        switch (backup, backupVersionText) {
        case (nil, nil):
            throw ValidationError("give the backup file with --backup FILE, or its version with --backup-version V")
        case (_?, _?): throw ValidationError("give either --backup or --backup-version, not both")
        default: break
        }
        if let refusal, refusal.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--refusal needs the restore's status message")
        }
    }

    func run() throws {
        try guarded { terminal in
            let running = try versionOption(runningText, "--running")
            let backupVersion: Version
            if let backup {
                backupVersion = try Self.backupVersion(
                    ofFile: backup, assumed: assumeVersion.map { try versionOption($0, "--assume-version") },
                    progress: progress.reporter())
            } else {
                backupVersion = try versionOption(backupVersionText ?? "", "--backup-version")
            }
            let knowledge = try LocalKnowledge.load(
                compatFiles: compatFiles, ignoringExamples: noExampleData, playbooks: playbooks)
            let chosen = try LocalKnowledge.playbook(path: playbook, installation: installation, playbooks: playbooks)
            let refused = refusal.map {
                RestoreRefusal(statusMessage: $0, backupVersion: backupVersion, runningVersion: running)
            }
            let plan = makePlan(
                backup: backupVersion, running: running, knowledge: knowledge, playbook: chosen, refusal: refused,
                backupFile: backup)
            if json {
                terminal.out(plan.renderJSON())
            } else {
                terminal.out(plan.renderText(color: terminal.colorOnStdout))
            }
            if plan.exampleData {
                terminal.note(
                    "an EXAMPLE barrier shipped with cwmigrate decided this plan; it is illustration data, not a known Connectware barrier (--no-example-data ignores it)"
                )
            }
            if let refused, refused.lastRestoringVersion == nil {
                terminal.note("the refusal message names no version that restores the backup")
            }
            return Self.exitCode(for: plan)
        }
    }

    static func exitCode(for plan: Plan) -> Int32 {
        switch plan.decision {
        case "direct-restore": ExitStatus.ok
        case "downgrade-required": ExitStatus.downgradeRequired
        case "upgrade-first": ExitStatus.upgradeFirst
        default: ExitStatus.compatibilityUnknown
        }
    }

    /// The backup's version from the archive's own evidence (a quick scan, no --verify); a scan
    /// long enough to be noticed (metadata deep in a big archive) shows its progress.
    static func backupVersion(
        ofFile path: String, assumed: Version?, progress: (any TransferProgressReporter)? = nil
    ) throws -> Version {
        try inspectBackup(
            at: path, options: InspectOptions(verify: false, assumedVersion: assumed), progress: progress
        ).version
    }
}

/// A version given on the command line, or a usage error that shows the bad value.
func versionOption(_ text: String, _ option: String) throws -> Version {
    do {
        return try Version(parsing: text)
    } catch {
        throw ValidationError("\(option): \(error.description)")
    }
}
