import ArchiveInspect
import ConnectwareAPI
import Foundation
import HTTP
import Planner

#if canImport(Glibc)
    import Glibc
#endif

/// Whether Connectware's last restore succeeded with the run's backup.
func lastRestoreIsOurs(_ status: MaintenanceStatus, _ journal: Journal) -> Bool {
    guard !status.running, let restore = status.restore, restore.succeeded == true else { return false }
    guard let expected = journal.backup.id else { return false }
    return restore.backupID == expected
}

/// `restore`: uploads the run's backup to Connectware and waits for the restore. A refusal
/// is a `restoreRefused` carrying the server's message, so the run can plan anew (at the
/// running version) or stop (at an older one) before anything more is changed. Safe to
/// repeat: a restore of this backup that already succeeded is not uploaded again, and one
/// still running on the server is waited for.
public struct RestoreStep: StepRunner {
    let client: MaintenanceClient
    let deadline: Duration
    let progress: (any TransferProgressReporter)?

    public init(client: MaintenanceClient, deadline: Duration, progress: (any TransferProgressReporter)? = nil) {
        self.client = client
        self.deadline = deadline
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
                    reason: "the backup \(backup.path) cannot be read: \(error.operatorText)")
            }
            guard digest == recorded else {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the backup \(backup.path) changed since the run inspected it (SHA-256 \(recorded), now \(digest))"
                )
            }
        }
        if context.journal.plan.steps.contains(where: { $0.id == "fresh-backup" }) { try requireFreshBackup(context) }
        do { _ = try client.status() } catch {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "Connectware's status: \(error.operatorText)"
            )
        }
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        let journal = context.journal
        do {
            var before = try client.status()
            if before.running {
                // An operation of an interrupted attempt (or someone else's): let it finish first.
                _ = try client.waitForCompletion(
                    of: .restore, after: nil, deadline: deadline, maximumInterval: .milliseconds(500))
                before = try client.status()
            }
            if lastRestoreIsOurs(before, journal) { return }
            try client.startRestore(file: journal.backup.path, progress: progress)
            let record = try client.waitForCompletion(
                of: .restore, after: before.restore, deadline: deadline, maximumInterval: .milliseconds(500))
            guard record.succeeded == true else {
                let message = record.statusMessage ?? "the server gave no message"
                let refusal = RestoreRefusal(
                    statusMessage: message, backupVersion: journal.backup.version,
                    runningVersion: context.expectedVersion)
                // Connectware's refusal names the last version that restores the backup, and
                // changes nothing. A restore that failed otherwise may have replaced part of
                // the database: the data is unknown, and a rollback must put it back.
                guard refusal.lastRestoringVersion != nil else {
                    throw MigrationError.stepFailed(
                        position: context.position, kind: context.step.id,
                        reason: "the restore failed on Connectware (\(message)); what the database holds now is unknown")
                }
                throw MigrationError.restoreRefused(
                    position: context.position, kind: context.step.id, atVersion: context.expectedVersion,
                    refusal: refusal)
            }
        } catch let error as MigrationError {
            throw error
        } catch let error as ConnectwareAPIError {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.operatorText)
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: "\(error)")
        }
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
