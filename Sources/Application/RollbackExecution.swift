import DockerOps
import Migration

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What a rollback tells the person who runs it, and asks them.
public protocol RollbackConsole {
    /// Whether the rollback of `journal` may go ahead (the console says what it will do).
    func mayRollBack(_ journal: Journal) -> Bool
    /// A helper container or staged file left by a cwmigrate that no longer runs was removed.
    func removedLeftover(_ name: String)
    /// What the rollback does now, one line at a time.
    func action(_ line: String)
}

/// Bringing an installation back to where a run found it: the run picked (`id`, else the newest
/// unfinished one), checked to have begun on this host, and rolled back under the installation's
/// lock by Migration's `Rollback`.
public struct RollbackExecution {
    public var store: JournalStore
    public var dockerEnvironment: [String: String]
    /// `--installer-dir`, else the plan's installerDir.
    public var installerDirectory: String?
    public var healthySeconds: Int
    public var operationTimeout: Duration

    public init(
        store: JournalStore, dockerEnvironment: [String: String], installerDirectory: String?, healthySeconds: Int,
        operationTimeout: Duration
    ) {
        self.store = store
        self.dockerEnvironment = dockerEnvironment
        self.installerDirectory = installerDirectory
        self.healthySeconds = healthySeconds
        self.operationTimeout = operationTimeout
    }

    /// Rolls the run back; nil when the console did not let it go ahead (nothing was changed).
    /// The rollback logs in as the production or the backup's admin (`backupPasswordFile`,
    /// `CWMIGRATE_BACKUP_PASSWORD`, else the production password), never as the initial one.
    public func run(
        _ id: String?, connect: () throws -> Connection, backupPasswordFile: String?, environment: [String: String],
        console: any RollbackConsole
    ) throws -> Journal? {
        let journal = try RunLifecycle(store: store).toRollBack(id)
        let host = try ConnectwareHost(environment: dockerEnvironment)
        let connected = try connect()
        let here = RunHost(host)
        try journal.requireHost(here)
        let target = try ComposeTarget(
            journal: journal, installerDirectory: installerDirectory, healthySeconds: healthySeconds)
        guard console.mayRollBack(journal) else { return nil }
        let lock = try RunLock.acquire(
            journal.installation, in: store, holder: "cwmigrate rollback \(journal.id), pid \(getpid())")
        defer { lock.release() }
        host.stagingDirectory = try store.stagingDirectory(for: journal.id)
        for leftover in try host.removeOrphanedHelpers() { console.removedLeftover(leftover) }
        let rollback = Rollback(
            host: host, client: connected.client, target: target, store: store, lock: lock,
            operationTimeout: operationTimeout, clock: Date.init, here: here,
            credentials: connected.runCredentials(
                initialPasswordFile: nil, backupPasswordFile: backupPasswordFile,
                directory: journal.installation.directory, environment: environment),
            onAction: console.action)
        return try rollback.run(try store.load(journal.id))
    }
}

extension RollbackExecution {
    /// Says how the rollback ended and returns its exit code: `done`, the run rolled back, and
    /// its report (0); nil, nothing was changed (10: paused).
    public func say(_ done: Journal?, on console: Console) -> Int32 {
        guard let done else {
            console.out("Nothing was changed.")
            return ExitStatus.paused
        }
        console.out(
            "Run \(done.id) rolled back: Connectware \(done.plan.runningVersion) runs with the data the run found.")
        console.out("report: \(store.reportPath(of: done.id, extension: "md"))")
        return ExitStatus.ok
    }
}
