import ArchiveInspect
import ConnectwareAPI
import Planner
import Vocabulary

/// `restore`: the backup verified; with the running version given, the Planner's prediction,
/// which stops a restore it expects refused before anything is uploaded; then Connectware's
/// answer. A refusal is decided by the Planner (`RefusalVerdict`) and what it names is
/// remembered; a restore that failed for another reason is an error.
public struct RestoreExecution {
    /// The backup file as the operator named it.
    public var file: String
    /// `--running`; nil: Connectware decides.
    public var running: Version?
    /// `--compat`, `--no-example-data` and `--playbooks`: the knowledge the Planner decides with.
    public var sources: PlanSources
    /// `--yes`: nobody is asked, and example data does not decide unless it is accepted.
    public var unattended: Bool
    public var acceptingExampleData: Bool
    /// `--precheck-only`: stop once the backup verifies and Connectware is idle.
    public var precheckOnly: Bool
    public var waiting: ServerWaiting
    /// `--wait-running`; nil: a backup or restore already running stops the restore at once.
    public var waitForRunning: Duration?

    public init(
        file: String, running: Version?, sources: PlanSources, unattended: Bool, acceptingExampleData: Bool,
        precheckOnly: Bool, waiting: ServerWaiting, waitForRunning: Duration?
    ) {
        self.file = file
        self.running = running
        self.sources = sources
        self.unattended = unattended
        self.acceptingExampleData = acceptingExampleData
        self.precheckOnly = precheckOnly
        self.waiting = waiting
        self.waitForRunning = waitForRunning
    }

    /// Carries the restore out and returns its exit code (0 restored or the precheck passed; a
    /// decision's code when it stops on a prediction or a refusal). `connect` is called only
    /// once the prediction lets the restore go on; `environment` may hold the backup's password.
    public func run(environment: [String: String], connect: () throws -> Connection, console: Console) throws -> Int32 {
        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))
        console.err("backup \(file): Connectware \(facts.version), verified, sha256 \(facts.sha256 ?? "-")")
        let advice = RestoreAdvice(file: file, backup: facts.version)
        let knowledge = try sources.knowledge()
        if let running {
            let assessment = try RestorePrediction.assess(
                backup: facts.version, running: running, knowledge: knowledge, unattended: unattended,
                acceptingExampleData: acceptingExampleData)
            let (lines, stop) = advice.prediction(assessment, running: running)
            console.say(lines)
            if let stop { return stop }
        } else {
            console.note("the running version is not given (--running): Connectware decides")
        }

        let connected = try connect()
        let client = connected.client
        connected.acceptBackupPassword(environment: environment)
        let status = try client.status()
        if status.running && waitForRunning == nil { throw ConnectwareAPIError.alreadyRunning }
        if precheckOnly {
            console.out("Precheck passed: the backup verifies and Connectware at \(client.baseURL) is idle.")
            return ExitStatus.ok
        }
        try console.requireConsent(
            "This replaces all data of Connectware at \(client.baseURL) with backup \(facts.backupID?.description ?? file).",
            yes: unattended,
            offTerminal: Failure(
                message: "a restore replaces Connectware's database and needs confirmation",
                hint: "run on a terminal to be asked, or pass --yes", exitCode: ExitStatus.usage),
            declined: Failure(message: "restore not confirmed; nothing was changed", exitCode: ExitStatus.usage))

        let reporter = waiting.waitingReporter(console, what: "restore")
        do {
            let record = try client.runRestore(
                file: file, backupVersion: facts.version, runningVersion: running, deadline: waiting.operation,
                waitForRunning: waitForRunning, wait: waiting.settings(console), progress: waiting.reporter(console),
                onPoll: reporter.poll)
            reporter.done()
            console.out("Restored backup \(record.id ?? facts.backupID?.description ?? file) on \(client.baseURL)")
            if let expected = facts.backupID, let id = record.backupID, id != expected {
                console.warning("Connectware reports restoring \(id), but the file's id is \(expected)")
            }
            console.note("the vendor recommends restarting Connectware after a restore")
            return ExitStatus.ok
        } catch {
            guard case .restoreRefused(let refusal) = error else { throw error }
            reporter.done()
            return try refused(refusal, advice: advice, console: console)
        }
    }

    /// Says what the Planner decided from Connectware's refusal and the plan that follows, and
    /// returns the decision's exit code; a failure that is not about the backup's version is
    /// thrown (exit 12), with nothing learned.
    public func refused(_ refusal: RestoreRefusal, advice: RestoreAdvice, console: Console) throws -> Int32 {
        let verdict = try refusal.verdict(backup: advice.backup, running: running) { try sources.knowledge() }
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
