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
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Where the installation a run changes lives, and how versions are installed there.
public struct ComposeTarget: Sendable {
    public var project: String
    /// The compose project's directory (`/opt/connectware`), where the installer writes.
    public var directory: String
    public var strategy: InstallStrategy
    /// Holds `VERSION/connectware-online-installer.sh` for the `installer` strategy.
    public var installerDirectory: String
    /// Holds `connectware-VERSION.tar` for `offline-images` (default: the project's directory).
    public var imageDirectory: String?
    /// Seconds a container gets to stop before it is killed.
    public var stopTimeout: Int
    /// Seconds Connectware gets to become healthy after a start.
    public var healthySeconds: Int

    public init(
        project: String, directory: String, strategy: InstallStrategy, installerDirectory: String,
        imageDirectory: String? = nil, stopTimeout: Int = 30, healthySeconds: Int = 600
    ) {
        self.project = project
        self.directory = directory
        self.strategy = strategy
        self.installerDirectory = installerDirectory
        self.imageDirectory = imageDirectory
        self.stopTimeout = stopTimeout
        self.healthySeconds = healthySeconds
    }

    /// The installation a run was made for, as its journal and plan name it; an installer
    /// directory given now outranks the plan's. The project's directory is the one Docker
    /// named when the run was made, never a guess: without it, `projectDirectoryUnknown`.
    public init(journal: Journal, installerDirectory: String?, stopTimeout: Int = 30, healthySeconds: Int = 600)
        throws(MigrationError)
    {
        let plan = journal.plan
        guard let directory = journal.installation.directory else {
            throw .projectDirectoryUnknown(project: journal.installation.name)
        }
        self.init(
            project: journal.installation.name,
            directory: directory,
            strategy: plan.installStrategy,
            installerDirectory: installerDirectory ?? plan.settings["installerDir"]
                ?? "/var/backups/cwmigrate/installers",
            imageDirectory: plan.settings["imageDir"], stopTimeout: stopTimeout, healthySeconds: healthySeconds)
    }

    /// How `version` is installed here.
    public func installRequest(_ version: Version) -> InstallRequest {
        InstallRequest(
            version: version.description, strategy: strategy, directory: directory, project: project,
            installer: installerDirectory + "/\(version)/connectware-online-installer.sh",
            imageArchive: imageDirectory.map { $0 + "/connectware-\(version).tar" })
    }

    /// The Docker name of one of the plan's volumes (`postgresql` → `connectware_postgresql`).
    public func volumeName(_ short: String) -> String { project + "_" + short }
}

/// The snapshot of a plan volume in the run's directory.
func snapshotPath(_ context: StepContext, volume: String) -> String {
    context.artifactDirectory + "/volume-\(volume).tar.zst"
}

/// The installation as Docker sees it now, or a precondition failure naming the step.
func discovered(_ host: ConnectwareHost, _ target: ComposeTarget, _ context: StepContext) throws(MigrationError)
    -> Installation
{
    do { return try host.discover(project: target.project) } catch {
        throw .preconditionFailed(position: context.position, kind: context.step.id, reason: error.description)
    }
}

/// The fresh backup the run took, still on disk with the SHA-256 recorded for it: nothing
/// is stopped or removed without the way back in place.
func requireFreshBackup(_ context: StepContext) throws(MigrationError) {
    guard let fresh = context.journal.artifacts.first(where: { $0.kind == .freshBackup }) else {
        throw .preconditionFailed(
            position: context.position, kind: context.step.id,
            reason: "the run has no verified fresh backup (step fresh-backup) to go back to")
    }
    let digest: String
    do { digest = try KnownDigests.sha256(ofFileAt: fresh.path) } catch {
        throw .preconditionFailed(
            position: context.position, kind: context.step.id,
            reason: "the fresh backup \(fresh.path) cannot be read: \(error.description)")
    }
    guard digest == fresh.sha256 else {
        throw .preconditionFailed(
            position: context.position, kind: context.step.id,
            reason:
                "the fresh backup \(fresh.path) changed since it was verified (SHA-256 \(fresh.sha256), now \(digest))"
        )
    }
}

/// The SHA-256 of a file this process hashed whole before, while the file is that very file
/// unchanged since (`FileIdentity`: device, inode, size, mtime and ctime); else hashed whole
/// again. The fresh backup is hashed by shutdown's precondition, before the window; the
/// preconditions of remove-volumes and restore, inside it, then take no second and third
/// reading of it (hundreds of MB at a plant) to find the same bytes the same.
enum KnownDigests {
    private static let readings = FileReadings<String>()

    static func sha256(ofFileAt path: String) throws(ArchiveInspectError) -> String {
        if let digest = readings.earlier(at: path) { return digest }
        let before = FileIdentity(path: path)
        let digest = try ArchiveInspect.sha256(ofFileAt: path)
        readings.remember(digest, at: path, readFrom: before)
        return digest
    }
}

/// The prechecks passed in this attempt of the run (`MigrationRun` clears an earlier
/// attempt's): nothing is stopped on checks made before the world last changed, or on none.
func requirePrechecksPassed(_ context: StepContext) throws(MigrationError) {
    guard let record = context.journal.prechecks else {
        throw .preconditionFailed(
            position: context.position, kind: context.step.id,
            reason: "the prechecks have not been run in this attempt of the run; nothing is stopped without them")
    }
    guard record.passed else {
        throw .preconditionFailed(
            position: context.position, kind: context.step.id,
            reason: "the prechecks did not pass: "
                + record.failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; "))
    }
}

/// `shutdown`: every core container of the project stops, dependants first.
public struct ShutdownStep: StepRunner {
    let host: ConnectwareHost
    let target: ComposeTarget

    public init(host: ConnectwareHost, target: ComposeTarget) {
        self.host = host
        self.target = target
    }

    public func intent(_ context: StepContext) -> String {
        let running = (try? host.discover(project: target.project))?.containers.filter(\.isRunning).map(\.name) ?? []
        let unit = host.systemdUnit().map { "with systemctl stop \($0.name) (the systemd unit \($0.path)) " } ?? ""
        return "stop \(unit)the containers of project \(target.project): "
            + (running.isEmpty ? "(none runs now)" : running.joined(separator: ", "))
            + ". Connectware is unavailable from here until the run ends."
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        try requirePrechecksPassed(context)
        try requireFreshBackup(context)
        let installation = try discovered(host, target, context)
        guard !installation.containers.isEmpty else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason: "project \(target.project) has no core containers to stop")
        }
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        do {
            try host.stop(try host.discover(project: target.project), timeout: target.stopTimeout)
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let installation: Installation
        do { installation = try host.discover(project: target.project) } catch {
            return .doesNotHold(reason: error.description)
        }
        let running = installation.containers.filter { $0.isRunning || $0.state == "restarting" }
        guard running.isEmpty else {
            return .doesNotHold(reason: "still running: " + running.map(\.name).joined(separator: ", "))
        }
        let through = host.systemdUnit().map { " through the systemd unit \($0.path) (systemctl stop \($0.name))" } ?? ""
        return .holds(
            message: "\(installation.containers.count) core containers of \(target.project) stopped\(through)",
            artifacts: [])
    }
}

/// `snapshot-volumes`: each of the plan's volumes that exists, and every other volume of the
/// compose project (found by its label: the installs may change or make any of them), is
/// copied into the run's directory and the copy verified; the project's volumes are listed
/// there too, for a rollback to remove the ones an install made. A snapshot already there
/// that verifies is kept, so the step is safe to repeat; one that does not verify is made
/// again. The compose file and `.env` are copied too (0600): the installs rewrite both.
public struct SnapshotVolumesStep: StepRunner {
    let host: ConnectwareHost
    let target: ComposeTarget

    public init(host: ConnectwareHost, target: ComposeTarget) {
        self.host = host
        self.target = target
    }

    /// The files of the compose project an install rewrites.
    public static let installationFiles = ["docker-compose.yml", ".env"]

    static func copyPath(_ context: StepContext, _ name: String) -> String {
        context.artifactDirectory + "/installation-" + name
    }

    /// Copies each installation file that exists, unless a copy equal to it is there.
    func copyInstallationFiles(_ context: StepContext) throws(MigrationError) {
        for name in Self.installationFiles {
            let source = target.directory + "/" + name
            guard access(source, F_OK) == 0 else { continue }
            let copy = Self.copyPath(context, name)
            if access(copy, F_OK) == 0, let a = try? sha256(ofFileAt: copy), let b = try? sha256(ofFileAt: source),
                a == b
            {
                continue
            }
            _ = try copyVerified(source, into: context.artifactDirectory, as: "installation-" + name)
        }
    }

    /// The copies, each equal to the file it was made from.
    func installationFileArtifacts(_ context: StepContext) -> Result<[Artifact], MigrationError> {
        var artifacts: [Artifact] = []
        for name in Self.installationFiles {
            let source = target.directory + "/" + name
            guard access(source, F_OK) == 0 else { continue }
            let copy = Self.copyPath(context, name)
            guard let digest = try? sha256(ofFileAt: copy) else {
                return .failure(
                    .postconditionFailed(
                        position: context.position, kind: context.step.id, reason: "there is no copy of \(source)"))
            }
            guard (try? sha256(ofFileAt: source)) == digest else {
                return .failure(
                    .postconditionFailed(
                        position: context.position, kind: context.step.id,
                        reason: "the copy of \(source) is not equal to it"))
            }
            var info = stat()
            let bytes = stat(copy, &info) == 0 ? Int64(info.st_size) : 0
            artifacts.append(
                Artifact(
                    kind: .installationFile, path: copy, sha256: digest, bytes: bytes, step: context.position,
                    detail: name))
        }
        return .success(artifacts)
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        let installation = try discovered(host, target, context)
        let running = installation.containers.filter(\.isRunning)
        guard running.isEmpty else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason: "containers still run, a snapshot would not be consistent: "
                    + running.map(\.name).joined(separator: ", "))
        }
        // Data kept in a host directory would be neither copied nor removed ("nothing to copy").
        do { try host.refuseBindMounts(project: target.project, volumes: context.journal.plan.volumes) } catch {
            throw .preconditionFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        let names = Set(installation.volumes.map(\.name))
        guard context.journal.plan.volumes.contains(where: { names.contains(target.volumeName($0)) }) else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason:
                    "none of the volumes \(context.journal.plan.volumes.joined(separator: ", ")) exists in project \(target.project)"
            )
        }
    }

    /// The file listing the project's volumes as the step found them.
    static func volumeListPath(_ context: StepContext) -> String {
        context.artifactDirectory + "/project-volumes.txt"
    }

    /// The volumes the step copies, by short and Docker name: the plan's, then every other
    /// volume of the project. The list is the same on a repeat: nothing runs meanwhile.
    func volumesToCopy(_ context: StepContext) throws(DockerOpsError) -> [(short: String, name: String)] {
        let plan = context.journal.plan.volumes.map { (short: $0, name: target.volumeName($0)) }
        let others = try host.discover(project: target.project).volumes
            .filter { volume in !plan.contains { $0.name == volume.name } }
            .map { (short: $0.shortName, name: $0.name) }
        return plan + others
    }

    /// Writes the list of the project's volumes, unless the step wrote it already (it is the
    /// first look that counts: a repeat may come after an install made one).
    func writeVolumeList(_ context: StepContext) throws(MigrationError) {
        let path = Self.volumeListPath(context)
        guard access(path, F_OK) != 0 else { return }
        let names: [String]
        do { names = try host.discover(project: target.project).volumes.map(\.name).sorted() } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        let temporary = path + ".\(getpid()).tmp"
        let text = names.map { $0 + "\n" }.joined()
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]),
            rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw .stateDirectory(path: path, reason: "it cannot be written: \(systemError())")
        }
    }

    /// Whether the run installs another version with the vendor's installer, which deletes the
    /// images of every other version (the running one too): then the step saves them.
    /// A step after the one that saved them (`fresh-backup`, before the shutdown) saves none.
    static func savesImages(_ context: StepContext, _ target: ComposeTarget) -> Bool {
        target.strategy == .installer
            && context.journal.plan.steps.contains { $0.id == .installOlder || $0.id == .upgrade }
            && !context.journal.artifacts.contains { $0.kind == .savedImages && $0.step != context.position }
    }

    static func savedImagesPath(_ context: StepContext) -> String {
        context.artifactDirectory + "/images-\(context.journal.plan.runningVersion).tar"
    }

    /// Saves the running version's images (`docker save`) unless a complete copy is there
    /// (the file appears by rename only when whole).
    func saveImages(_ context: StepContext) throws(MigrationError) {
        guard Self.savesImages(context, target) else { return }
        let path = Self.savedImagesPath(context)
        guard access(path, F_OK) != 0 else { return }
        let images = host.images(of: context.journal.plan.runningVersion.description, directory: target.directory)
        do { try host.saveImages(images, to: path) } catch {
            throw .stepFailed(
                position: context.position, kind: context.step.id,
                reason: "saving the images of Connectware \(context.journal.plan.runningVersion): \(error.description)")
        }
    }

    /// The saved images as an artifact; nil when the step saves none.
    func savedImagesArtifact(_ context: StepContext) -> Result<Artifact?, MigrationError> {
        guard Self.savesImages(context, target) else { return .success(nil) }
        let path = Self.savedImagesPath(context)
        let images = host.images(of: context.journal.plan.runningVersion.description, directory: target.directory)
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0, let digest = try? sha256(ofFileAt: path) else {
            return .failure(
                .postconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the images of Connectware \(context.journal.plan.runningVersion) were not saved to \(path)"))
        }
        return .success(
            Artifact(
                kind: .savedImages, path: path, sha256: digest, bytes: Int64(info.st_size), step: context.position,
                detail: images.joined(separator: ",")))
    }

    /// The recorded list of the project's volumes as it was written.
    static func readVolumeList(_ path: String) -> [String]? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { return nil }
        return text.split(separator: "\n").map(String.init)
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        do { try copyInstallationFiles(context) } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        try writeVolumeList(context)
        try saveImages(context)
        let volumes: [(short: String, name: String)]
        do { volumes = try volumesToCopy(context) } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        var requests: [ConnectwareHost.SnapshotRequest] = []
        for (volume, name) in volumes {
            let path = snapshotPath(context, volume: volume)
            if access(path, F_OK) == 0 {
                if (try? ConnectwareHost.verifySnapshot(at: path, volume: name)) != nil { continue }
                unlink(path)
                unlink(SnapshotManifest.sidecarPath(of: path))
            }
            do {
                guard try host.volumeExists(name) else { continue }
            } catch {
                throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
            }
            requests.append(.init(volume: name, output: path))
        }
        // All at once: the downtime waits for the slowest volume, not for the sum of them.
        do {
            try host.snapshotVolumes(requests, connectwareVersion: context.journal.plan.runningVersion.description)
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        var artifacts: [Artifact] = []
        var parts: [String] = []
        let volumes: [(short: String, name: String)]
        do { volumes = try volumesToCopy(context) } catch { return .doesNotHold(reason: error.description) }
        var copied: [(name: String, path: String)?] = []
        for (volume, name) in volumes {
            let path = snapshotPath(context, volume: volume)
            let present: Bool
            do { present = try host.volumeExists(name) } catch { return .doesNotHold(reason: error.description) }
            copied.append(!present && access(path, F_OK) != 0 ? nil : (name, path))
        }
        // Each snapshot is read back whole again, all at the same time.
        var verified = ConnectwareHost.verifySnapshots(copied.compactMap { $0.map { ($0.path, $0.name) } })
            .makeIterator()
        for (index, (_, name)) in volumes.enumerated() {
            guard let path = copied[index]?.path, let outcome = verified.next() else {
                parts.append("\(name) does not exist (nothing to copy)")
                continue
            }
            let manifest: SnapshotManifest
            do { manifest = try outcome.get() } catch {
                return .doesNotHold(reason: "the snapshot of \(name) does not verify: \(error.description)")
            }
            artifacts.append(
                Artifact(
                    kind: .volumeSnapshot, path: path, sha256: manifest.archiveSHA256 ?? "",
                    bytes: manifest.archiveBytes ?? 0, step: context.position, detail: name))
            parts.append("\(name): \(manifest.files) files, \(formatBytes(manifest.bytes)) at \(path)")
        }
        guard !artifacts.isEmpty else { return .doesNotHold(reason: "no volume was copied") }
        let listPath = Self.volumeListPath(context)
        guard let listed = Self.readVolumeList(listPath), let digest = try? sha256(ofFileAt: listPath) else {
            return .doesNotHold(reason: "the list of the project's volumes \(listPath) is missing")
        }
        let uncopied = listed.filter { name in !artifacts.contains { $0.detail == name } }
        guard uncopied.isEmpty else {
            return .doesNotHold(reason: "no verified snapshot of " + uncopied.joined(separator: ", "))
        }
        var listInfo = stat()
        artifacts.append(
            Artifact(
                kind: .projectVolumes, path: listPath, sha256: digest,
                bytes: stat(listPath, &listInfo) == 0 ? Int64(listInfo.st_size) : 0, step: context.position,
                detail: listed.joined(separator: ",")))
        switch installationFileArtifacts(context) {
        case .failure(let error): return .doesNotHold(reason: error.description)
        case .success(let files):
            artifacts += files
            if !files.isEmpty { parts.append("copied " + files.compactMap(\.detail).joined(separator: " and ")) }
        }
        switch savedImagesArtifact(context) {
        case .failure(let error): return .doesNotHold(reason: error.description)
        case .success(let saved):
            if let saved {
                artifacts.append(saved)
                parts.append("saved the images of Connectware \(context.journal.plan.runningVersion) (\(formatBytes(saved.bytes))) at \(saved.path)")
            }
        }
        return .holds(message: "snapshots verified: " + parts.joined(separator: "; "), artifacts: artifacts)
    }
}

/// `remove-volumes`: the stopped core containers are removed (the installer makes them
/// again) and then the plan's volumes, each only with a verified snapshot of it in the
/// journal; `certs` never. The library's interlocks check the same again.
public struct RemoveVolumesStep: StepRunner {
    let host: ConnectwareHost
    let target: ComposeTarget

    public init(host: ConnectwareHost, target: ComposeTarget) {
        self.host = host
        self.target = target
    }

    public func intent(_ context: StepContext) -> String {
        let names = context.journal.plan.volumes.map(target.volumeName)
        let snapshots = context.journal.artifacts.filter {
            $0.kind == .volumeSnapshot && names.contains($0.detail ?? "")
        }
        return "remove the stopped core containers of \(target.project), then DELETE the volumes "
            + names.joined(separator: " and ") + " (their snapshots: "
            + snapshots.map { "\($0.path)" }.joined(separator: ", ") + "). "
            + "\(target.volumeName("certs")) and every other volume stay."
    }

    func policy(_ context: StepContext) -> VolumePolicy {
        VolumePolicy(removable: Set(context.journal.plan.volumes.map(target.volumeName)))
    }

    func snapshot(of name: String, _ context: StepContext) -> Artifact? {
        context.journal.artifacts.first { $0.kind == .volumeSnapshot && $0.detail == name }
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        try requireFreshBackup(context)
        let installation = try discovered(host, target, context)
        let running = installation.containers.filter(\.isRunning)
        guard running.isEmpty else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason: "containers still run: " + running.map(\.name).joined(separator: ", "))
        }
        try requireNoStartSinceSnapshots(context)
        for volume in context.journal.plan.volumes {
            let name = target.volumeName(volume)
            guard installation.volume(named: name) != nil else { continue }
            guard let recorded = snapshot(of: name, context) else {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the run has no snapshot of \(name) (step snapshot-volumes)")
            }
            do throws(DockerOpsError) {
                // snapshot-volumes read it whole a moment ago: unchanged since, it is not read
                // a third time here (removeVolume reads it whole before it removes the volume).
                let manifest = try ConnectwareHost.recheckSnapshot(at: recorded.path, volume: name)
                guard manifest.archiveSHA256 == recorded.sha256 else {
                    throw DockerOpsError.snapshotNotVerified(
                        volume: name, path: recorded.path, reason: "it is not the snapshot the run recorded")
                }
                // Nothing written since the snapshot began, and PostgreSQL's data directory in it.
                if let volume = installation.volume(named: name) {
                    try host.checkSnapshotHolds(volume, manifest: manifest, snapshot: recorded.path)
                }
            } catch {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason: "the snapshot of \(name) does not verify: \(error.description)")
            }
        }
    }

    /// A snapshot is the way back only while Connectware has not run since it was begun:
    /// whether the run started it (a step that starts Connectware, begun after it) or anyone
    /// did (a core container's last start, as Docker keeps it).
    func requireNoStartSinceSnapshots(_ context: StepContext) throws(MigrationError) {
        guard
            let began = context.journal.steps.last(where: { $0.kind == .snapshotVolumes && $0.state == .done })?
                .startedAt
        else { return }
        func refuse(_ what: String, _ at: Date) -> MigrationError {
            .preconditionFailed(
                position: context.position, kind: context.step.id,
                reason:
                    "\(what) at \(Timestamp.format(at)), after the run began its snapshots at \(Timestamp.format(began)): the volumes may hold more than the snapshots, so they are not removed; roll the run back and start a new one"
            )
        }
        let starting: Set<StepKind> = [.waitHealthy, .installOlder, .upgrade, .restart]
        for (_, record) in Rollback.allSteps(context.journal)
        where starting.contains(record.kind) && (record.startedAt ?? .distantPast) > began {
            throw refuse("the run started Connectware (step \(record.position + 1) \(record.kind))", record.startedAt!)
        }
        let started: Date?
        do { started = try host.lastStart(project: target.project) } catch {
            throw .preconditionFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        if let started, started > began { throw refuse("Connectware was started again", started) }
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        do {
            try host.removeContainers(try host.discover(project: target.project))
            for volume in context.journal.plan.volumes {
                let name = target.volumeName(volume)
                guard try host.volumeExists(name), let recorded = snapshot(of: name, context) else { continue }
                try host.removeVolume(name, snapshot: recorded.path, policy: policy(context))
            }
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        var left: [String] = []
        do {
            for volume in context.journal.plan.volumes where try host.volumeExists(target.volumeName(volume)) {
                left.append(target.volumeName(volume))
            }
        } catch { return .doesNotHold(reason: error.description) }
        guard left.isEmpty else { return .doesNotHold(reason: "still there: " + left.joined(separator: ", ")) }
        let certs = (try? host.volumeExists(target.volumeName("certs"))) ?? false
        return .holds(
            message: "removed "
                + context.journal.plan.volumes.map(target.volumeName).joined(separator: ", ")
                + (certs ? "; \(target.volumeName("certs")) is still there" : ""),
            artifacts: [])
    }
}

/// `install-older` and `upgrade`: installs each version the step passes through, in
/// order, waiting for Connectware to come up at each (an upgrade stop migrates the
/// database on its start). The postcondition reads the running version back.
public struct InstallStep: StepRunner {
    let host: ConnectwareHost
    let client: MaintenanceClient
    let target: ComposeTarget

    public init(host: ConnectwareHost, client: MaintenanceClient, target: ComposeTarget) {
        self.host = host
        self.client = client
        self.target = target
    }

    /// The versions installed by the step at `context.position`, in order.
    func versions(_ context: StepContext) -> [Version] {
        let plan = context.journal.plan
        if context.step.id == .installOlder { return plan.restoreVersion.map { [$0] } ?? [] }
        return plan.upgradePath.isEmpty ? [plan.runningVersion] : plan.upgradePath
    }

    public func intent(_ context: StepContext) -> String {
        let versions = versions(context).map(\.description).joined(separator: " then ")
        let how =
            target.strategy == .installer
            ? "with the installer from \(target.installerDirectory)/VERSION (it replaces the containers of \(target.project) and deletes the images of other Connectware versions)"
            : "from the saved images"
        return "install Connectware \(versions) in \(target.directory) \(how), and start it; the volumes stay."
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        let versions = versions(context)
        guard !versions.isEmpty else {
            throw .preconditionFailed(
                position: context.position, kind: context.step.id, reason: "the plan names no version to install")
        }
        for version in versions {
            do { _ = try host.checkInstall(target.installRequest(version)) } catch {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id, reason: error.description)
            }
        }
        // The older version initialises empty volumes: the originals must be gone (in the
        // run's snapshots), not silently used. A repeated attempt clears what it left itself.
        if context.step.id == .installOlder, context.record.attempts == 0 {
            var left: [String] = []
            do {
                for volume in context.journal.plan.volumes where try host.volumeExists(target.volumeName(volume)) {
                    left.append(target.volumeName(volume))
                }
            } catch {
                throw .preconditionFailed(position: context.position, kind: context.step.id, reason: error.description)
            }
            guard left.isEmpty else {
                throw .preconditionFailed(
                    position: context.position, kind: context.step.id,
                    reason:
                        "the volumes \(left.joined(separator: ", ")) should be gone (step remove-volumes) but are there"
                )
            }
        }
    }

    /// The versions still to install: a repeated upgrade starts at the stop the installation
    /// is at now (after it, when that stop runs and answers), never again from the first stop
    /// over a database already migrated further.
    func remainingVersions(_ context: StepContext) -> [Version] {
        let all = versions(context)
        guard context.step.id == .upgrade, context.record.attempts > 1,
            let installation = try? host.discover(project: target.project),
            let current = installation.version, let reached = all.lastIndex(of: current)
        else { return all }
        let up = !installation.containers.isEmpty && installation.containers.allSatisfy(\.isRunning) && client.answers()
        return Array(all[(up ? reached + 1 : reached)...])
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        if context.step.id == .installOlder, context.record.attempts > 1 { try startAfresh(context) }
        let kept = ImagesBeforeShutdown(host: host, target: target)
        for version in remainingVersions(context) {
            do {
                // The images kept before the shutdown get their names back: the installer
                // then finds them instead of downloading them inside the window.
                if target.strategy == .installer { _ = try kept.restoreKept(version) }
                try host.install(target.installRequest(version))
                try host.waitUntilHealthy(
                    project: target.project, within: target.healthySeconds, pollEvery: ConnectwareHost.healthPoll
                ) { client.answers() || client.refused != nil }
            } catch {
                throw .stepFailed(
                    position: context.position, kind: context.step.id,
                    reason: "installing \(version): \(error.description)")
            }
            try requireAccepted(client, context)
        }
        if context.step.id == .upgrade {
            // Back at the running version: the keep tags have done their work.
            do { try kept.dropKept(context.journal.plan.runningVersion) } catch {
                throw .stepFailed(
                    position: context.position, kind: context.step.id,
                    reason: "removing the keep tags of \(context.journal.plan.runningVersion): \(error.description)")
            }
        }
    }

    /// An install of the older version that was interrupted may have left a database half
    /// initialised in the new, empty volumes. Those volumes hold nothing yet (the originals
    /// are gone, in the run's snapshots, and the restore comes later), so they are removed
    /// with the containers and the install starts from where remove-volumes left it.
    func startAfresh(_ context: StepContext) throws(MigrationError) {
        let journal = context.journal
        guard journal.steps.contains(where: { $0.kind == .removeVolumes && $0.state == .done }) else { return }
        do {
            // A container that compose was still making can appear after the first look.
            for _ in 0..<3 {
                guard let installation = try? host.discover(project: target.project),
                    !installation.containers.isEmpty
                else { break }
                try host.stop(installation, timeout: target.stopTimeout)
                try host.removeContainers(installation)
            }
            let policy = VolumePolicy(removable: Set(journal.plan.volumes.map(target.volumeName)))
            for volume in journal.plan.volumes {
                let name = target.volumeName(volume)
                guard try host.volumeExists(name),
                    let snapshot = journal.artifacts.first(where: { $0.kind == .volumeSnapshot && $0.detail == name })
                else { continue }
                // These volumes are the interrupted install's new ones, newer than the snapshot
                // by nature; what they replaced is in the snapshot.
                try host.removeVolume(
                    name, snapshot: snapshot.path, policy: policy, acceptingChangesSinceSnapshot: true)
            }
        } catch {
            throw .stepFailed(
                position: context.position, kind: context.step.id,
                reason: "clearing what the interrupted install left: \(error.description)")
        }
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let installation: Installation
        do { installation = try host.discover(project: target.project) } catch {
            return .doesNotHold(reason: error.description)
        }
        guard !installation.containers.isEmpty else {
            return .doesNotHold(reason: "project \(target.project) has no core containers")
        }
        guard installation.version == context.expectedVersion else {
            return .doesNotHold(
                reason:
                    "the containers are of \(installation.version?.description ?? "mixed versions"), not \(context.expectedVersion)"
            )
        }
        let stopped = installation.containers.filter { !$0.isRunning }
        guard stopped.isEmpty else {
            return .doesNotHold(
                reason: "Connectware \(context.expectedVersion) is installed but not running: "
                    + stopped.map(\.name).joined(separator: ", "))
        }
        // An install interrupted in its compose run can leave containers that never start:
        // only an answering API says it is done, else it is done again (the installer resets them).
        guard client.answers() else {
            return .doesNotHold(
                reason: "Connectware \(context.expectedVersion) is installed but its maintenance API does not answer")
        }
        // An upgrade ends by removing the keep tags; one interrupted after its install but before
        // that is done again (its installs are then skipped), so no finished run leaves them.
        if context.step.id == .upgrade {
            let left = ImagesBeforeShutdown(host: host, target: target)
                .keepTags(context.journal.plan.runningVersion).filter(host.imageExists)
            guard left.isEmpty else {
                return .doesNotHold(reason: "the keep tags \(left.joined(separator: ", ")) are still there")
            }
        }
        let through =
            host.systemdUnit().map { " (started by the installer through the systemd unit \($0.path))" } ?? ""
        return .holds(
            message: "Connectware \(context.expectedVersion) installed and started in \(target.directory)\(through)",
            artifacts: [])
    }
}

/// A wait for Connectware ends at once when it refuses the credentials; the step then
/// stops (and the run pauses with the fix) instead of waiting for a healthy that never comes.
func requireAccepted(_ client: MaintenanceClient, _ context: StepContext) throws(MigrationError) {
    guard client.refused != nil else { return }
    throw .stepFailed(
        position: context.position, kind: context.step.id, reason: "Connectware refused the credentials")
}

/// `restart`: the vendor recommends a restart after a restore; stop and start again.
public struct RestartStep: StepRunner {
    let host: ConnectwareHost
    let client: MaintenanceClient
    let target: ComposeTarget

    public init(host: ConnectwareHost, client: MaintenanceClient, target: ComposeTarget) {
        self.host = host
        self.client = client
        self.target = target
    }

    public func intent(_ context: StepContext) -> String {
        "restart every container of project \(target.project); Connectware is unavailable for a moment."
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        _ = try discovered(host, target, context)
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        do {
            try host.stop(try host.discover(project: target.project), timeout: target.stopTimeout)
            try host.start(project: target.project, directory: target.directory)
            try host.waitUntilHealthy(
                project: target.project, within: target.healthySeconds, pollEvery: ConnectwareHost.healthPoll
            ) { client.answers() || client.refused != nil }
        } catch {
            throw .stepFailed(position: context.position, kind: context.step.id, reason: error.description)
        }
        try requireAccepted(client, context)
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        try WaitHealthyStep(host: host, client: client, project: target.project, seconds: 0).verify(context)
    }
}
