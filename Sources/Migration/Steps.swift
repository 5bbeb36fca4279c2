import ArchiveInspect
import ConnectwareAPI
import DockerOps
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Vocabulary
import Planner

#if canImport(Glibc)
    import Glibc
#endif

extension StepRunners {
    /// The executors of a Docker Compose installation's steps: one for every step kind.
    public static func compose(
        client: MaintenanceClient, host: ConnectwareHost, target: ComposeTarget, waits: ServerWaits,
        progress: (any TransferProgressReporter)? = nil
    ) -> StepRunners {
        StepRunners([
            .freshBackup: FreshBackupStep(
                backup: BackupStep(artifact: .freshBackup, client: client, waits: waits, progress: progress),
                host: host, target: target),
            .shutdown: ShutdownStep(host: host, target: target),
            .snapshotVolumes: SnapshotVolumesStep(host: host, target: target),
            .removeVolumes: RemoveVolumesStep(host: host, target: target),
            .installOlder: InstallStep(host: host, client: client, target: target),
            .waitHealthy: WaitHealthyStep(
                host: host, client: client, project: target.project, directory: target.directory,
                seconds: target.healthySeconds),
            .restore: RestoreStep(client: client, waits: waits, progress: progress),
            .verifyRestore: VerifyRestoreStep(client: client),
            .upgrade: InstallStep(host: host, client: client, target: target),
            .reBackup: BackupStep(artifact: .reBackup, client: client, waits: waits, progress: progress),
            .restart: RestartStep(host: host, client: client, target: target),
            .retryIfRefused: RetryIfRefusedStep(client: client),
        ])
    }
}

/// `fresh-backup` and `re-backup`: Connectware makes a backup, it is downloaded into the
/// run's directory and read to its end; it must be of the version Connectware should run
/// then. The verified file, with its SHA-256, is the step's artifact. The backup asked for
/// is journaled before and after the request, so a resumed step adopts it (waits for it and
/// downloads it) instead of starting a second one; an operation the run did not start is
/// waited for, up to `waits.forRunning`.
public struct BackupStep: StepRunner {
    public let artifact: Artifact.Kind
    let client: MaintenanceClient
    let waits: ServerWaits
    let progress: (any TransferProgressReporter)?

    public init(
        artifact: Artifact.Kind, client: MaintenanceClient, waits: ServerWaits,
        progress: (any TransferProgressReporter)? = nil
    ) {
        self.artifact = artifact
        self.client = client
        self.waits = waits
        self.progress = progress
    }

    /// `fresh-backup-1.8.0.tgz` in the run's directory.
    public func file(_ context: StepContext) -> String {
        context.artifactDirectory + "/\(artifact.rawValue)-\(context.expectedVersion).tgz"
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        do {
            _ = try client.status()
        } catch {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.description)"
            )
        }
    }

    /// A backup the server lost (it restarted) or a failed download is tried once more;
    /// credentials refused or a second failure stop the step.
    public func act(_ context: StepContext) throws(MigrationError) {
        var attempt = 1
        while true {
            do {
                if attempt == 1, try adopt(context) {
                    _ = try client.downloadBackup(to: file(context), replacing: true, progress: progress)
                    return
                }
                let before = try client.idleStatus(waitForRunning: waits.forRunning, wait: waits.settings)
                var operation = ServerOperation(
                    kind: .backup, requestedAt: Date(), previousID: before.backup?.id,
                    previousStartDate: before.backup?.startDateText)
                try context.noteOperation(operation)
                try client.startBackup()
                operation.answer = "202 Accepted"
                if let started = (try? client.status())?.backup, operation.isAfterRequest(started) {
                    operation.id = started.id
                    operation.startDate = started.startDateText
                }
                try context.noteOperation(operation)
                let record = try client.waitForCompletion(
                    of: .backup, after: before.backup, deadline: waits.operation, wait: waits.settings)
                guard record.succeeded == true else {
                    throw ConnectwareAPIError.operationFailed(
                        operation: "backup", message: record.statusMessage ?? "the server gave no message")
                }
                _ = try client.downloadBackup(to: file(context), replacing: true, progress: progress)
                return
            } catch let error as MigrationError {
                throw error
            } catch let error as ConnectwareAPIError {
                let retryable: Bool
                switch error {
                case .unauthorized, .notFound, .notJSON, .malformedStatus, .alreadyRunning, .busy, .stillRunning,
                    .stoppedAnswering:
                    retryable = false
                default: retryable = true
                }
                guard retryable, attempt < 2 else {
                    throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
                }
                attempt += 1
                pause(.seconds(1))
            } catch {
                throw .stepFailed(position: context.position, kind: context.step.id, reason: "\(error)")
            }
        }
    }

    /// The backup an interrupted attempt of this step asked for, when the server still reports
    /// it: waited for until it ends. True when it succeeded and is the server's latest backup,
    /// so downloading it is the step's result; false when there is none to adopt (never
    /// requested, forgotten by a restarted server, or failed), and a new backup is due.
    private func adopt(_ context: StepContext) throws -> Bool {
        guard var operation = context.record.operation, operation.kind == .backup else { return false }
        let now = try client.status()
        guard let record = now.backup, operation.isAfterRequest(record) else { return false }
        operation.id = record.id
        operation.startDate = record.startDateText
        operation.adoptedAt = Date()
        try context.noteOperation(operation)
        var finished = record
        if now.running && record.endDateText == nil {
            waits.settings.onUpdate(
                .running(operation: .backup, id: record.id, since: record.startDateText, waitedSeconds: 0))
            finished = try client.waitForCompletion(
                of: .backup, after: operation.previousRecord, deadline: waits.operation, wait: waits.settings)
        }
        return finished.succeeded == true && finished.id == record.id
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let path = file(context)
        guard access(path, F_OK) == 0 else { return .doesNotHold(reason: "there is no backup at \(path)") }
        let facts: ArchiveFacts
        do {
            facts = try inspectBackup(at: path, options: InspectOptions(verify: true))
        } catch {
            return .doesNotHold(reason: "the backup at \(path) does not verify: \(error.description)")
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
                return .doesNotHold(reason: "the backup at \(path) cannot be read: \(error.description)")
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
        let adopted = context.record.operation.flatMap { $0.adoptedAt == nil ? nil : $0 }.map {
            "adopted the backup \($0.id ?? "") that an interrupted attempt had started at "
                + "\(JournalCoding.timestamp($0.requestedAt)); "
        }
        return .holds(
            message: (adopted ?? "")
                + "backup \(id ?? "(no id)") of \(facts.version) saved and verified at \(path) (SHA-256 \(digest))",
            artifacts: [
                Artifact(kind: artifact, path: path, sha256: digest, bytes: bytes, step: context.position, detail: id)
            ])
    }
}

/// How long steps wait for Connectware, and how the waits are reported.
public struct ServerWaits: Sendable {
    /// How long a backup or restore this run asked for (or adopted) may take.
    public var operation: Duration
    /// How long an operation the run did not start is waited for before the step starts its own.
    public var forRunning: Duration
    public var settings: WaitSettings

    public init(operation: Duration, forRunning: Duration = .seconds(1800), settings: WaitSettings = WaitSettings()) {
        self.operation = operation
        self.forRunning = forRunning
        self.settings = settings
    }
}

extension ServerOperation {
    /// The server's record of this kind before the request, as the client compares records.
    public var previousRecord: MaintenanceStatus.Operation? {
        previousID == nil && previousStartDate == nil
            ? nil : MaintenanceStatus.Operation(id: previousID, startDateText: previousStartDate)
    }

    /// Whether `record` is the operation this request started: the one the server reported
    /// after it when known, else any record other than the one seen before the request.
    /// Only the server's own dates are compared, never with cwmigrate's clock.
    public func isAfterRequest(_ record: MaintenanceStatus.Operation) -> Bool {
        if let id, record.id != id { return false }
        if let startDate, record.startDateText != startDate { return false }
        guard let previous = previousRecord else { return true }
        if record.id == previous.id && record.startDateText == previous.startDateText { return false }
        if let newStart = record.startDate, let oldStart = previous.startDate, newStart < oldStart { return false }
        return true
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
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.description)"
            )
        }
    }

    /// Nothing to do: reading the status is the check.
    public func act(_ context: StepContext) throws(MigrationError) {}

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let status: MaintenanceStatus
        do { status = try client.status() } catch {
            return .doesNotHold(reason: "Connectware's status cannot be read: \(error.description)")
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
        // The restore must be the one this run's restore step started: a restore of the same
        // backup from before its upload (an earlier run's) is no proof.
        let restoreStep = context.journal.steps[...context.position].last { $0.kind == .restore }
        if let restoreStep {
            guard let upload = restoreStep.operation, upload.kind == .restore else {
                return .doesNotHold(reason: "the run's restore step has not uploaded the backup yet")
            }
            guard upload.isAfterRequest(restore) else {
                return .doesNotHold(
                    reason: "the last restore (\(restore.id ?? "no id"), started \(restore.startDateText ?? "at an unknown time")) "
                        + "is older than the run's upload of \(JournalCoding.timestamp(upload.requestedAt))")
            }
            if upload.adoptedAt != nil {
                return .holds(
                    message: "adopted the restore an interrupted attempt had started at "
                        + "\(JournalCoding.timestamp(upload.requestedAt)); it succeeded with the backup's id \(expected)",
                    artifacts: [])
            }
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
            try host.waitUntilHealthy(project: project, within: seconds, pollEvery: ConnectwareHost.healthPoll) {
                client.answers() || client.refused != nil
            }
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        try requireAccepted(client, context)
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
            return .doesNotHold(reason: "the maintenance API does not answer: \(error.description)")
        }
        return .holds(
            message:
                "Connectware \(context.expectedVersion) runs, \(installation.containers.count) core containers healthy, the maintenance API answers",
            artifacts: [])
    }
}
