import Application
import ArchiveInspect
import ArgumentParser
import ConnectwareAPI
import Foundation
import Planner

/// `cwmigrate restore`: check that the running Connectware will take a backup, then upload
/// it and wait for the restore; a refusal becomes a plan and is remembered.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup on Connectware, after checking that it will be accepted.",
        discussion: Help.restore)

    @Argument(help: "The backup file (.tgz).", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var file: String

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var precheck: PrecheckOnlyFlag

    @OptionGroup var consent: ConsentFlag
    var yes: Bool { consent.yes }

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var exampleData: ExampleDataAcceptance

    @OptionGroup var data: DataDirectoryOption

    @OptionGroup var waiting: WaitRunningOption
    var waitRunning: Int? { waiting.waitRunning }

    func validate() throws { _ = try runningOption.version() }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))
            terminal.err("backup \(file): Connectware \(facts.version), verified, sha256 \(facts.sha256 ?? "-")")
            let runningVersion = try runningOption.version()
            let knowledge = try LocalKnowledge.load(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbooks: data.playbooks)

            if let runningVersion {
                let assessment = try RestorePrediction.assess(
                    backup: facts.version, running: runningVersion, knowledge: knowledge, unattended: yes,
                    acceptingExampleData: exampleData.accepted)
                switch assessment.decision {
                case .downgradeRequired, .upgradeFirst:
                    terminal.out("Decision: \(assessment.decision.kind) (predicted, nothing was uploaded)")
                    terminal.out("Why: \(assessment.reason)")
                    terminal.out("The plan: \(planCommand(running: runningVersion.description, refusal: nil))")
                    return ExitStatus.of(assessment.decision.kind)
                case .directRestore:
                    terminal.note("Connectware \(runningVersion) is expected to restore this backup")
                case .compatibilityUnknown:
                    terminal.note("nothing is known about \(facts.version) on \(runningVersion): Connectware decides")
                }
            } else {
                terminal.note("the running version is not given (--running): Connectware decides")
            }

            let connected = try connection.connect(terminal)
            let client = connected.client
            connected.acceptBackupPassword(environment: ProcessInfo.processInfo.environment)
            let status = try client.status()
            if status.running && waitRunning == nil { throw ConnectwareAPIError.alreadyRunning }
            if precheck.precheckOnly {
                terminal.out("Precheck passed: the backup verifies and Connectware at \(client.baseURL) is idle.")
                return ExitStatus.ok
            }
            try terminal.requireConsent(
                "This replaces all data of Connectware at \(client.baseURL) with backup \(facts.backupID?.description ?? file).",
                yes: yes,
                offTerminal: Failure(
                    message: "a restore replaces Connectware's database and needs confirmation",
                    hint: "run on a terminal to be asked, or pass --yes", exitCode: ExitStatus.usage),
                declined: Failure(message: "restore not confirmed; nothing was changed", exitCode: ExitStatus.usage))

            let waiting = WaitingReporter(terminal: terminal, what: "restore", enabled: connection.progress != .none)
            do {
                let record = try client.runRestore(
                    file: file, backupVersion: facts.version, runningVersion: runningVersion,
                    deadline: .seconds(connection.timeout), waitForRunning: waitRunning.map { .seconds($0) },
                    wait: connection.waitSettings(terminal), progress: connection.progressReporter(terminal),
                    onPoll: waiting.poll)
                waiting.done()
                terminal.out("Restored backup \(record.id ?? facts.backupID?.description ?? file) on \(client.baseURL)")
                if let expected = facts.backupID, let id = record.backupID, id != expected {
                    terminal.warning("Connectware reports restoring \(id), but the file's id is \(expected)")
                }
                terminal.note("the vendor recommends restarting Connectware after a restore")
                return ExitStatus.ok
            } catch ConnectwareAPIError.restoreRefused(let refusal) {
                waiting.done()
                return try reportRefusal(refusal, backup: facts.version, running: runningVersion, terminal: terminal)
            }
        }
    }

    /// Says what the Planner decided from a refusal (Application's `RefusalVerdict`) and the plan that follows.
    private func reportRefusal(_ refusal: RestoreRefusal, backup: Version, running: Version?, terminal: Terminal)
        throws -> Int32
    {
        let verdict = try refusal.verdict(backup: backup, running: running) {
            try LocalKnowledge.load(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbooks: data.playbooks)
        }
        if case .notAboutVersion = verdict {
            throw Failure(
                message: "the restore failed on Connectware: \(refusal.statusMessage)",
                hint:
                    "this is not a refusal of the backup's version, so nothing was learned and no other version is suggested; fix the cause and restore again",
                exitCode: ExitStatus.restoreFailed)
        }
        terminal.report(Failure(message: "Connectware refused the restore: \(refusal.statusMessage)", exitCode: 0))
        switch verdict {
        case .notAboutVersion:
            return ExitStatus.restoreFailed
        case .fromRefusalAlone(let decision, let last):
            terminal.out("Decision: \(decision)")
            if let last {
                terminal.out("The refusal names \(last) as the last version that restores this backup.")
                terminal.note("give --running next time so cwmigrate can plan from it and remember it")
                terminal.out("The plan: \(planCommand(running: "<running version>", refusal: refusal))")
            } else {
                terminal.out(
                    "No plan follows: the refusal names no version that restores the backup; find the last version that restores a \(backup) backup and give it in a compat file (--compat)"
                )
            }
            return ExitStatus.of(decision)
        case .decided(let assessment, _) where assessment.noPlan:
            terminal.out("Decision: \(assessment.decision.kind) (no plan)")
            terminal.out("Why: \(assessment.reason)")
            return ExitStatus.compatibilityUnknown
        case .decided(let assessment, let file):
            if let file { terminal.note("recorded the barrier in \(file.path); cwmigrate plan knows it from now on") }
            let restoreOn = assessment.decision.restoreVersion.map { "restore on \($0) first, then upgrade again" }
            terminal.out("Decision: \(assessment.decision.kind)\(restoreOn.map { " (\($0))" } ?? "")")
            terminal.out("Why: \(assessment.reason)")
            // Once recorded, plan knows the refusal; otherwise it is given again.
            let running = running.map(\.description) ?? "<running version>"
            terminal.out("The plan: \(planCommand(running: running, refusal: file == nil ? refusal : nil))")
            return ExitStatus.of(assessment.decision.kind)
        }
    }

    private func planCommand(running: String, refusal: RestoreRefusal?) -> String {
        var words = ["cwmigrate", "plan", "--backup", shellQuoted(file), "--running", running]
        if let refusal { words += ["--refusal", shellQuoted(refusal.statusMessage)] }
        return words.joined(separator: " ")
    }
}
