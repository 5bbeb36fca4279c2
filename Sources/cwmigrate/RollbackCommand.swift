import Application
import ArgumentParser
import Migration

/// `cwmigrate rollback [RUN]`: the installation back where the run found it.
struct RollbackCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Bring the installation back to where a migration run found it.",
        discussion: Help.rollback)

    @Argument(help: "The run's id, as `cwmigrate runs` lists it (default: the newest unfinished run).")
    var id: String?

    @OptionGroup var consent: ConsentFlag

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var installers: InstallerDirectoryOption

    func validate() throws {
        if let id, !Journal.isValidID(id) {
            throw ValidationError("\(id) is not a run id (cwmigrate runs lists them)")
        }
    }

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let reporter = try ConsoleRollbackReporter(console: console, unattended: consent.yes)
        let execution = RollbackExecution(
            store: state.store(), dockerEnvironment: runOptions.dockerEnvironment,
            installerDirectory: installers.installerDirectory, healthySeconds: runOptions.healthyTimeout,
            operationTimeout: .seconds(connection.timeout))
        let done = try execution.run(
            id, connect: { try connection.connect(console) }, backupPasswordFile: runOptions.backupPasswordFile,
            environment: processEnvironment,
            console: reporter)
        return execution.say(done, on: console)
    }
}
