import HTTP
import Planner

extension MaintenanceClient {
    /// Starts a backup and waits for it; returns the finished record, which succeeded.
    public func runBackup(
        deadline: Duration, onPoll: (MaintenanceStatus) -> Void = { _ in }
    ) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation {
        let before = try status()
        guard !before.running else { throw .alreadyRunning }
        try startBackup()
        let record = try waitForCompletion(of: .backup, after: before.backup, deadline: deadline, onPoll: onPoll)
        guard record.succeeded == true else {
            throw .operationFailed(operation: "backup", message: record.statusMessage ?? "the server gave no message")
        }
        return record
    }

    /// Uploads `file` for a restore and waits for it; returns the finished record, which
    /// succeeded. A failed restore is a `restoreRefused` whose refusal names, when the
    /// server's message does, the last version that can restore the file.
    public func runRestore(
        file: String, backupVersion: Version?, runningVersion: Version?, deadline: Duration,
        progress: (any TransferProgressReporter)? = nil, onPoll: (MaintenanceStatus) -> Void = { _ in }
    ) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation {
        let before = try status()
        guard !before.running else { throw .alreadyRunning }
        try startRestore(file: file, progress: progress)
        let record = try waitForCompletion(of: .restore, after: before.restore, deadline: deadline, onPoll: onPoll)
        guard record.succeeded == true else {
            throw .restoreRefused(
                RestoreRefusal(
                    statusMessage: record.statusMessage ?? "the server gave no message", backupVersion: backupVersion,
                    runningVersion: runningVersion))
        }
        return record
    }
}
