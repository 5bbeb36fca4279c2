import Application
import ArchiveInspect
import ArgumentParser
import ConnectwareAPI
import Foundation
import HTTP
import SafeFiles

/// `cwmigrate backup`: trigger a backup, wait, download it, and verify what arrived.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a backup of Connectware, download it and verify it.",
        discussion: Help.backup)

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var forceFlag: ForceFlag
    var force: Bool { forceFlag.force }

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var waiting: WaitRunningOption
    var waitRunning: Int? { waiting.waitRunning }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            // Checked before the server is asked for a backup, which may take long.
            let inputs = [connection.passwordFile, connection.tokenFile].compactMap { $0 }
            try BackupDownload.checkOutput(output, replacing: force, inputs: inputs)
            let download = BackupDownload(
                client: try connection.client(terminal), output: output, replacing: force, inputs: inputs)
            let waiting = WaitingReporter(terminal: terminal, what: "backup", enabled: connection.progress != .none)
            let taken = try download.take(
                deadline: .seconds(connection.timeout), waitForRunning: waitRunning.map { .seconds($0) },
                wait: connection.waitSettings(terminal), onPoll: waiting.poll, finished: waiting.done,
                progress: connection.progressReporter(terminal))
            let (record, facts, path) = (taken.record, taken.facts, taken.file)
            if let id = record.backupID, id.version != facts.version {
                terminal.warning("the backup id names \(id.version) but the archive says \(facts.version)")
            }
            let result = BackupResult(
                file: path, id: record.id, version: facts.version.description, bytes: taken.bytes,
                sha256: facts.sha256 ?? "", verified: facts.verified)
            if json {
                terminal.out(result.json())
            } else {
                terminal.out("Saved backup \(record.id ?? "(no id)") to \(path)")
                terminal.out("  version  \(result.version)")
                terminal.out("  size     \(formatBytes(result.bytes)) (\(result.bytes) bytes)")
                terminal.out("  sha256   \(result.sha256)")
                terminal.out("  verified yes (read to its end)")
            }
            return ExitStatus.ok
        }
    }
}

/// The JSON form of `cwmigrate backup` (schema in the README).
struct BackupResult: Encodable {
    let file: String
    let id: String?
    let version: String
    let bytes: Int64
    let sha256: String
    let verified: Bool

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Tells the operator, now and then, that the server is still working on an operation.
final class WaitingReporter {
    private let terminal: Terminal
    private let what: String
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var announced = false

    init(terminal: Terminal, what: String, enabled: Bool) {
        self.terminal = terminal
        self.what = what
        self.enabled = enabled
        if enabled { terminal.err("waiting for the \(what) on Connectware…") }
    }

    /// The first poll after the request: the wait's own lines (every 30 s) follow from `WaitSettings`.
    func poll(_ status: MaintenanceStatus) {
        guard enabled, !announced else { return }
        announced = true
        if let kind = status.runningOperation, kind.rawValue == what, let record = status[kind] {
            terminal.err("the \(what) \(record.id ?? "") runs on Connectware since \(record.startDateText ?? "now")")
        }
    }

    func done() {
        guard enabled else { return }
        terminal.err("the \(what) finished after \((ContinuousClock.now - start).components.seconds) s")
    }
}
