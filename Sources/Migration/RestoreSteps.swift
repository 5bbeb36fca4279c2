import ArchiveInspect
import ConnectwareAPI
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

/// `restore`: uploads the run's backup to Connectware and waits for the restore. A refusal
/// is a `restoreRefused` carrying the server's message, so the run can plan anew (at the
/// running version) or stop (at an older one) before anything more is changed. The upload
/// is journaled before and after it is sent, so a resumed step adopts the restore it
/// started (waits for it and takes its result) instead of uploading again; an earlier
/// restore of the same backup, from before this step's upload, never counts. An operation
/// the run did not start is waited for, up to `waits.forRunning`.
public struct RestoreStep: StepRunner {
    let client: MaintenanceClient
    let waits: ServerWaits
    let progress: (any TransferProgressReporter)?

    public init(client: MaintenanceClient, waits: ServerWaits, progress: (any TransferProgressReporter)? = nil) {
        self.client = client
        self.waits = waits
        self.progress = progress
    }

    public func intent(_ context: StepContext) -> String {
        let backup = context.journal.backup
        return "upload \(backup.path) (Connectware \(backup.version), id \(backup.id?.description ?? "none")) "
            + "to Connectware \(context.expectedVersion) and restore it: its database is REPLACED by the backup's."
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        let backup = context.journal.backup
        if let recorded = backup.sha256 {
            let digest: String
            do { digest = try sha256(ofFileAt: backup.path) } catch {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the backup \(backup.path) cannot be read: \(error.description)")
            }
            guard digest == recorded else {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the backup \(backup.path) changed since the run inspected it (SHA-256 \(recorded), now \(digest))"
                )
            }
        }
        if context.journal.plan.steps.contains(where: { $0.id == .freshBackup }) { try requireFreshBackup(context) }
        do { _ = try client.status() } catch {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.description)"
            )
        }
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        let journal = context.journal
        do {
            let record: MaintenanceStatus.Operation
            if let adopted = try adopt(context) {
                record = adopted
            } else {
                let before = try client.idleStatus(waitForRunning: waits.forRunning, wait: waits.settings)
                var operation = ServerOperation(
                    kind: .restore, requestedAt: Date(), previousID: before.restore?.id,
                    previousStartDate: before.restore?.startDateText)
                try context.noteOperation(operation)
                try client.startRestore(file: journal.backup.path, progress: progress)
                operation.answer = "202 Accepted"
                if let started = (try? client.status())?.restore, operation.isAfterRequest(started) {
                    operation.id = started.id
                    operation.startDate = started.startDateText
                }
                try context.noteOperation(operation)
                record = try client.waitForCompletion(
                    of: .restore, after: before.restore, deadline: waits.operation,
                    maximumInterval: .milliseconds(500), wait: waits.settings)
            }
            if let refusal = record.refusal(
                backupVersion: journal.backup.version, runningVersion: context.expectedVersion)
            {
                // Connectware's refusal names the last version that restores the backup, and
                // changes nothing. A restore that failed otherwise may have replaced part of
                // the database: the data is unknown, and a rollback must put it back.
                guard refusal.lastRestoringVersion != nil else {
                    throw MigrationError.stepFailed(
                        position: context.position, kind: context.step.id,
                        reason:
                            "the restore failed on Connectware (\(refusal.statusMessage)); what the database holds now is unknown"
                    )
                }
                throw MigrationError.restoreRefused(
                    position: context.position, kind: context.step.id, atVersion: context.expectedVersion,
                    refusal: refusal)
            }
        } catch let error as MigrationError {
            throw error
        } catch let error as ConnectwareAPIError {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: "\(error)")
        }
    }

    /// The restore an interrupted attempt of this step started, when the server reports it
    /// (a record after the one seen before the upload): waited for until it ends, and
    /// returned finished. Nil when the upload never started one; a new upload is due.
    private func adopt(_ context: StepContext) throws -> MaintenanceStatus.Operation? {
        guard var operation = context.record.operation, operation.kind == .restore else { return nil }
        let now = try client.status()
        guard let record = now.restore, operation.isAfterRequest(record) else { return nil }
        operation.id = record.id ?? operation.id
        operation.startDate = record.startDateText
        operation.adoptedAt = Date()
        try context.noteOperation(operation)
        guard now.running && record.endDateText == nil else { return record }
        waits.settings.onUpdate(
            .running(operation: .restore, id: record.id, since: record.startDateText, waitedSeconds: 0))
        return try client.waitForCompletion(
            of: .restore, after: operation.previousRecord, deadline: waits.operation,
            maximumInterval: .milliseconds(500), wait: waits.settings)
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        try VerifyRestoreStep(client: client).verify(context)
    }
}

/// `retry-if-refused`: in a plan made without knowing whether the running version restores
/// the backup. A refusal at the restore step already made the run plan anew, so reaching
/// this step means the restore was accepted; the step checks that and does nothing else.
public struct RetryIfRefusedStep: StepRunner {
    let client: MaintenanceClient

    public init(client: MaintenanceClient) { self.client = client }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {}

    public func act(_ context: StepContext) throws(MigrationError) {}

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        switch try VerifyRestoreStep(client: client).verify(context) {
        case .holds(let message, _):
            return .holds(message: "the restore was accepted, nothing to retry: " + message, artifacts: [])
        case .doesNotHold(let reason):
            return .doesNotHold(reason: reason)
        }
    }
}
