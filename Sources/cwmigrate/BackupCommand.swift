import Application
import ArchiveInspect
import ArgumentParser
import HTTP
import SafeFiles

/// `cwmigrate backup`: trigger a backup, wait, download it, and verify what arrived.
struct BackupCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a backup of Connectware, download it and verify it.",
        discussion: Help.backup)

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var destination: OutputOptions

    @OptionGroup var json: JSONFlag

    @OptionGroup var waiting: WaitRunningOption

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        // Checked before the server is asked for a backup, which may take long.
        let download = BackupDownload(
            output: destination.output, replacing: destination.force, inputs: connection.request.secretFiles)
        try download.checkOutput()
        let taken = try download.take(
            from: try connection.client(console), waiting: connection.waiting,
            waitForRunning: waiting.waitRunning.map { .seconds($0) }, console: console)
        let result = BackupResult(taken)
        console.out(lines: json.requested ? [result.json()] : result.lines)
        return ExitStatus.ok
    }
}
