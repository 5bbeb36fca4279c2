import Application
import ArgumentParser
import ConnectwareAPI
import DockerOps
import Foundation
import Migration

#if canImport(Glibc)
    import Glibc
#endif

/// `cwmigrate rollback [RUN]`: the installation back where the run found it.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Bring the installation back to where a migration run found it.",
        discussion: """
            For a run that did not complete (failed, paused or interrupted): the volumes the run \
            removed or installed over are restored from its verified snapshots (what they hold \
            now is snapshotted first), the version the run found is installed again and started, \
            the compose file and .env are put back from the run's copies, and a restore the run \
            made (or that failed) at that version is undone with its fresh backup. Safe to repeat; \
            a rollback that was interrupted is run again the same way. Without RUN, this \
            installation's newest unfinished run. The run's report is rewritten.

            Exit codes: 0 rolled back; 10 paused: Connectware refused the admin password the \
            rollback needs (the production one, or the backup's where a restore at the run's \
            version may have replaced the users; the hint names the option to give), run it again \
            with the right one; 64 usage (also: no terminal and no --yes); 65 the run has ended or \
            began on another host; 66 no such run; 69 the rollback did not finish (run it again); \
            75 another process holds the installation's lock; 77 credentials refused by --login.
            """)

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
            let journal = try RunLifecycle(store: store).toRollBack(id)
            let host = try ConnectwareHost(environment: dockerHost.environment)
            let connected = try connection.connect(terminal)
            let client = connected.client
            let here = RunHost(host)
            try journal.requireHost(here)
            let plan = journal.plan
            let target = try ComposeTarget(
                journal: journal, installerDirectory: installers.installerDirectory,
                healthySeconds: healthy.healthyTimeout)

            terminal.out("Rolling back run \(journal.id) for \(journal.installation):")
            if Rollback.touchedVolumes(journal) {
                let names = journal.artifacts.filter { $0.kind == .volumeSnapshot }.compactMap(\.detail)
                terminal.out(
                    "  the volumes \(names.joined(separator: ", ")) are put back from the run's snapshots where they changed;"
                        + " volumes the run's installs made are removed (what they hold is kept beside the run's files)")
            }
            terminal.out("  Connectware \(plan.runningVersion) is installed (if needed) and started")
            if Rollback.touchedDataInPlace(journal) {
                terminal.out("  the run's fresh backup is restored (the run restored at \(plan.runningVersion))")
            }
            if !yes {
                guard terminal.confirm("Go ahead?") else {
                    terminal.out("Nothing was changed.")
                    return ExitStatus.paused
                }
            }
            let lock = try RunLock.acquire(
                journal.installation, in: store, holder: "cwmigrate rollback \(journal.id), pid \(getpid())")
            defer { lock.release() }
            host.stagingDirectory = try store.stagingDirectory(for: journal.id)
            for leftover in try host.removeOrphanedHelpers() {
                terminal.note("removed \(leftover), left by a cwmigrate that no longer runs")
            }
            let rollback = Rollback(
                host: host, client: client, target: target, store: store, lock: lock,
                operationTimeout: .seconds(connection.timeout), clock: Date.init, here: here,
                // A rollback logs in as the production or the backup's admin, never the initial one.
                credentials: connected.runCredentials(
                    initialPasswordFile: nil, backupPasswordFile: backupPassword.backupPasswordFile,
                    directory: journal.installation.directory, environment: ProcessInfo.processInfo.environment)
            ) { action in terminal.out("  " + action) }
            let done = try rollback.run(try store.load(journal.id))
            terminal.out(
                "Run \(done.id) rolled back: Connectware \(plan.runningVersion) runs with the data the run found.")
            terminal.out("report: \(store.reportPath(of: done.id, extension: "md"))")
            return ExitStatus.ok
        }
    }
}
