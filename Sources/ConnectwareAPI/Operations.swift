import HTTP
import Planner

extension MaintenanceClient {
    /// Starts a backup and waits for it; returns the finished record, which succeeded. A
    /// backup or restore already running is `alreadyRunning`, or, with `waitForRunning`,
    /// waited for (up to that long, visibly through `wait`) before this one starts.
    public func runBackup(
        deadline: Duration, waitForRunning: Duration? = nil, wait: WaitSettings = WaitSettings(),
        onPoll: (MaintenanceStatus) -> Void = { _ in }
    ) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation {
        let before = try idleStatus(waitForRunning: waitForRunning, wait: wait)
        try startBackup()
        let record = try waitForCompletion(
            of: .backup, after: before.backup, deadline: deadline, wait: wait, onPoll: onPoll)
        guard record.succeeded == true else {
            throw .operationFailed(operation: "backup", message: record.statusMessage ?? "the server gave no message")
        }
        return record
    }

    /// Uploads `file` for a restore and waits for it; returns the finished record, which
    /// succeeded. A failed restore is a `restoreRefused` whose refusal names, when the
    /// server's message does, the last version that can restore the file. A running
    /// operation is handled as in `runBackup`.
    public func runRestore(
        file: String, backupVersion: Version?, runningVersion: Version?, deadline: Duration,
        waitForRunning: Duration? = nil, wait: WaitSettings = WaitSettings(),
        progress: (any TransferProgressReporter)? = nil, onPoll: (MaintenanceStatus) -> Void = { _ in }
    ) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation {
        let before = try idleStatus(waitForRunning: waitForRunning, wait: wait)
        try startRestore(file: file, progress: progress)
        let record = try waitForCompletion(
            of: .restore, after: before.restore, deadline: deadline, wait: wait, onPoll: onPoll)
        if let refusal = record.refusal(backupVersion: backupVersion, runningVersion: runningVersion) {
            throw .restoreRefused(refusal)
        }
        return record
    }

    /// The status once nothing runs: at once, after waiting up to `waitForRunning`, or
    /// `alreadyRunning` when something runs and no wait was asked for.
    public func idleStatus(waitForRunning: Duration?, wait: WaitSettings = WaitSettings())
        throws(ConnectwareAPIError) -> MaintenanceStatus
    {
        let now = try status()
        guard now.running else { return now }
        guard let waitForRunning else { throw .alreadyRunning }
        if let kind = now.runningOperation, let record = now[kind] {
            wait.onUpdate(.running(operation: kind, id: record.id, since: record.startDateText, waitedSeconds: 0))
        } else {
            wait.onUpdate(.running(operation: nil, id: nil, since: nil, waitedSeconds: 0))
        }
        do {
            return try waitUntilIdle(deadline: waitForRunning, wait: wait)
        } catch .timedOut {
            throw .stillRunning(seconds: Int(waitForRunning.components.seconds), status: (try? status())?.summary)
        }
    }
}

extension MaintenanceStatus.Operation {
    /// What a finished restore record says when it did not succeed, read once for every
    /// caller: the server's message, the last version it names as restoring the backup, and
    /// the record's end as when it was said; nil for a restore that succeeded.
    public func refusal(backupVersion: Version?, runningVersion: Version?) -> RestoreRefusal? {
        guard succeeded != true else { return nil }
        var refusal = RestoreRefusal(
            statusMessage: statusMessage ?? "the server gave no message", backupVersion: backupVersion,
            runningVersion: runningVersion)
        refusal.reportedAt = endDate.map(Timestamp.format)
        return refusal
    }
}
