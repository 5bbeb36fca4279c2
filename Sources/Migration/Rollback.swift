import ArchiveInspect
import ConnectwareAPI
import DockerOps
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Vocabulary
import Planner

#if canImport(Glibc)
    import Glibc
#endif

/// Brings an installation back to where a run found it: the volumes the run removed or
/// installed over come back from the run's verified snapshots (never is the original version
/// installed over a schema an install changed) — every volume of the project that changed
/// since its snapshot, and the volumes an install made are removed —, the original version is installed and started,
/// and a restore made at the original version is undone with the run's fresh backup. Each
/// action is safe to repeat, so a rollback that was interrupted is simply run again. What
/// the volumes hold when the rollback replaces them is snapshotted first, never just lost.
public struct Rollback {
    let host: ConnectwareHost
    let client: MaintenanceClient
    let target: ComposeTarget
    let store: JournalStore
    let lock: RunLock
    let operationTimeout: Duration
    let clock: () -> Date
    let here: RunHost?
    let credentials: RunCredentials?
    let onAction: (String) -> Void

    /// `here` is this machine: a run that began on another is refused. `credentials` (the
    /// run's passwords) log in as the database the rollback finds or makes knows the admin;
    /// without them the client's own login is used throughout.
    public init(
        host: ConnectwareHost, client: MaintenanceClient, target: ComposeTarget, store: JournalStore, lock: RunLock,
        operationTimeout: Duration, clock: @escaping () -> Date, here: RunHost? = nil,
        credentials: RunCredentials? = nil, onAction: @escaping (String) -> Void = { _ in }
    ) {
        self.here = here
        self.credentials = credentials
        self.host = host
        self.client = client
        self.target = target
        self.store = store
        self.lock = lock
        self.operationTimeout = operationTimeout
        self.clock = clock
        self.onAction = onAction
    }

    /// Every step record of the run, of the plan it carries out and of plans it replaced.
    static func allSteps(_ journal: Journal) -> [(plan: Plan, record: StepRecord)] {
        (journal.earlierPlans ?? []).flatMap { earlier in earlier.steps.map { (earlier.plan, $0) } }
            + journal.steps.map { (journal.plan, $0) }
    }

    /// Whether the run began removing volumes, or installing another version over them (an
    /// install migrates the database's schema on its first start): either way the volumes
    /// come back only from the run's snapshots.
    public static func touchedVolumes(_ journal: Journal) -> Bool {
        allSteps(journal).contains {
            $0.record.kind.changesVolumes && $0.record.attempts > 0
        }
    }

    /// Whether the run began a restore at the original version that was not refused (a
    /// refused restore changes nothing), so the data may be the backup's now.
    public static func touchedDataInPlace(_ journal: Journal) -> Bool {
        for (plan, record) in allSteps(journal) where record.kind == .restore && record.attempts > 0 {
            var version = plan.runningVersion
            for step in plan.steps.prefix(record.position + 1) where step.id == .installOlder {
                version = plan.restoreVersion ?? version
            }
            let refused = record.state == .failed && (record.message ?? "").contains("refused the restore")
            if version == plan.runningVersion && !refused { return true }
        }
        return false
    }

    /// Runs the rollback of `journal`'s run; returns the journal, rolled back.
    @discardableResult
    public func run(_ start: Journal) throws(MigrationError) -> Journal {
        var journal = start
        guard lock.installation.lockKey == journal.installation.lockKey else {
            throw .lockFailed(path: lock.path, reason: "it is not the lock of run \(journal.id)'s installation")
        }
        guard !journal.outcome.isFinal else { throw .runEnded(run: journal.id, outcome: journal.outcome) }
        try journal.requireHost(here)
        if var record = journal.rollback {
            record.attempts += 1
            record.succeeded = nil
            record.paused = nil
            record.message = nil
            journal.rollback = record
        } else {
            journal.rollback = RollbackRecord(startedAt: clock())
        }
        try store.save(journal)
        let original = journal.plan.runningVersion
        do throws(MigrationError) {
            if Self.touchedVolumes(journal) {
                try restoreVolumes(&journal)
            }
            // The volumes are the run's snapshots now, or were never replaced: the production
            // database, unless a restore at this version replaced it with the backup's.
            let backupsData = !Self.touchedVolumes(journal) && Self.touchedDataInPlace(journal)
            useLogins(backupsData ? .backupThenProduction : .production, journal)
            try bringUp(original, &journal)
            if try putBackInstallationFiles(&journal) {
                do {
                    try host.start(project: target.project, directory: target.directory)
                    _ = try host.waitUntilHealthy(
                        project: target.project, within: target.healthySeconds, pollEvery: ConnectwareHost.healthPoll
                    ) { client.answers() || client.refused != nil }
                } catch {
                    throw failure(error, run: journal.id)
                }
                try requireAccepted(journal)
                try note("started Connectware \(original) again with the files the run found", &journal)
            }
            if Self.touchedDataInPlace(journal) {
                // The backup's users until the fresh backup's restore brings the production ones back.
                useLogins(.backupThenProduction, journal)
                try restoreFreshBackup(&journal)
            }
            useLogins(.production, journal)
            try checkUp(original, journal)
        } catch {
            if case .rollbackCredentialsRefused = error {
                journal.rollback?.paused = true
                journal.rollback?.message = error.description
                journal.rollback?.endedAt = clock()
                try store.save(journal)
                _ = try? store.saveReports(journal)
                throw error
            }
            journal.rollback?.succeeded = false
            journal.rollback?.message = error.description
            journal.rollback?.endedAt = clock()
            try store.save(journal)
            _ = try? store.saveReports(journal)
            if case .rollbackFailed = error { throw error }
            throw .rollbackFailed(run: journal.id, reason: error.description)
        }
        journal.rollback?.succeeded = true
        journal.rollback?.paused = nil
        journal.rollback?.endedAt = clock()
        try journal.markRolledBack(
            at: clock(), message: "rolled back: Connectware \(original) runs with the data the run found")
        try store.save(journal)
        try store.saveReports(journal)
        return journal
    }

    /// Which admin the database the rollback finds or makes knows.
    enum Logins {
        /// The database the run found (from its snapshots, or never replaced).
        case production
        /// A restore at the original version may have put the backup's users in place; the
        /// fresh backup's restore puts the production ones back.
        case backupThenProduction
    }

    private func useLogins(_ logins: Logins, _ journal: Journal) {
        guard let credentials else { return }
        let production = credentials.logins(for: .production, plan: journal.plan)
        switch logins {
        case .production: client.useLogins(production, tokens: credentials.tokens)
        case .backupThenProduction:
            let backup = credentials.logins(for: .backup, plan: journal.plan)
            client.useLogins(
                backup + production.filter { login in !backup.contains { $0.password == login.password } },
                tokens: credentials.tokens)
        }
    }

    /// A wait for Connectware that ended because it refused every login pauses the rollback
    /// with the fix, instead of failing as if Connectware never came up.
    private func requireAccepted(_ journal: Journal) throws(MigrationError) {
        guard let refused = client.refused, !refused.isEmpty else { return }
        throw refusal(refused, journal)
    }

    private func refusal(_ refused: [Login], _ journal: Journal) -> MigrationError {
        .rollbackCredentialsRefused(
            run: journal.id, refused: refused.map(\.description).joined(separator: " and "),
            fix: credentials?.fix(for: refused, plan: journal.plan)
                ?? "give the production admin password with CWMIGRATE_PASSWORD or --password-file FILE")
    }

    private func note(_ text: String, _ journal: inout Journal) throws(MigrationError) {
        journal.rollback?.actions.append(text)
        try store.save(journal)
        onAction(text)
    }

    private func failure(_ error: any Error, run: String) -> MigrationError {
        switch error {
        case let error as MigrationError: error
        case let error as DockerOpsError: .rollbackFailed(run: run, reason: error.description)
        case let error as ConnectwareAPIError: .rollbackFailed(run: run, reason: error.description)
        default: .rollbackFailed(run: run, reason: "\(error)")
        }
    }

    /// Stops and removes the core containers, then puts each snapshotted volume back.
    private func restoreVolumes(_ journal: inout Journal) throws(MigrationError) {
        let snapshots = journal.artifacts.filter { $0.kind == .volumeSnapshot }
        guard !snapshots.isEmpty else {
            throw .rollbackFailed(
                run: journal.id,
                reason:
                    "the run removed its volumes or installed another version over them, but its journal records no snapshot of them; installing \(journal.plan.runningVersion) over what they hold now is not safe: restore the fresh backup by hand"
            )
        }
        var manifests: [String: SnapshotManifest] = [:]
        for snapshot in snapshots {
            do throws(DockerOpsError) {
                let manifest = try ConnectwareHost.verifySnapshot(at: snapshot.path, volume: snapshot.detail)
                guard manifest.archiveSHA256 == snapshot.sha256 else {
                    throw .snapshotNotVerified(
                        volume: snapshot.detail ?? "?", path: snapshot.path,
                        reason: "its SHA-256 is not the one the run recorded")
                }
                manifests[snapshot.path] = manifest
            } catch {
                throw failure(error, run: journal.id)
            }
        }
        do throws(DockerOpsError) {
            if let installation = try? host.discover(project: target.project), !installation.containers.isEmpty {
                try host.stop(installation, timeout: target.stopTimeout)
                try host.removeContainers(installation)
            }
        } catch {
            throw failure(error, run: journal.id)
        }
        try note("stopped and removed the core containers of \(target.project)", &journal)
        let attempt = journal.rollback?.attempts ?? 1
        let directory = try store.artifactDirectory(for: journal.id)
        for snapshot in snapshots {
            guard let name = snapshot.detail else { continue }
            do {
                if let volume = try? host.findVolume(name) {
                    // Unchanged since the snapshot began (no entry newer, the same counts
                    // where times are whole seconds): it is what the run found.
                    if let manifest = manifests[snapshot.path],
                        (try? host.checkSnapshotHolds(volume, manifest: manifest, snapshot: snapshot.path)) != nil
                    {
                        try note("kept \(name): nothing in it changed since the run's snapshot", &journal)
                        continue
                    }
                    try setAside(name, as: "replaced", attempt: attempt, in: directory, &journal)
                }
                let manifest = try host.restoreVolume(name, from: snapshot.path)
                try note(
                    "restored \(name) from \(snapshot.path) (\(manifest.files) files, \(formatBytes(manifest.bytes)))",
                    &journal)
            } catch {
                throw failure(error, run: journal.id)
            }
        }
        try removeVolumesTheRunMade(journal: &journal, attempt: attempt, directory: directory)
    }

    /// Snapshots what volume `name` holds now beside the run's files, then removes it (a
    /// protected one too: the run's snapshot of it goes back, or it did not exist before).
    private func setAside(
        _ name: String, as what: String, attempt: Int, in directory: String, _ journal: inout Journal
    ) throws(MigrationError) {
        let aside = directory + "/rollback-\(attempt)-\(what)-\(name).tar.zst"
        do throws(DockerOpsError) {
            if access(aside, F_OK) == 0 {
                unlink(aside)
                unlink(SnapshotManifest.sidecarPath(of: aside))
            }
            try host.snapshotVolume(name, to: aside, connectwareVersion: nil)
            try host.removeVolume(
                name, snapshot: aside, policy: VolumePolicy(removable: [name], includingProtected: true))
        } catch {
            throw failure(error, run: journal.id)
        }
        try note("kept what \(name) held at \(aside) and removed it", &journal)
    }

    /// The volumes of the project that did not exist when the run snapshotted them: an
    /// install made them. A journal without the list (an older cwmigrate) removes none.
    private func removeVolumesTheRunMade(journal: inout Journal, attempt: Int, directory: String)
        throws(MigrationError)
    {
        guard let list = journal.artifacts.last(where: { $0.kind == .projectVolumes }) else {
            try note("the run recorded no list of the project's volumes: no volume is removed as made by it", &journal)
            return
        }
        let before = Set((list.detail ?? "").split(separator: ",").map(String.init))
        let now: [ProjectVolume]
        do { now = try host.discover(project: target.project).volumes } catch { throw failure(error, run: journal.id) }
        for volume in now where !before.contains(volume.name) {
            try setAside(volume.name, as: "made", attempt: attempt, in: directory, &journal)
        }
    }

    /// Installs the original version unless it is what is there, and starts it.
    private func bringUp(_ original: Version, _ journal: inout Journal) throws(MigrationError) {
        let saved =
            target.strategy == .installer ? journal.artifacts.last(where: { $0.kind == .savedImages }) : nil
        let names = saved?.detail?.split(separator: ",").map(String.init) ?? []
        let installation = try? host.discover(project: target.project)
        let reinstall = !(installation.map { !$0.containers.isEmpty && $0.version == original } ?? false)
        if reinstall, saved != nil, !names.isEmpty {
            // Compose starts the original version from the files the run found.
            _ = try putBackInstallationFiles(&journal)
        }
        do {
            if let installation, !installation.containers.isEmpty, installation.version == original {
                try host.start(project: target.project, directory: target.directory)
                try note("started Connectware \(original)", &journal)
            } else if let saved, !names.isEmpty {
                // The installer pulls, and a host may no longer reach the registry: the run's
                // saved images and its copies of the compose file and .env (put back above)
                // are all that compose needs to start the original version.
                let missing = names.filter { !host.imageExists($0) }
                if !missing.isEmpty {
                    try host.loadImages(from: saved.path, expecting: names)
                    try note("loaded the saved images of Connectware \(original) from \(saved.path) (\(missing.count) were gone)", &journal)
                }
                try host.start(project: target.project, directory: target.directory)
                try note("started Connectware \(original) again from the run's copy of its compose file", &journal)
                try dropOtherVersionsTags(original, &journal)
            } else {
                try host.install(target.installRequest(original))
                try note("installed Connectware \(original) again and started it", &journal)
            }
            _ = try host.waitUntilHealthy(
                project: target.project, within: target.healthySeconds, pollEvery: ConnectwareHost.healthPoll
            ) { client.answers() || client.refused != nil }
        } catch {
            throw failure(error, run: journal.id)
        }
        try requireAccepted(journal)
        if target.strategy == .installer {
            do { try ImagesBeforeShutdown(host: host, target: target).dropKept(original) } catch {
                try note("the keep tags of \(original) stay: \(error.description)", &journal)
            }
        }
    }

    /// A rollback from the saved images runs no installer, so nothing prunes what the run
    /// pulled: the tags of every other version on the way (the older version's, each upgrade
    /// stop's) go, as the installer of the original version would delete them. A tag the
    /// Engine keeps (a container still uses its image) is said, not a failure: Connectware
    /// runs again.
    private func dropOtherVersionsTags(_ original: Version, _ journal: inout Journal) throws(MigrationError) {
        var removed: [String] = []
        var kept: [String] = []
        for version in Prechecks.versionsOnTheWayAndBack(journal.plan) where version != original {
            let request = target.installRequest(version)
            let images = Set(host.wantedImages(request) + host.images(of: version.description, directory: target.directory))
            for image in images.sorted() where host.imageExists(image) {
                do {
                    try host.untagImage(image)
                    removed.append(image)
                } catch {
                    kept.append("\(image) (\(error.description))")
                }
            }
        }
        if !removed.isEmpty { try note("removed the tags the run pulled: \(removed.joined(separator: ", "))", &journal) }
        if !kept.isEmpty { try note("left the tags \(kept.joined(separator: ", "))", &journal) }
    }

    /// The compose file and `.env` as the run found them, from its verified copies (an
    /// install rewrote them); true when one had to be put back. `.env` stays 0600.
    private func putBackInstallationFiles(_ journal: inout Journal) throws(MigrationError) -> Bool {
        var changed = false
        for copy in journal.artifacts where copy.kind == .installationFile {
            guard let name = copy.detail, SnapshotVolumesStep.installationFiles.contains(name) else { continue }
            guard (try? sha256(ofFileAt: copy.path)) == copy.sha256 else {
                throw .rollbackFailed(
                    run: journal.id, reason: "the copy \(copy.path) of \(name) is missing or changed since it was made")
            }
            let file = target.directory + "/" + name
            if (try? sha256(ofFileAt: file)) == copy.sha256 { continue }
            var info = stat()
            let mode: mode_t = name == ".env" ? 0o600 : (stat(file, &info) == 0 ? info.st_mode & 0o777 : 0o644)
            let put = try copyVerified(
                copy.path, into: target.directory, as: name, mode: mode, followingDirectory: true)
            guard put.sha256 == copy.sha256 else {
                throw .rollbackFailed(run: journal.id, reason: "\(file) did not come back as the run found it")
            }
            try note("put \(file) back as the run found it (SHA-256 \(copy.sha256))", &journal)
            changed = true
        }
        return changed
    }

    /// A restore that ran at the original version replaced the data: the fresh backup puts it back.
    private func restoreFreshBackup(_ journal: inout Journal) throws(MigrationError) {
        guard let fresh = journal.artifacts.first(where: { $0.kind == .freshBackup }) else {
            throw .rollbackFailed(run: journal.id, reason: "the run has no fresh backup to restore")
        }
        guard (try? sha256(ofFileAt: fresh.path)) == fresh.sha256 else {
            throw .rollbackFailed(
                run: journal.id, reason: "the fresh backup \(fresh.path) is missing or changed since it was verified")
        }
        do throws(ConnectwareAPIError) {
            let status = try client.status()
            if !status.running, let restore = status.restore, restore.succeeded == true,
                let id = fresh.detail, restore.id == id
            {
                onAction("the fresh backup \(id) is already restored")
                return
            }
            _ = try client.runRestore(
                file: fresh.path, backupVersion: journal.plan.runningVersion,
                runningVersion: journal.plan.runningVersion, deadline: operationTimeout)
        } catch {
            if case .unauthorized = error, let refused = client.refused, !refused.isEmpty {
                throw refusal(refused, journal)
            }
            throw .rollbackFailed(run: journal.id, reason: "restoring the fresh backup: \(error.description)")
        }
        try note("restored the fresh backup \(fresh.path)", &journal)
    }

    private func checkUp(_ original: Version, _ journal: Journal) throws(MigrationError) {
        let run = journal.id
        let installation: Installation
        do { installation = try host.discover(project: target.project) } catch { throw failure(error, run: run) }
        guard installation.version == original else {
            throw .rollbackFailed(
                run: run,
                reason: "Connectware runs \(installation.version?.description ?? "mixed versions"), not \(original)")
        }
        do { _ = try client.status() } catch {
            if case .unauthorized = error, let refused = client.refused, !refused.isEmpty {
                throw refusal(refused, journal)
            }
            throw .rollbackFailed(run: run, reason: "the maintenance API does not answer: \(error.description)")
        }
    }
}
