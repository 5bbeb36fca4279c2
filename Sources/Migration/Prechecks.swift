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

/// One check of `migrate --precheck-only`: its name, pass, fail or skip (when what it
/// needs failed), and one line saying what was found.
public struct CheckResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case pass, fail, skip }

    public var name: String
    public var status: Status
    public var detail: String

    public init(_ name: String, _ status: Status, _ detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}

/// The checks a migration needs to pass before it changes anything; none of them changes
/// the installation, Connectware, or the state directory.
public enum Prechecks {
    /// The backup file inspected and read to its end.
    public static func backupFile(_ path: String, assumedVersion: Version?) -> (CheckResult, ArchiveFacts?) {
        do {
            let facts = try inspectBackup(
                at: path, options: InspectOptions(verify: true, assumedVersion: assumedVersion))
            let id = facts.backupID.map { ", id \($0)" } ?? ", no backup id"
            return (
                CheckResult(
                    "backup file", .pass,
                    "\(path): Connectware \(facts.version)\(id), verified to its end (SHA-256 \(facts.sha256 ?? "unknown"))"
                ), facts
            )
        } catch {
            return (CheckResult("backup file", .fail, error.description), nil)
        }
    }

    /// The Docker Engine answers on its socket.
    public static func docker(environment: [String: String]) -> (CheckResult, ConnectwareHost?) {
        do {
            let host = try ConnectwareHost(environment: environment)
            return (
                CheckResult(
                    "docker", .pass,
                    "Engine \(host.engine.engineVersion) (API \(host.engine.apiVersion)) at \(host.engine.host.description)"
                ), host
            )
        } catch {
            return (CheckResult("docker", .fail, error.description), nil)
        }
    }

    /// Connectware's compose project is found, with one version on every image.
    public static func installation(_ host: ConnectwareHost?, project: String?) -> (CheckResult, Installation?) {
        guard let host else { return (CheckResult("installation", .skip, "needs Docker"), nil) }
        do {
            let found = try host.discover(project: project, includeSizes: true)
            guard let version = found.version else {
                let versions = found.imageVersions.keys.sorted().joined(separator: ", ")
                return (
                    CheckResult(
                        "installation", .fail,
                        "project \(found.project) runs mixed or unknown versions (\(versions.isEmpty ? "none" : versions))"
                    ),
                    found
                )
            }
            let running = found.containers.filter(\.isRunning).count
            return (
                CheckResult(
                    "installation", .pass,
                    "project \(found.project) in \(found.workingDirectory ?? "an unknown directory"), Connectware \(version), \(running) of \(found.containers.count) core containers running"
                        + (found.systemdUnit.map {
                            "; run by the systemd unit \($0.path): stopped and started with systemctl, and the installer starts it"
                        } ?? "")
                ), found
            )
        } catch {
            return (CheckResult("installation", .fail, error.description), nil)
        }
    }

    /// The maintenance API answers with these credentials, and nothing runs there now.
    public static func api(_ client: MaintenanceClient) -> CheckResult {
        do {
            let status = try client.status()
            guard !status.running else {
                return CheckResult(
                    "connectware api", .fail,
                    "\(client.baseURL) answers, but a backup or restore is running now; wait for it (cwmigrate status)")
            }
            return CheckResult(
                "connectware api", .pass, "\(client.baseURL) answers and accepts the credentials; nothing is running")
        } catch {
            return CheckResult("connectware api", .fail, error.description)
        }
    }

    /// The versions the plan installs, in order, and the one a rollback installs again
    /// (the running version, when the plan installs any other).
    public static func versionsOnTheWayAndBack(_ plan: Plan) -> [Version] {
        var versions: [Version] = []
        if plan.steps.contains(where: { $0.id == .installOlder }), let restore = plan.restoreVersion {
            versions.append(restore)
        }
        if plan.steps.contains(where: { $0.id == .upgrade }) { versions += plan.upgradePath }
        if !versions.isEmpty, !versions.contains(plan.runningVersion) { versions.append(plan.runningVersion) }
        return versions
    }

    /// Every version the plan installs, and the running version a rollback installs again,
    /// can be installed with the plan's strategy.
    public static func installStrategy(
        _ host: ConnectwareHost, plan: Plan, installation: Installation, installerDirectory: String
    ) -> CheckResult {
        let versions = versionsOnTheWayAndBack(plan)
        guard !versions.isEmpty else {
            return CheckResult("install strategy", .pass, "the plan installs no other version")
        }
        guard let directory = installation.workingDirectory else {
            return CheckResult("install strategy", .fail, "the compose project's directory is unknown")
        }
        var found: [String] = []
        var problems: [String] = []
        for version in versions {
            let request = installRequest(
                version, plan: plan, installation: installation, directory: directory,
                installerDirectory: installerDirectory)
            let role = version == plan.runningVersion ? " (the version a rollback installs)" : ""
            do {
                let check = try host.checkInstall(request)
                var text = "\(version)\(role): \(plan.installStrategy.rawValue) ready"
                if !check.imagesMissing.isEmpty { text += " (\(check.imagesMissing.count) images to obtain)" }
                found.append(text + check.warnings.map { "; note: \($0)" }.joined())
            } catch {
                problems.append("\(version)\(role): \(error.description)")
            }
        }
        return problems.isEmpty
            ? CheckResult("install strategy", .pass, found.joined(separator: "; "))
            : CheckResult("install strategy", .fail, problems.joined(separator: "; "))
    }

    /// The versions the plan's installs pull with the vendor's installer (the older version,
    /// then each stop of the upgrade; the rollback's version comes from the run's saved images).
    static func versionsPulled(_ plan: Plan) -> [Version] {
        guard plan.installStrategy == .installer else { return [] }
        var versions: [Version] = []
        if plan.steps.contains(where: { $0.id == .installOlder }), let restore = plan.restoreVersion {
            versions.append(restore)
        }
        if plan.steps.contains(where: { $0.id == .upgrade }) {
            versions += plan.upgradePath.isEmpty ? [plan.runningVersion] : plan.upgradePath
        }
        return versions
    }

    /// The registry the installation's images come from has every tag the plan's installs pull,
    /// and accepts the installation's credentials (`CYBUS_REGISTRY_USER`, default `license`, and
    /// the license key `CYBUS_REGISTRY_PASS` of `.env`, as the vendor's installer logs in): asked
    /// with the Registry HTTP API v2 (`GET /v2/<name>/tags/list`, Basic auth or a bearer token)
    /// before anything is changed. The images are exactly the ones each version's installer
    /// (in `installerDirectory`) pulls, read from the compose file it carries: an older
    /// version's own services are asked for, a service only the running version has is not.
    /// An installer that names no image falls back to the running compose file's images at
    /// that version (said in the result), whatever their registry host (a mirror too).
    public static func registry(
        _ host: ConnectwareHost, plan: Plan, installation: Installation, installerDirectory: String
    ) -> CheckResult {
        let versions = versionsPulled(plan)
        guard !versions.isEmpty else {
            return CheckResult(
                "registry", .pass,
                plan.installStrategy == .installer
                    ? "the plan pulls no image" : "the plan installs from saved images and pulls nothing")
        }
        guard let directory = installation.workingDirectory else {
            return CheckResult("registry", .fail, "the compose project's directory is unknown")
        }
        var fromCompose: [String] = []
        let references = versions.flatMap { version in
            let request = installRequest(
                version, plan: plan, installation: installation, directory: directory,
                installerDirectory: installerDirectory)
            if ConnectwareHost.installerImages(request.installer ?? "", version: version.description) == nil {
                fromCompose.append(version.description)
            }
            return host.wantedImages(request)
        }.compactMap(ImageReference.init)
        guard !references.isEmpty else {
            return CheckResult(
                "registry", .fail, "\(directory)/docker-compose.yml names no <registry>/cybus/<image> image")
        }
        let envPath = directory + "/.env"
        guard let text = try? String(contentsOfFile: envPath, encoding: .utf8) else {
            return CheckResult(
                "registry", .fail,
                "\(envPath) cannot be read (\(systemError())), so the registry credentials the installer uses are unknown")
        }
        let settings = RunCredentials.envSettings(text)
        let user = settings["CYBUS_REGISTRY_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "license"
        guard let key = settings["CYBUS_REGISTRY_PASS"], !key.isEmpty else {
            return CheckResult(
                "registry", .fail,
                "\(envPath) has no CYBUS_REGISTRY_PASS: the installer has no license key to log in to the registry with")
        }
        var found: [String] = []
        for registry in Array(Set(references.map(\.registry))).sorted() {
            let wanted = references.filter { $0.registry == registry }
            do {
                try RegistryClient(registry: registry, user: user, password: key).requireTags(wanted)
            } catch {
                return CheckResult("registry", .fail, error.description)
            }
            found.append(
                "\(registry) has the \(wanted.count) images of \(versions.map(\.description).joined(separator: ", ")) for user \(user)"
            )
        }
        if !fromCompose.isEmpty {
            found.append(
                "the installer of \(fromCompose.joined(separator: ", ")) names no image, so the running compose file's services were asked for"
            )
        }
        return CheckResult("registry", .pass, found.joined(separator: "; "))
    }

    /// The registry user (`CYBUS_REGISTRY_USER`, default `license`) and license key
    /// (`CYBUS_REGISTRY_PASS`) of the installation's `.env`, as the vendor's installer logs in;
    /// nil when the file cannot be read or holds no key.
    static func registryCredentials(directory: String) -> (user: String, key: String)? {
        guard let text = try? String(contentsOfFile: directory + "/.env", encoding: .utf8) else { return nil }
        let settings = RunCredentials.envSettings(text)
        guard let key = settings["CYBUS_REGISTRY_PASS"], !key.isEmpty else { return nil }
        return (settings["CYBUS_REGISTRY_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "license", key)
    }

    /// Unpacked layers take about this many times their compressed size in the registry.
    static let unpackFactor: Int64 = 3

    /// Sizes, from the registry that serves them, the images nothing on the host tells the size
    /// of (a service only the older version has, pruned here long ago): the compressed bytes of
    /// their manifests, times `unpackFactor`. The ones the registry cannot size stay unknown.
    static func sizeFromRegistry(_ space: inout ImageSpace, directory: String) {
        guard !space.unknown.isEmpty, let (user, key) = registryCredentials(directory: directory) else { return }
        var clients: [String: RegistryClient] = [:]
        var unknown: [String] = []
        for image in space.unknown {
            guard let reference = ImageReference(image), let tag = reference.tag else {
                unknown.append(image)
                continue
            }
            let client =
                clients[reference.registry] ?? RegistryClient(registry: reference.registry, user: user, password: key)
            clients[reference.registry] = client
            guard let stored = try? client.storedBytes(of: reference.repository, tag: tag) else {
                unknown.append(image)
                continue
            }
            space.bytes += stored * unpackFactor
            space.sources.append(
                "\(image) (\(formatBytes(stored * unpackFactor)): \(formatBytes(stored)) compressed in its registry, times \(unpackFactor))")
        }
        space.unknown = unknown
    }

    /// How the plan installs `version` into the installation.
    static func installRequest(
        _ version: Version, plan: Plan, installation: Installation, directory: String, installerDirectory: String
    ) -> InstallRequest {
        InstallRequest(
            version: version.description, strategy: plan.installStrategy, directory: directory,
            project: installation.project,
            installer: installerDirectory + "/\(version)/connectware-online-installer.sh",
            imageArchive: plan.settings["imageDir"].map { $0 + "/connectware-\(version).tar" })
    }

    /// Room in the state directory for everything the run and its rollback write: the run's
    /// copy of the backup (unless made already), the fresh backup and the re-backup (each
    /// judged by the size of the backup being restored), the snapshots of every volume of the
    /// project (the plan's and the others an install may change) at their real sizes, and as much again for the snapshots a rollback takes of what the
    /// volumes hold then; plus a tenth.
    /// With `host`, also the room in the Docker data root for the images of every version on the
    /// way and back that are not on the host (`ImageSpace`), and, for volumes read through a
    /// helper container, their staged tars in the run's directory; when the data root and the
    /// state directory share a file system, one sum is held against its free space.
    /// Also says what the keep tags of earlier runs hold in the Docker data root (`KeptImages`),
    /// and how to free it when no unfinished run needs them.
    public static func freeDisk(
        _ store: JournalStore, plan: Plan, installation: Installation, backupBytes: Int64, backupCopied: Bool = false,
        host: ConnectwareHost? = nil, installerDirectory: String? = nil
    ) -> CheckResult {
        var result = roomNeeded(
            store, plan: plan, installation: installation, backupBytes: backupBytes, backupCopied: backupCopied,
            host: host, installerDirectory: installerDirectory)
        if let host, let kept = (try? KeptImages.find(on: host, store: store))?.summary {
            result.detail += "; " + kept
        }
        return result
    }

    static func roomNeeded(
        _ store: JournalStore, plan: Plan, installation: Installation, backupBytes: Int64, backupCopied: Bool,
        host: ConnectwareHost?, installerDirectory: String?
    ) -> CheckResult {
        var parts: [String] = []
        var needed: Int64 = 0
        if !backupCopied {
            needed += backupBytes
            parts.append("the run's copy of the backup \(formatBytes(backupBytes))")
        }
        let backups = plan.steps.filter { $0.id == .freshBackup || $0.id == .reBackup }.count
        if backups > 0 {
            needed += Int64(backups) * backupBytes
            parts.append("\(backups) backup\(backups == 1 ? "" : "s") of about \(formatBytes(backupBytes))")
        }
        if plan.steps.contains(where: { $0.id == .snapshotVolumes }) {
            var unknown: [String] = []
            // The plan's volumes and every other volume of the project: the run snapshots each.
            let others = installation.volumes.map(\.shortName).filter { !plan.volumes.contains($0) }
            for name in plan.volumes + others {
                let volume = installation.volumes.first { $0.shortName == name }
                if let size = volume?.sizeBytes {
                    // Once for the run's snapshot, once for the rollback's snapshot of what replaced it.
                    needed += 2 * size
                    parts.append("2 snapshots of \(volume?.name ?? name) \(formatBytes(size))")
                    if host != nil, let volume, !(volume.options ?? [:]).isEmpty || volume.driver != "local" {
                        // Read through a helper container: the volume is staged whole beside its snapshot.
                        needed += size
                        parts.append("its staged tar \(formatBytes(size))")
                    }
                } else if volume != nil {
                    unknown.append(volume?.name ?? name)
                }
            }
            if !unknown.isEmpty {
                return CheckResult(
                    "free disk", .fail,
                    "the size of \(unknown.joined(separator: ", ")) cannot be told, so the room its snapshots need cannot be checked"
                )
            }
        }
        // The run saves the running version's images before the installer deletes them.
        if let host, let directory = installation.workingDirectory, !versionsPulled(plan).isEmpty,
            plan.steps.contains(where: { $0.id == .snapshotVolumes })
        {
            let running = host.images(of: plan.runningVersion.description, directory: directory)
            guard let bytes = host.imageBytes(running) else {
                return CheckResult(
                    "free disk", .fail,
                    "the images of Connectware \(plan.runningVersion) are not all on this host, so they cannot be saved for a rollback: \(running.filter { !host.imageExists($0) }.joined(separator: ", "))"
                )
            }
            needed += bytes
            parts.append("the saved images of \(plan.runningVersion) \(formatBytes(bytes))")
        }
        var images = ImageSpace()
        var dataRoot: String?
        if let host, let directory = installation.workingDirectory {
            do {
                for version in versionsOnTheWayAndBack(plan) {
                    var found = try host.imageSpace(
                        installRequest(
                            version, plan: plan, installation: installation, directory: directory,
                            installerDirectory: installerDirectory ?? ""))
                    if plan.installStrategy == .installer { sizeFromRegistry(&found, directory: directory) }
                    images.bytes += found.bytes
                    images.sources += found.sources
                    images.unknown += found.unknown
                }
                dataRoot = try host.dataRoot()
            } catch {
                return CheckResult("free disk", .fail, "the images the run obtains cannot be sized: \(error.description)")
            }
            if !images.unknown.isEmpty {
                return CheckResult(
                    "free disk", .fail,
                    "the size of \(images.unknown.joined(separator: ", ")) cannot be told (no other tag of it on this host, no image archive), so the room it needs cannot be checked"
                )
            }
        }
        guard let (place, free) = freeBytes(near: store.directory) else {
            return CheckResult("free disk", .fail, "cannot tell the free space at \(store.directory): \(systemError())")
        }
        let imagesText = images.sources.isEmpty ? "none to obtain" : images.sources.joined(separator: ", ")
        guard let dataRoot, let (rootPlace, rootFree) = freeBytes(near: dataRoot) else {
            let required = needed + needed / 10
            let detail =
                "needs about \(formatBytes(required)) (\(parts.isEmpty ? "nothing" : parts.joined(separator: ", ")), plus a tenth); \(formatBytes(free)) free at \(place)"
            return CheckResult("free disk", free >= required ? .pass : .fail, detail)
        }
        if sameFileSystem(place, rootPlace) {
            needed += images.bytes
            parts.append("images in \(dataRoot): \(imagesText)")
            let required = needed + needed / 10
            let detail =
                "needs about \(formatBytes(required)) (\(parts.isEmpty ? "nothing" : parts.joined(separator: ", ")), plus a tenth); \(formatBytes(free)) free at \(place), which holds the Docker data root too"
            return CheckResult("free disk", free >= required ? .pass : .fail, detail)
        }
        let required = needed + needed / 10
        let imagesRequired = images.bytes + images.bytes / 10
        let detail =
            "needs about \(formatBytes(required)) (\(parts.isEmpty ? "nothing" : parts.joined(separator: ", ")), plus a tenth); \(formatBytes(free)) free at \(place); "
            + "the Docker data root \(dataRoot) needs about \(formatBytes(imagesRequired)) for images (\(imagesText), plus a tenth); \(formatBytes(rootFree)) free at \(rootPlace)"
        return CheckResult("free disk", free >= required && rootFree >= imagesRequired ? .pass : .fail, detail)
    }

    static func sameFileSystem(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev
    }

    /// The state directory can be written (or created, where it does not exist yet).
    public static func stateDirectory(_ store: JournalStore) -> CheckResult {
        var path = store.directory
        var exists = true
        while access(path, F_OK) != 0 {
            exists = false
            path = deletingLastPathComponent(path)
            if path.isEmpty { path = "/" }
        }
        guard access(path, W_OK | X_OK) == 0 else {
            return CheckResult("state directory", .fail, "\(path) is not writable for this user: \(systemError())")
        }
        return CheckResult(
            "state directory", .pass,
            exists ? "\(store.directory) is writable" : "\(store.directory) will be created in \(path)")
    }

    /// No other process holds the installation's lock.
    public static func lock(_ store: JournalStore, _ installation: InstallationRef) -> CheckResult {
        do {
            switch try RunLock.state(of: installation, in: store) {
            case .free: return CheckResult("lock", .pass, "no other run holds the lock of \(installation)")
            case .held(let holder):
                return CheckResult(
                    "lock", .fail,
                    "another run holds the lock of \(installation)" + (holder.map { " (\($0))" } ?? "")
                        + "; wait for it to end")
            }
        } catch {
            return CheckResult("lock", .fail, error.description)
        }
    }

    /// No earlier run against the installation was left unfinished (`except`: the run
    /// being checked), and every journal in the state directory can be read: one that
    /// cannot may be an unfinished run of this installation.
    public static func unfinishedRuns(_ store: JournalStore, _ installation: InstallationRef, except: String? = nil)
        -> CheckResult
    {
        let list: RunList
        do { list = try store.list() } catch {
            return CheckResult("earlier runs", .fail, error.description)
        }
        if let unreadable = list.unreadable.first {
            return CheckResult(
                "earlier runs", .fail,
                "\(unreadable.description); it may be an unfinished run, so no new run starts until it is looked at and moved out of \(store.runsDirectory)"
            )
        }
        let open = list.runs.filter {
            $0.installation.lockKey == installation.lockKey && !$0.outcome.isFinal && $0.id != except
        }
        guard let last = open.last else {
            return CheckResult("earlier runs", .pass, "no unfinished run for \(installation) in \(store.directory)")
        }
        let at = last.currentStep.map { " at step \($0.position + 1) \($0.kind) (\($0.state.rawValue))" } ?? ""
        return CheckResult(
            "earlier runs", .fail,
            "run \(last.id) is unfinished (\(last.outcome.rawValue)\(at)): resume it, or end it with cwmigrate runs abandon \(last.id)"
        )
    }

    /// The checks of the plan's volumes, each by its name, as a run makes them before its
    /// shutdown and `--precheck-only` lists them:
    /// - `bind mounts`: their data is in Docker volumes, not in a host directory bound where a
    ///   volume belongs (it would be neither snapshotted nor removed, nor put back);
    /// - `volume access`: how each is read (at its mount point, or through a helper container
    ///   when it has driver options or its mount point is out of reach) and that an image for
    ///   the helper is on the host;
    /// - `postgresql data`: the postgresql volume holds a data directory (`PG_VERSION`), without
    ///   which its snapshot is refused as the way back;
    /// - `volume times`: no entry changed later than now (a clock set back, a file stamped in
    ///   the future), which would make every snapshot look outdated at remove-volumes, after
    ///   the shutdown.
    public static func volumeChecks(_ host: ConnectwareHost, project: String, plan: Plan) -> [CheckResult] {
        var checks: [CheckResult] = []
        do {
            try host.refuseBindMounts(project: project, volumes: plan.volumes)
            checks.append(
                CheckResult(
                    "bind mounts", .pass, "\(plan.volumes.joined(separator: ", ")) keep their data in Docker volumes"))
        } catch {
            checks.append(CheckResult("bind mounts", .fail, error.description))
        }
        var found: [VolumeReadiness] = []
        var problems: [String] = []
        let names: [String]
        do {
            let volumes = try host.discover(project: project).volumes
            names = plan.volumes.compactMap { short in volumes.first { $0.shortName == short }?.name }
        } catch {
            return checks + ["volume access", "postgresql data", "volume times"].map {
                CheckResult($0, .fail, error.description)
            }
        }
        for name in names {
            do { found.append(try host.readiness(of: name)) } catch { problems.append(error.description) }
        }
        guard problems.isEmpty else {
            return checks + ["volume access", "postgresql data", "volume times"].map {
                CheckResult($0, .fail, problems.joined(separator: "; "))
            }
        }
        checks.append(volumeAccess(found))
        checks.append(postgreSQLData(found))
        checks.append(volumeTimes(found))
        return checks
    }

    static func volumeAccess(_ found: [VolumeReadiness]) -> CheckResult {
        let missing = found.filter { $0.throughHelper && $0.helperImage == nil }.map(\.volume)
        guard missing.isEmpty else {
            return CheckResult(
                "volume access", .fail,
                "\(missing.joined(separator: ", ")) can only be read through a helper container, and there is no image on the host to make one from"
            )
        }
        let parts = found.map { readiness in
            guard readiness.throughHelper else { return "\(readiness.volume) at its mount point" }
            let options = readiness.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let why = options.isEmpty ? "its mount point is out of reach" : "driver options " + options.joined(separator: ",")
            return "\(readiness.volume) through a helper container (\(why); image \(readiness.helperImage ?? "?"))"
        }
        return CheckResult("volume access", .pass, parts.isEmpty ? "no volume to read" : parts.joined(separator: "; "))
    }

    static func postgreSQLData(_ found: [VolumeReadiness]) -> CheckResult {
        guard let postgreSQL = found.first(where: { $0.holdsPostgreSQLData != nil }) else {
            let helperless = found.contains { $0.throughHelper && $0.helperImage == nil }
            return CheckResult(
                "postgresql data", helperless ? .fail : .pass,
                helperless ? "cannot be looked at without a helper container" : "the plan removes no postgresql volume")
        }
        return postgreSQL.holdsPostgreSQLData == true
            ? CheckResult("postgresql data", .pass, "\(postgreSQL.volume) holds a PostgreSQL data directory (PG_VERSION)")
            : CheckResult(
                "postgresql data", .fail,
                "\(postgreSQL.volume) holds no PG_VERSION: it is not a PostgreSQL data directory, so its snapshot would not count as the way back"
            )
    }

    static func volumeTimes(_ found: [VolumeReadiness]) -> CheckResult {
        var parts: [String] = []
        for readiness in found {
            guard let readAt = readiness.readAt else {
                parts.append("\(readiness.volume) is read whole only by its snapshot (through a helper container)")
                continue
            }
            guard let time = readiness.newestChangeTime, let entry = readiness.newestChange else {
                parts.append("\(readiness.volume) is empty")
                continue
            }
            if readAt.precedes(time, wholeSecondsOnly: false) {
                return CheckResult(
                    "volume times", .fail,
                    "\(readiness.volume): \(entry) changed at \(time.text), later than now (\(readAt.text)): every snapshot of it would look outdated when the run removes it; set the clock right or touch the entry"
                )
            }
            parts.append("\(readiness.volume): newest change \(time.text), not later than now")
        }
        return CheckResult("volume times", .pass, parts.isEmpty ? "no volume to read" : parts.joined(separator: "; "))
    }

    /// A plan an EXAMPLE barrier decided (illustration data, as in examples/compat-example.yml)
    /// deletes volumes only with someone at the keyboard confirming each step, or when the
    /// operator said the example data is meant (`--accept-example-data`); nil for a plan no
    /// example data decided.
    public static func exampleData(_ plan: Plan, unattended: Bool, accepted: Bool) -> CheckResult? {
        guard plan.exampleData else { return nil }
        if accepted {
            return CheckResult("example data", .pass, "an EXAMPLE barrier decided the plan; accepted (--accept-example-data)")
        }
        guard unattended else {
            return CheckResult(
                "example data", .pass, "an EXAMPLE barrier decided the plan; the operator confirms each step that changes the installation")
        }
        return CheckResult(
            "example data", .fail,
            "an EXAMPLE barrier (illustration data, not a known Connectware barrier) decided this plan, which deletes volumes: an unattended run (--yes) does not act on it unless --accept-example-data says it is meant (--no-example-data leaves it out)"
        )
    }

    /// The checks of a real run, made by `MigrationRun` before its first destructive step
    /// (under the run's lock, so the lock itself is not checked): the installation is the
    /// run's, in the directory the run recorded; Connectware answers and is idle; every
    /// version on the way and back can be installed; there is room for every file the run
    /// and a rollback write; the state directory can be written; no other run is unfinished.
    public static func forRun(
        _ journal: Journal, host: ConnectwareHost, client: MaintenanceClient, store: JournalStore,
        installerDirectory: String, unattended: Bool = false, acceptingExampleData: Bool = false
    ) -> [CheckResult] {
        var checks: [CheckResult] = []
        if let example = exampleData(journal.plan, unattended: unattended, accepted: acceptingExampleData) {
            checks.append(example)
        }
        let (found, installation) = Self.installation(host, project: journal.installation.name)
        if let installation, found.status == .pass,
            installation.workingDirectory == nil || installation.workingDirectory != journal.installation.directory
        {
            checks.append(
                CheckResult(
                    "installation", .fail,
                    "project \(installation.project) is in \(installation.workingDirectory ?? "a directory Docker does not name"), but the run was made for \(journal.installation.directory ?? "an unknown directory")"
                ))
        } else {
            checks.append(found)
        }
        checks.append(api(client))
        if let installation {
            checks.append(
                installStrategy(
                    host, plan: journal.plan, installation: installation, installerDirectory: installerDirectory))
            checks.append(
                registry(
                    host, plan: journal.plan, installation: installation, installerDirectory: installerDirectory))
            var info = stat()
            let bytes = stat(journal.backup.path, &info) == 0 ? Int64(info.st_size) : 0
            checks.append(
                freeDisk(
                    store, plan: journal.plan, installation: installation, backupBytes: bytes,
                    backupCopied: journal.backup.original != nil, host: host, installerDirectory: installerDirectory))
        } else {
            checks.append(CheckResult("install strategy", .skip, "needs the installation"))
            checks.append(CheckResult("registry", .skip, "needs the installation"))
            checks.append(CheckResult("free disk", .skip, "needs the installation"))
        }
        checks.append(stateDirectory(store))
        checks.append(unfinishedRuns(store, journal.installation, except: journal.id))
        if journal.plan.steps.contains(where: { $0.id == .snapshotVolumes }) {
            checks += volumeChecks(host, project: journal.installation.name, plan: journal.plan)
        }
        return checks
    }

    /// The nearest existing directory at or above `path`, and the bytes free there for this user.
    public static func freeBytes(near path: String) -> (String, Int64)? {
        var place = path
        while access(place, F_OK) != 0 {
            place = deletingLastPathComponent(place)
            if place.isEmpty { place = "/" }
        }
        var info = statvfs()
        guard statvfs(place, &info) == 0 else { return nil }
        return (place, Int64(info.f_bavail) * Int64(info.f_frsize))
    }
}

extension InstallationRef {
    /// A compose installation as DockerOps found it.
    public init(_ installation: Installation) {
        self.init(kind: .dockerCompose, name: installation.project, directory: installation.workingDirectory)
    }
}

extension RunHost {
    /// This machine: its host name and the ID of the Docker Engine `host` talks to (nil
    /// when the engine does not tell it).
    public init(_ host: ConnectwareHost) {
        self.init(hostName: Self.currentHostName(), dockerEngineID: try? host.engine.engineID())
    }
}
