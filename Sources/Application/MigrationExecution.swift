import ConnectwareAPI
import DockerOps
import Migration
import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What a migration run tells the person (or script) that drives it, and asks them.
public protocol MigrationConsole {
    /// A new run was made with its plan, or an unfinished one is carried on.
    func began(_ journal: Journal, resumed: Bool)
    /// A helper container or staged file left by a cwmigrate that no longer runs was removed.
    func removedLeftover(_ name: String)
    /// The prechecks run before the first step that changes the installation.
    func prechecks(_ checks: [CheckResult])
    /// Whether the step at `position`, which will do `intent`, may go ahead (asked only when
    /// the run is not unattended).
    func confirm(_ journal: Journal, position: Int, intent: String) -> Bool
    /// A step's progress; `total` is the number of steps of the plan the run follows now.
    func event(_ event: RunEvent, total: Int)
    /// What a refusal taught was recorded in this compat file, for later plans.
    func learned(_ file: URL)
}

/// How a run is carried out: the options of `migrate` that are not about planning.
public struct MigrationSettings {
    /// `--resume RUN` (or `last`); nil: a new run of `backupPath`.
    public var resume: RunName?
    public var backupPath: String
    /// `--project`: which compose project on the Docker host.
    public var project: String?
    public var assumedVersion: Version?
    /// `--yes`: no step is confirmed first.
    public var unattended: Bool
    public var acceptingExampleData: Bool
    public var stopTimeout: Int
    public var healthySeconds: Int
    public var waits: ServerWaits
    public var progress: (any TransferProgressReporter)?

    public init(
        resume: RunName?, backupPath: String, project: String?, assumedVersion: Version?, unattended: Bool,
        acceptingExampleData: Bool, stopTimeout: Int, healthySeconds: Int, waits: ServerWaits,
        progress: (any TransferProgressReporter)?
    ) {
        self.resume = resume
        self.backupPath = backupPath
        self.project = project
        self.assumedVersion = assumedVersion
        self.unattended = unattended
        self.acceptingExampleData = acceptingExampleData
        self.stopTimeout = stopTimeout
        self.healthySeconds = healthySeconds
        self.waits = waits
        self.progress = progress
    }
}

/// How a run ended: completed with its report, or stopped with the error that stopped it.
public enum MigrationOutcome {
    case completed(Journal, report: String)
    /// `followingPlan`: for a restore refused at the older version too, the plan that refusal
    /// gives from where the installation is now (the refusal is recorded for later plans).
    case stopped(Journal, MigrationError, report: String?, followingPlan: Plan?)
}

/// Carrying a migration out: a new run, or one resumed, walked under the installation's lock
/// with the step runners of Migration, replanned by the Planner when the restore is refused,
/// and a report written at the end whatever happened.
public struct MigrationExecution {
    public var store: JournalStore
    public var planning: MigrationPlanning
    public var dockerEnvironment: [String: String]

    public init(store: JournalStore, planning: MigrationPlanning, dockerEnvironment: [String: String]) {
        self.store = store
        self.planning = planning
        self.dockerEnvironment = dockerEnvironment
    }

    /// Runs the migration. `connect` is called once what can never be resumed has been refused;
    /// `credentials` gives the run's passwords for the installation's directory.
    public func run(
        _ settings: MigrationSettings, connect: () throws -> Connection,
        credentials: (Connection, _ directory: String?) -> RunCredentials, console: any MigrationConsole
    ) throws -> MigrationOutcome {
        let lifecycle = RunLifecycle(store: store)
        // What can never be resumed is refused before anything is connected to.
        if let resume = settings.resume { try lifecycle.refuseUnresumable(resume) }
        let connected = try connect()
        let client = connected.client
        let host = try ConnectwareHost(environment: dockerEnvironment)
        let here = RunHost(host)
        let holder = { (id: String) in "cwmigrate migrate, run \(id), pid \(getpid())" }

        let current: Journal
        let lock: RunLock
        if let resume = settings.resume {
            (current, lock) = try lifecycle.resume(
                resume, host: host, project: settings.project, here: here, holder: holder)
        } else {
            (current, lock) = try lifecycle.newRun(
                backup: absolutePath(settings.backupPath), host: host, project: settings.project, here: here,
                planning: planning, assumedVersion: settings.assumedVersion, holder: holder)
        }
        defer { lock.release() }
        console.began(current, resumed: settings.resume != nil)
        host.stagingDirectory = try store.stagingDirectory(for: current.id)
        for leftover in try host.removeOrphanedHelpers() { console.removedLeftover(leftover) }

        let target = try ComposeTarget(
            journal: current, installerDirectory: planning.installerDirectory, stopTimeout: settings.stopTimeout,
            healthySeconds: settings.healthySeconds)
        let runners = StepRunners.compose(
            client: client, host: host, target: target, waits: settings.waits, progress: settings.progress)
        let total = StepCount(current.steps.count)
        let credentials = credentials(connected, current.installation.directory)
        let store = store
        let run = try MigrationRun(
            journal: current, store: store, lock: lock, runners: runners, clock: Date.init, here: here,
            prechecks: { journal in
                let checks =
                    Prechecks.forRun(
                        journal, host: host, client: client, store: store, installerDirectory: target.installerDirectory,
                        unattended: settings.unattended, acceptingExampleData: settings.acceptingExampleData)
                    + [credentials.check(journal.plan)]
                console.prechecks(checks)
                return checks
            },
            credentials: credentials,
            confirm: settings.unattended
                ? nil : { journal, position, intent in console.confirm(journal, position: position, intent: intent) },
            replanning: try? planning.replanning(for: current),
            onEvent: { event in
                if case .replanned(_, let plan) = event { total.value = plan.steps.count }
                console.event(event, total: total.value)
                if case .replanned(let refusal, let plan) = event,
                    let file = RunLifecycle.learn(
                        from: refusal, backup: current.backup.version, running: plan.runningVersion)
                {
                    console.learned(file)
                }
            })
        let outcome: Result<Journal, MigrationError>
        do { outcome = .success(try run.run()) } catch { outcome = .failure(error) }
        switch outcome {
        case .success(let finished):
            return .completed(finished, report: try store.saveReports(finished))
        case .failure(let error):
            let stopped = run.journal
            let report = try? store.saveReports(stopped)
            var following: Plan?
            if case .restoreRefused(_, _, let version, let refusal) = error {
                following = try? planning.plan(
                    backupVersion: stopped.backup.version, running: version, project: stopped.installation.name,
                    directory: stopped.installation.directory, refusal: refusal, backupFile: stopped.backup.path)
                RunLifecycle.learn(from: refusal, backup: stopped.backup.version, running: version)
            }
            return .stopped(stopped, error, report: report, followingPlan: following)
        }
    }
}

/// The number of steps shown as `[n/total]`; it changes when the run takes a new plan.
private final class StepCount {
    var value: Int
    init(_ value: Int) { self.value = value }
}
