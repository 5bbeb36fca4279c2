import ArchiveInspect
import ConnectwareAPI
import SafeFiles
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A backup taken on Connectware, downloaded and verified to its end.
public struct TakenBackup: Sendable {
    public let file: String
    public let record: MaintenanceStatus.Operation
    public let facts: ArchiveFacts
    public let bytes: Int64
}

/// A downloaded backup that does not verify: renamed to `kept` (nil when the rename failed,
/// with `renameFailure` saying why), never left where a restore would pick it up unawares.
public struct UnverifiedBackup: Error, Sendable {
    public let path: String
    public let kept: String?
    public let renameFailure: String?
    /// What the verification found, in the operator's words.
    public let reason: String
}

/// `backup`: a backup on Connectware, then the download (checked before the server is
/// asked, and again once the name is known) and a verification of what arrived.
public struct BackupDownload {
    /// `--output`, else `connectware-<id>.tgz` in the current directory.
    public let output: String?
    public let replacing: Bool
    /// Files the command reads, which the output must never be.
    public let inputs: [String]

    public init(output: String?, replacing: Bool, inputs: [String]) {
        self.output = output
        self.replacing = replacing
        self.inputs = inputs
    }

    /// Refuses an output that cannot be written before anything is asked of the server.
    public func checkOutput() throws {
        if let output {
            try OutputFile.check(output, replacing: replacing, inputs: inputs, standardOutputRefusal: "a backup archive")
        } else {
            try OutputFile.checkDirectory(of: "./" + Self.defaultFileName(for: .init()))
        }
    }

    /// Takes the backup on the server of `client`, waiting as `waiting` says (and for one already
    /// running up to `waitForRunning`) and saying so on `console`, then downloads and verifies it.
    public func take(
        from client: MaintenanceClient, waiting: ServerWaiting, waitForRunning: Duration?, console: Console
    ) throws -> TakenBackup {
        let reporter = waiting.waitingReporter(console, what: "backup")
        let record = try client.runBackup(
            deadline: waiting.operation, waitForRunning: waitForRunning, wait: waiting.settings(console),
            onPoll: reporter.poll)
        reporter.done()
        let path = output ?? Self.defaultFileName(for: record)
        try OutputFile.check(path, replacing: replacing, inputs: inputs, standardOutputRefusal: "a backup archive")
        _ = try client.downloadBackup(to: path, replacing: replacing, progress: waiting.reporter(console))
        let facts: ArchiveFacts
        do {
            facts = try inspectBackup(at: path, options: InspectOptions(verify: true))
        } catch {
            // rename(2) replaces whatever is at FILE.unverified, a symlink included,
            // without writing through it; the file keeps its 0600.
            let kept = path + ".unverified"
            let renamed = rename(path, kept) == 0
            throw UnverifiedBackup(
                path: path, kept: renamed ? kept : nil,
                renameFailure: renamed ? nil : String(cString: strerror(errno)), reason: "\(error)")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        if let id = record.backupID, id.version != facts.version {
            console.warning("the backup id names \(id.version) but the archive says \(facts.version)")
        }
        return TakenBackup(file: path, record: record, facts: facts, bytes: bytes ?? 0)
    }

    /// `connectware-<id>.tgz`, the id made safe for a file name.
    public static func defaultFileName(for record: MaintenanceStatus.Operation) -> String {
        if let id = record.backupID { return "connectware-\(id.fileSafe).tgz" }
        if let id = record.id, !id.isEmpty {
            let safe = String(id.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "-" })
            return "connectware-\(safe).tgz"
        }
        return "connectware-backup.tgz"
    }
}
