import Application
import ArchiveInspect
import ArgumentParser
import ConnectwareAPI
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

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var exampleData: ExampleDataAcceptance

    @OptionGroup var data: DataDirectoryOption

    @OptionGroup var waiting: WaitRunningOption

    func validate() throws { _ = try runningOption.version() }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { console in
            let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))
            console.err("backup \(file): Connectware \(facts.version), verified, sha256 \(facts.sha256 ?? "-")")
            let runningVersion = try runningOption.version()
            let advice = RestoreAdvice(file: file, backup: facts.version)
            let knowledge = try LocalKnowledge.load(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData, playbooks: data.playbooks)

            if let runningVersion {
                let assessment = try RestorePrediction.assess(
                    backup: facts.version, running: runningVersion, knowledge: knowledge, unattended: consent.yes,
                    acceptingExampleData: exampleData.accepted)
                let (lines, stop) = advice.prediction(assessment, running: runningVersion)
                console.say(lines)
                if let stop { return stop }
            } else {
                console.note("the running version is not given (--running): Connectware decides")
            }

            let connected = try connection.connect(console)
            let client = connected.client
            connected.acceptBackupPassword(environment: processEnvironment)
            let status = try client.status()
            if status.running && waiting.waitRunning == nil { throw ConnectwareAPIError.alreadyRunning }
            if precheck.precheckOnly {
                console.out("Precheck passed: the backup verifies and Connectware at \(client.baseURL) is idle.")
                return ExitStatus.ok
            }
            try console.requireConsent(
                "This replaces all data of Connectware at \(client.baseURL) with backup \(facts.backupID?.description ?? file).",
                yes: consent.yes,
                offTerminal: Failure(
                    message: "a restore replaces Connectware's database and needs confirmation",
                    hint: "run on a terminal to be asked, or pass --yes", exitCode: ExitStatus.usage),
                declined: Failure(message: "restore not confirmed; nothing was changed", exitCode: ExitStatus.usage))

            let reporter = WaitingReporter(console: console, what: "restore", enabled: connection.progress.format != .none)
            do {
                let record = try client.runRestore(
                    file: file, backupVersion: facts.version, runningVersion: runningVersion,
                    deadline: .seconds(connection.timeout), waitForRunning: waiting.waitRunning.map { .seconds($0) },
                    wait: connection.waitSettings(console), progress: connection.progress.reporter(console),
                    onPoll: reporter.poll)
                reporter.done()
                console.out("Restored backup \(record.id ?? facts.backupID?.description ?? file) on \(client.baseURL)")
                if let expected = facts.backupID, let id = record.backupID, id != expected {
                    console.warning("Connectware reports restoring \(id), but the file's id is \(expected)")
                }
                console.note("the vendor recommends restarting Connectware after a restore")
                return ExitStatus.ok
            } catch ConnectwareAPIError.restoreRefused(let refusal) {
                reporter.done()
                return try reportRefusal(refusal, advice: advice, running: runningVersion, console: console)
            }
        }
    }

    /// Says what the Planner decided from a refusal (Application's `RefusalVerdict`) and the plan that follows.
    private func reportRefusal(_ refusal: RestoreRefusal, advice: RestoreAdvice, running: Version?, console: Console)
        throws -> Int32
    {
        let verdict = try refusal.verdict(backup: advice.backup, running: running) {
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
        console.report(Failure(message: "Connectware refused the restore: \(refusal.statusMessage)", exitCode: 0))
        let (lines, exitCode) = advice.refused(verdict, refusal: refusal, running: running)
        console.say(lines)
        return exitCode
    }
}
