import ArchiveInspect
import ConnectwareAPI
import DockerOps
import Migration
import Planner

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Every check a migration needs that changes nothing, as `migrate --precheck-only` runs
/// them: the backup, Docker, the installation, the plan, the API and credentials, the
/// install strategy, free disk, example data, the volumes, the state directory, the lock
/// and earlier runs. A check that cannot run for want of an earlier one is skipped.
public struct PrecheckSuite {
    public var backupPath: String
    public var assumedVersion: Version?
    public var dockerEnvironment: [String: String]
    public var project: String?
    public var store: JournalStore
    public var planning: MigrationPlanning
    /// The run would be unattended (`--yes`), and example data is accepted for it.
    public var unattended: Bool
    public var acceptingExampleData: Bool

    public init(
        backupPath: String, assumedVersion: Version?, dockerEnvironment: [String: String], project: String?,
        store: JournalStore, planning: MigrationPlanning, unattended: Bool, acceptingExampleData: Bool
    ) {
        self.backupPath = backupPath
        self.assumedVersion = assumedVersion
        self.dockerEnvironment = dockerEnvironment
        self.project = project
        self.store = store
        self.planning = planning
        self.unattended = unattended
        self.acceptingExampleData = acceptingExampleData
    }

    /// Runs every check, in order: `connect` gives the API connection, `credentials` the run's
    /// credentials for the installation's directory. Returns the checks and the plan, when one
    /// could be made.
    public func run(
        connect: () throws -> Connection, credentials: (Connection, _ directory: String?) -> RunCredentials
    ) -> (checks: [CheckResult], plan: Plan?) {
        var checks: [CheckResult] = []
        let (backupCheck, facts) = Prechecks.backupFile(backupPath, assumedVersion: assumedVersion)
        checks.append(backupCheck)
        let (dockerCheck, host) = Prechecks.docker(environment: dockerEnvironment)
        checks.append(dockerCheck)
        let (installationCheck, installation) = Prechecks.installation(host, project: project)
        checks.append(installationCheck)

        var plan: Plan?
        if let facts, let installation, let running = installation.version {
            do {
                let made = try planning.checkedPlan(
                    facts: facts, running: running, installation: installation,
                    backupFile: absolutePath(backupPath))
                plan = made
                checks.append(CheckResult("plan", made.hasSteps ? .pass : .fail, "\(made.decision): \(made.reason)"))
            } catch {
                checks.append(CheckResult("plan", .fail, Self.describe(error).message))
            }
        } else {
            checks.append(CheckResult("plan", .skip, "needs the backup file and the installation"))
        }

        do {
            let connected = try connect()
            checks.append(Prechecks.api(connected.client))
            if let plan { checks.append(credentials(connected, installation?.workingDirectory).check(plan)) }
        } catch {
            let (message, hint) = Self.describe(error)
            checks.append(CheckResult("connectware api", .fail, message + (hint.map { " (\($0))" } ?? "")))
        }

        if let host, let installation, let plan {
            let installers =
                planning.installerDirectory ?? plan.settings["installerDir"] ?? "/var/backups/cwmigrate/installers"
            checks.append(
                Prechecks.installStrategy(host, plan: plan, installation: installation, installerDirectory: installers))
            checks.append(
                Prechecks.registry(host, plan: plan, installation: installation, installerDirectory: installers))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: backupPath)[.size] as? Int64) ?? 0
            checks.append(
                Prechecks.freeDisk(
                    store, plan: plan, installation: installation, backupBytes: bytes, host: host,
                    installerDirectory: installers))
        } else {
            checks.append(CheckResult("install strategy", .skip, "needs Docker, the installation and the plan"))
            checks.append(CheckResult("registry", .skip, "needs Docker, the installation and the plan"))
            checks.append(CheckResult("free disk", .skip, "needs the installation and the plan"))
        }
        if let plan, let example = Prechecks.exampleData(plan, unattended: unattended, accepted: acceptingExampleData) {
            checks.append(example)
        }
        if let host, let installation, let plan, plan.steps.contains(where: { $0.id == .snapshotVolumes }) {
            checks += Prechecks.volumeChecks(host, project: installation.project, plan: plan)
        }
        checks.append(Prechecks.stateDirectory(store))
        if let installation {
            let reference = InstallationRef(installation)
            checks.append(Prechecks.lock(store, reference))
            checks.append(Prechecks.unfinishedRuns(store, reference))
        } else {
            checks.append(CheckResult("lock", .skip, "needs the installation"))
            checks.append(CheckResult("earlier runs", .skip, "needs the installation"))
        }
        return (checks, plan)
    }
}

/// A path made absolute against the current directory, so a plan names the file it read.
public func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

extension PrecheckSuite {
    /// An error as a check shows it: its operator's message and hint, else what it says of itself.
    static func describe(_ error: any Error) -> (message: String, hint: String?) {
        let failure = (error as? Failure) ?? (error as? any OperatorFacing)?.failure
        return (failure?.message ?? "\(error)", failure?.hint)
    }

    /// `migrate --precheck-only`: the checks said (aligned lines and a verdict, or `json`) and
    /// the plan's notes; returns 0 when every check passed, else 69.
    public static func say(_ checks: [CheckResult], plan: Plan?, json: Bool, on console: Console) throws -> Int32 {
        let text = CheckResult.lines(checks, color: console.colorOnStdout) + [CheckResult.verdict(checks)]
        console.out(lines: json ? [try Self.json(checks)] : text)
        for note in plan?.notes ?? [] { console.note(note) }
        return checks.allSatisfy { $0.status == .pass } ? ExitStatus.ok : ExitStatus.unavailable
    }

    /// `migrate --precheck-only --json`: whether every check passed, and the checks; keys sorted.
    public static func json(_ checks: [CheckResult]) throws -> String {
        struct Report: Encodable {
            let passed: Bool
            let checks: [CheckResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let report = Report(passed: checks.allSatisfy { $0.status == .pass }, checks: checks)
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
