import Application
import ArchiveInspect
import ArgumentParser
import HTTP
import SafeFiles

/// `cwmigrate backup`: trigger a backup, wait, download it, and verify what arrived.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a backup of Connectware, download it and verify it.",
        discussion: Help.backup)

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var destination: OutputOption

    @OptionGroup var replace: ForceFlag

    @OptionGroup var json: JSONFlag

    @OptionGroup var waiting: WaitRunningOption

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { console in
            // Checked before the server is asked for a backup, which may take long.
            let inputs = [connection.passwordFile, connection.tokenFile].compactMap { $0 }
            try BackupDownload.checkOutput(destination.output, replacing: replace.force, inputs: inputs)
            let download = BackupDownload(
                client: try connection.client(console), output: destination.output, replacing: replace.force,
                inputs: inputs)
            let reporter = WaitingReporter(console: console, what: "backup", enabled: connection.progress.format != .none)
            let taken = try download.take(
                deadline: .seconds(connection.timeout), waitForRunning: waiting.waitRunning.map { .seconds($0) },
                wait: connection.waitSettings(console), onPoll: reporter.poll, finished: reporter.done,
                progress: connection.progress.reporter(console))
            if let id = taken.record.backupID, id.version != taken.facts.version {
                console.warning("the backup id names \(id.version) but the archive says \(taken.facts.version)")
            }
            let result = BackupResult(taken)
            console.out(lines: json.requested ? [result.json()] : result.lines)
            return ExitStatus.ok
        }
    }
}
