import Application
import ArgumentParser
import Foundation
import Migration

/// `cwmigrate rollback [RUN]`: the installation back where the run found it.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Bring the installation back to where a migration run found it.",
        discussion: Help.rollback)

    @Argument(help: "The run's id, as `cwmigrate runs` lists it (default: the newest unfinished run).")
    var id: String?

    @OptionGroup var consent: ConsentFlag
    var yes: Bool { consent.yes }

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var dockerHost: DockerHostOption

    @OptionGroup var backupPassword: BackupPasswordOption

    @OptionGroup var installers: InstallerDirectoryOption

    @OptionGroup var healthy: HealthyTimeoutOption

    func validate() throws {
        if let id, !Journal.isValidID(id) {
            throw ValidationError("\(id) is not a run id (cwmigrate runs lists them)")
        }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            try terminal.requirePerson(
                unless: yes,
                offTerminal: Failure(
                    message: "rollback asks before it changes the installation, and stdin is not a terminal",
                    hint: "run it on a terminal, or pass --yes", exitCode: ExitStatus.usage))
            let store = state.store()
            let execution = RollbackExecution(
                store: store, dockerEnvironment: dockerHost.environment,
                installerDirectory: installers.installerDirectory, healthySeconds: healthy.healthyTimeout,
                operationTimeout: .seconds(connection.timeout))
            guard
                let done = try execution.run(
                    id, connect: { try connection.connect(terminal) },
                    backupPasswordFile: backupPassword.backupPasswordFile,
                    environment: ProcessInfo.processInfo.environment,
                    console: RollbackQuestions(terminal: terminal, unattended: yes))
            else {
                terminal.out("Nothing was changed.")
                return ExitStatus.paused
            }
            terminal.out(
                "Run \(done.id) rolled back: Connectware \(done.plan.runningVersion) runs with the data the run found.")
            terminal.out("report: \(store.reportPath(of: done.id, extension: "md"))")
            return ExitStatus.ok
        }
    }
}

/// What a rollback will do, said before the question (none with --yes), and what it does.
private struct RollbackQuestions: RollbackConsole {
    let terminal: Terminal
    let unattended: Bool

    func mayRollBack(_ journal: Journal) -> Bool {
        let version = journal.plan.runningVersion
        terminal.out("Rolling back run \(journal.id) for \(journal.installation):")
        if Rollback.touchedVolumes(journal) {
            let names = journal.artifacts.filter { $0.kind == .volumeSnapshot }.compactMap(\.detail)
            terminal.out(
                "  the volumes \(names.joined(separator: ", ")) are put back from the run's snapshots where they changed;"
                    + " volumes the run's installs made are removed (what they hold is kept beside the run's files)")
        }
        terminal.out("  Connectware \(version) is installed (if needed) and started")
        if Rollback.touchedDataInPlace(journal) {
            terminal.out("  the run's fresh backup is restored (the run restored at \(version))")
        }
        return unattended || terminal.confirm("Go ahead?")
    }

    func removedLeftover(_ name: String) { terminal.note("removed \(name), left by a cwmigrate that no longer runs") }

    func action(_ line: String) { terminal.out("  " + line) }
}
