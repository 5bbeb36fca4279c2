import ArchiveInspect
import ConnectwareAPI
import DockerOps
import Foundation
import HTTP
import Planner

#if canImport(Glibc)
    import Glibc
#endif

extension StepRunners {
    /// Every step kind of a Docker Compose plan, each with its executor.
    public static let composeKinds: Set<String> = [
        "fresh-backup", "shutdown", "snapshot-volumes", "remove-volumes", "install-older", "wait-healthy", "restore",
        "verify-restore", "upgrade", "re-backup", "restart", "retry-if-refused",
    ]

    /// The executors of a Docker Compose installation's steps.
    public static func compose(
        client: MaintenanceClient, host: ConnectwareHost, target: ComposeTarget, operationTimeout: Duration,
        progress: (any TransferProgressReporter)? = nil
    ) -> StepRunners {
        StepRunners([
            "fresh-backup": BackupStep(
                artifact: .freshBackup, client: client, deadline: operationTimeout, progress: progress),
            "shutdown": ShutdownStep(host: host, target: target),
            "snapshot-volumes": SnapshotVolumesStep(host: host, target: target),
            "remove-volumes": RemoveVolumesStep(host: host, target: target),
            "install-older": InstallStep(host: host, client: client, target: target),
            "wait-healthy": WaitHealthyStep(
                host: host, client: client, project: target.project, directory: target.directory,
                seconds: target.healthySeconds),
            "restore": RestoreStep(client: client, deadline: operationTimeout, progress: progress),
            "verify-restore": VerifyRestoreStep(client: client),
            "upgrade": InstallStep(host: host, client: client, target: target),
            "re-backup": BackupStep(
                artifact: .reBackup, client: client, deadline: operationTimeout, progress: progress),
            "restart": RestartStep(host: host, client: client, target: target),
            "retry-if-refused": RetryIfRefusedStep(client: client),
        ])
    }
}

/// `fresh-backup` and `re-backup`: Connectware makes a backup, it is downloaded into the
/// run's directory and read to its end; it must be of the version Connectware should run
/// then. The verified file, with its SHA-256, is the step's artifact.
public struct BackupStep: StepRunner {
    public let artifact: Artifact.Kind
    let client: MaintenanceClient
    let deadline: Duration
    let progress: (any TransferProgressReporter)?

    public init(
        artifact: Artifact.Kind, client: MaintenanceClient, deadline: Duration,
        progress: (any TransferProgressReporter)? = nil
    ) {
        self.artifact = artifact
        self.client = client
        self.deadline = deadline
        self.progress = progress
    }

    /// `fresh-backup-1.8.0.tgz` in the run's directory.
    public func file(_ context: StepContext) -> String {
        context.artifactDirectory + "/\(artifact.rawValue)-\(context.expectedVersion).tgz"
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        let status: MaintenanceStatus
        do {
            status = try client.status()
        } catch {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.operatorText)"
            )
        }
        guard !status.running else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason: "a backup or restore is already running on Connectware; wait for it (cwmigrate status)")
        }
    }

    /// A backup the server lost (it restarted) or a failed download is tried once more;
    /// credentials refused or a second failure stop the step.
    public func act(_ context: StepContext) throws(MigrationError) {
        var attempt = 1
        while true {
            do {
                _ = try client.runBackup(deadline: deadline)
                _ = try client.downloadBackup(to: file(context), replacing: true, progress: progress)
                return
            } catch {
                let retryable: Bool
                switch error {
                case .unauthorized, .notFound, .notJSON, .malformedStatus, .alreadyRunning, .busy: retryable = false
                default: retryable = true
                }
                guard retryable, attempt < 2 else {
                    throw .stepFailed(position: context.position, kind: context.step.id, reason: error.operatorText)
                }
                attempt += 1
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let path = file(context)
        guard access(path, F_OK) == 0 else { return .doesNotHold(reason: "there is no backup at \(path)") }
        let facts: ArchiveFacts
        do {
            facts = try inspectBackup(at: path, options: InspectOptions(verify: true))
        } catch {
            return .doesNotHold(reason: "the backup at \(path) does not verify: \(error.operatorText)")
        }
        guard facts.version == context.expectedVersion else {
            return .doesNotHold(
                reason: "the backup at \(path) is of Connectware \(facts.version), not of \(context.expectedVersion)")
        }
        let digest: String
        if let sha256 = facts.sha256 {
            digest = sha256
        } else {
            do { digest = try sha256(ofFileAt: path) } catch {
                return .doesNotHold(reason: "the backup at \(path) cannot be read: \(error.operatorText)")
            }
        }
        if let recorded = context.journal.artifacts.first(where: { $0.kind == artifact && $0.step == context.position }
        ),
            recorded.path == path, recorded.sha256 != digest
        {
            return .doesNotHold(
                reason: "\(path) changed since it was recorded (SHA-256 \(recorded.sha256), now \(digest))")
        }
        var info = stat()
        let bytes = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        let id = facts.backupID?.description
        return .holds(
            message: "backup \(id ?? "(no id)") of \(facts.version) saved and verified at \(path) (SHA-256 \(digest))",
            artifacts: [
                Artifact(kind: artifact, path: path, sha256: digest, bytes: bytes, step: context.position, detail: id)
            ])
    }
}

/// `verify-restore`: Connectware's status says the last restore succeeded, and it was of
/// the run's backup (by the backup's id, when the archive carries one).
public struct VerifyRestoreStep: StepRunner {
    let client: MaintenanceClient

    public init(client: MaintenanceClient) { self.client = client }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        do { _ = try client.status() } catch {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.operatorText)"
            )
        }
    }

    /// Nothing to do: reading the status is the check.
    public func act(_ context: StepContext) throws(MigrationError) {}

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let status: MaintenanceStatus
        do { status = try client.status() } catch {
            return .doesNotHold(reason: "Connectware's status cannot be read: \(error.operatorText)")
        }
        guard !status.running else { return .doesNotHold(reason: "a backup or restore is still running") }
        guard let restore = status.restore else { return .doesNotHold(reason: "Connectware reports no restore") }
        guard restore.succeeded == true else {
            return .doesNotHold(
                reason: "the last restore did not succeed: \(restore.statusMessage ?? "the server gave no message")")
        }
        guard let expected = context.journal.backup.id else {
            return .holds(
                message: "the last restore (\(restore.id ?? "no id")) succeeded; the backup carries no id to compare",
                artifacts: [])
        }
        guard let restored = restore.backupID, restored == expected else {
            return .doesNotHold(
                reason: "the last successful restore was of \(restore.id ?? "a backup without id"), not of \(expected)")
        }
        return .holds(message: "the last restore succeeded with the backup's id \(expected)", artifacts: [])
    }
}

/// `wait-healthy`: every core container runs (and is healthy where it has a health
/// check), the maintenance API answers, and the images are of the version expected now.
public struct WaitHealthyStep: StepRunner {
    let host: ConnectwareHost
    let client: MaintenanceClient
    let project: String
    let directory: String?
    let seconds: Int

    /// With `directory`, containers found stopped (an install that was interrupted) are started first.
    public init(host: ConnectwareHost, client: MaintenanceClient, project: String, directory: String? = nil, seconds: Int)
    {
        self.host = host
        self.client = client
        self.project = project
        self.directory = directory
        self.seconds = seconds
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {}

    public func act(_ context: StepContext) throws(MigrationError) {
        do {
            if let found = try? host.discover(project: project), found.containers.contains(where: { !$0.isRunning }) {
                try host.removeStaleDuplicates(found)
                try host.startStopped(try host.discover(project: project))
            } else if let directory, (try? host.discover(project: project))?.containers.isEmpty ?? true {
                try host.start(project: project, directory: directory)
            }
            try host.waitUntilHealthy(project: project, within: seconds, pollEvery: 0.25) {
                client.answers()
            }
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let installation: Installation
        do { installation = try host.discover(project: project) } catch {
            return .doesNotHold(reason: error.description)
        }
        let unwell = installation.containers.filter { !$0.isRunning || ($0.health ?? "healthy") != "healthy" }
        guard !installation.containers.isEmpty, unwell.isEmpty else {
            let states = unwell.map { "\($0.service) \($0.state)" + ($0.health.map { " (\($0))" } ?? "") }
            return .doesNotHold(
                reason: installation.containers.isEmpty
                    ? "no core container of \(project) exists" : "not healthy: " + states.joined(separator: ", "))
        }
        guard installation.version == context.expectedVersion else {
            let found = installation.version?.description ?? "mixed or unknown versions"
            return .doesNotHold(reason: "Connectware runs \(found), not \(context.expectedVersion)")
        }
        do { _ = try client.status() } catch {
            return .doesNotHold(reason: "the maintenance API does not answer: \(error.operatorText)")
        }
        return .holds(
            message:
                "Connectware \(context.expectedVersion) runs, \(installation.containers.count) core containers healthy, the maintenance API answers",
            artifacts: [])
    }
}

extension ConnectwareAPIError {
    /// One line for a journal or a check.
    public var operatorText: String {
        switch self {
        case .transport(let message): message
        case .unauthorized(let status, let message): "the credentials were refused (HTTP \(status)): \(message)"
        case .notFound(let url, let message): "\(url) answered 404 (\(message))"
        case .busy(let status, let message): "Connectware is busy (HTTP \(status)): \(message)"
        case .alreadyRunning: "a backup or restore is already running on Connectware"
        case .serverError(let status, let message): "Connectware failed (HTTP \(status)): \(message)"
        case .unexpectedStatus(let status, let expected, let message):
            "HTTP \(status) where \(expected) was expected: \(message)"
        case .notJSON(let firstLine): "the answer is not Connectware's status JSON; it begins: \(firstLine)"
        case .malformedStatus(let reason): "Connectware's answer cannot be read: \(reason)"
        case .timedOut(let operation, let seconds): "the \(operation) did not finish within \(seconds) s"
        case .operationFailed(let operation, let message): "the \(operation) failed on Connectware: \(message)"
        case .restoreRefused(let refusal): "Connectware refused the restore: \(refusal.statusMessage)"
        case .invalidURL(let url): "'\(url)' is not a Connectware URL"
        case .file(let path, let reason): "\(path): \(reason)"
        }
    }
}

extension ArchiveInspectError {
    /// One line for a journal or a check.
    public var operatorText: String {
        switch self {
        case .fileNotFound(let path): "\(path): no such file"
        case .unreadable(let path, let reason): "\(path) cannot be read: \(reason)"
        case .notAnArchive(let path, let message): "\(path) is not a tar archive libarchive can read (\(message))"
        case .damaged(let path, let entry, let offset, let message):
            "\(path) is damaged at byte \(offset)" + (entry.map { " in or after entry '\($0)'" } ?? "") + ": \(message)"
        case .conflictingEvidence(let path, let evidence):
            "\(path): the version evidence disagrees: "
                + evidence.map { "\($0.source.rawValue) says \($0.version)" }.joined(separator: "; ")
        case .noEvidence(let path, _): "\(path): no evidence of the Connectware version"
        case .badAssumedVersion(_, let reason): "the assumed version: \(reason)"
        }
    }
}
