import Application
import ArgumentParser

/// `cwmigrate restore`: check that the running Connectware will take a backup, then upload
/// it and wait for the restore; a refusal becomes a plan and is remembered.
struct RestoreCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup on Connectware, after checking that it will be accepted.",
        discussion: Help.restore)

    @Argument(help: "The backup file (.tgz).", completion: .backupArchive)
    var file: String

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var checks: RestoreCheckOptions

    @OptionGroup var consent: ConsentFlag

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var waiting: WaitRunningOption

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let restore = RestoreExecution(
            file: file, running: try runningOption.version(), sources: sources.sources(), unattended: consent.yes,
            acceptingExampleData: checks.acceptExampleData, precheckOnly: checks.precheckOnly,
            waiting: connection.waiting, waitForRunning: waiting.waitRunning.map { .seconds($0) })
        return try restore.run(
            environment: processEnvironment, connect: { try connection.connect(console) }, console: console)
    }
}
