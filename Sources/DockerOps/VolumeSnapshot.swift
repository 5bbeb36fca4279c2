import ArchiveInspect
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import HTTP
import Planner
import SafeFiles

/// What a volume snapshot holds. Stored inside the archive as `manifest.json` (so
/// `cwmigrate inspect` finds the Connectware version) and, with the archive's SHA-256,
/// next to it as `<snapshot>.manifest.json`.
public struct SnapshotManifest: Sendable, Codable, Equatable {
    public static let currentFormat = "cwmigrate-volume-snapshot/1"
    /// Where the volume's files are inside the archive; `manifest.json` is beside it.
    public static let dataPrefix = "volume"

    public var format: String
    /// The volume's name in Docker (`connectware_postgresql`), or the directory for a plain directory.
    public var volume: String
    public var connectwareVersion: String?
    public var driver: String?
    /// The driver's options (a bind or NFS volume's `type`, `o`, `device`), recreated on restore.
    public var options: [String: String]?
    public var labels: [String: String]
    public var createdAt: String
    /// When reading the volume began (nanoseconds, on the clock file times are stamped
    /// with): a change in the volume at or after it is not in the snapshot.
    public var startedAt: String?
    /// Entries under `volume/`, the root included.
    public var entries: Int
    public var files: Int
    public var directories: Int
    public var symlinks: Int
    public var hardlinks: Int
    /// Bytes of regular files.
    public var bytes: Int64
    /// Sockets, which tar cannot hold.
    public var skipped: [String]
    /// Only in the sidecar: the archive's own SHA-256, size, and the sum of its entries' sizes.
    public var archiveSHA256: String?
    public var archiveBytes: Int64?
    public var contentBytes: Int64?

    /// `<snapshot>.manifest.json`
    public static func sidecarPath(of snapshot: String) -> String { snapshot + ".manifest.json" }
}

/// Which volumes may ever be removed. `certs` never is, whatever the configuration says.
public struct VolumePolicy: Sendable, Equatable {
    /// Names without the project prefix (`postgresql`), as the playbook lists them.
    public var removable: Set<String>

    /// Set only by a rollback: it removes a protected volume (`certs`) an install changed only
    /// to put the run's snapshot of it back, and `removeVolume` first verifies the snapshot of
    /// what the volume holds then.
    public var includingProtected: Bool

    public static let vendorDefault = VolumePolicy(removable: ["postgresql", "service-manager"])

    public init(removable: Set<String>, includingProtected: Bool = false) {
        self.removable = removable
        self.includingProtected = includingProtected
    }

    public func allowsRemoval(of volume: ProjectVolume) -> Bool {
        let names = [volume.shortName, volume.name]
        guard includingProtected || !names.contains(where: Self.isProtected) else { return false }
        return names.contains(where: removable.contains)
    }

    /// The volume PostgreSQL keeps its data directory in.
    static func isPostgreSQL(_ volume: ProjectVolume) -> Bool {
        volume.shortName == "postgresql" || volume.name == "postgresql" || volume.name.hasSuffix("_postgresql")
    }

    static func isProtected(_ name: String) -> Bool {
        Playbook.protectedVolumes.contains { name == $0 || name.hasSuffix("_" + $0) }
    }
}

extension ConnectwareHost {
    /// Snapshots a volume into a zstd tar at `output`, then reads it back and records its
    /// SHA-256. The files are read from the volume's mount point (as root on the Docker host)
    /// or, where that is not possible, through a helper container. Refuses while a running
    /// container uses the volume, and never replaces an existing file.
    @discardableResult
    /// `progress` hears the files being written (`snapshot`), then the snapshot read back (`verify`).
    public func snapshotVolume(
        _ name: String, to output: String, connectwareVersion: String?, level: Int = 1,
        access mode: VolumeAccess = .automatic, progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        let prepared = try prepareSnapshot(name, to: output, access: mode)
        return try writeSnapshot(prepared, connectwareVersion: connectwareVersion, level: level, progress: progress)
    }

    /// One volume to snapshot, and the file its snapshot goes to.
    public struct SnapshotRequest: Sendable, Equatable {
        public var volume: String
        public var output: String

        public init(volume: String, output: String) {
            self.volume = volume
            self.output = output
        }
    }

    /// Snapshots several volumes, as `snapshotVolume` does each: every volume is checked
    /// first (it exists, no running container uses it, its output is free), in turn; then the
    /// volumes read at their mount points are written and read back at the same time, one
    /// thread each (they share nothing but the disk), and those read through a helper
    /// container after them, one by one. The manifests come back in the order asked. On a
    /// failure the first error in that order is thrown; a snapshot that did complete stays in
    /// place, whole and verified (a repeat keeps it), and none is ever left half-written.
    @discardableResult
    public func snapshotVolumes(
        _ requests: [SnapshotRequest], connectwareVersion: String?, level: Int = 1
    ) throws(DockerOpsError) -> [SnapshotManifest] {
        var prepared: [PreparedSnapshot] = []
        for request in requests { prepared.append(try prepareSnapshot(request.volume, to: request.output)) }
        let direct = prepared.indices.filter { prepared[$0].atMountpoint }
        var manifests = [SnapshotManifest?](repeating: nil, count: prepared.count)
        let written = Self.concurrently(direct.count) { (i: Int) throws(DockerOpsError) -> SnapshotManifest in
            try Self.writeAtMountpoint(prepared[direct[i]], connectwareVersion: connectwareVersion, level: level)
        }
        var failures: [(Int, DockerOpsError)] = []
        for (i, result) in written.enumerated() {
            switch result {
            case .success(let manifest): manifests[direct[i]] = manifest
            case .failure(let error): failures.append((direct[i], error))
            }
        }
        for index in prepared.indices where !prepared[index].atMountpoint && failures.isEmpty {
            do {
                manifests[index] = try writeSnapshot(
                    prepared[index], connectwareVersion: connectwareVersion, level: level)
            } catch { failures.append((index, error)) }
        }
        if let first = failures.min(by: { $0.0 < $1.0 }) { throw first.1 }
        return manifests.compactMap { $0 }
    }

    /// A volume checked and ready to be copied: what a snapshot records of it, when its
    /// reading may begin (`startedAt`), and whether it is read at its mount point.
    struct PreparedSnapshot: Sendable {
        var volume: ProjectVolume
        var output: String
        var startedAt: ChangeTime
        var atMountpoint: Bool
    }

    /// The checks before a snapshot: the output is free, the volume exists and no running
    /// container uses it. The change clock is read here, before any file is: every change
    /// from now on is one the snapshot may miss, and `checkSnapshotHolds` looks for them.
    func prepareSnapshot(_ name: String, to output: String, access mode: VolumeAccess = .automatic)
        throws(DockerOpsError) -> PreparedSnapshot
    {
        try Self.checkSnapshotOutput(output)
        guard let volume = try volume(name) else { throw .noSuchVolume(name) }
        let running = try runningUsers(of: volume)
        guard running.isEmpty else { throw .volumeInUse(volume: name, containers: running) }
        let startedAt = Self.changeClockTick()
        return PreparedSnapshot(
            volume: volume, output: output, startedAt: startedAt,
            atMountpoint: try Self.readsAtMountpoint(volume, mode, writing: false))
    }

    /// Writes a prepared snapshot: at the mount point (no Engine call, so threads may do
    /// several at once) or through a helper container.
    func writeSnapshot(
        _ prepared: PreparedSnapshot, connectwareVersion: String?, level: Int,
        progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        if prepared.atMountpoint {
            return try Self.writeAtMountpoint(
                prepared, connectwareVersion: connectwareVersion, level: level, progress: progress)
        }
        let volume = prepared.volume
        let output = prepared.output
        let helper = try HelperContainer.create(for: volume.name, readOnly: true, engine: engine)
        defer { helper.remove() }
        let raw = stagedTar("snapshot", in: stagingDirectory, beside: output)
        defer { unlink(raw) }
        try helper.download(to: raw)
        return try Self.writeSnapshot(
            volume: volume.name, driver: volume.driver, options: volume.options, labels: volume.labels,
            startedAt: prepared.startedAt, to: output, connectwareVersion: connectwareVersion, level: level,
            contentTotal: nil, progress: progress
        ) { writer throws(ArchiveWriter.WriteError) in
            try writer.addEntries(
                fromArchive: raw, renaming: String(HelperContainer.path.dropFirst()), to: SnapshotManifest.dataPrefix)
        }
    }

    static func writeAtMountpoint(
        _ prepared: PreparedSnapshot, connectwareVersion: String?, level: Int,
        progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        let volume = prepared.volume
        return try writeSnapshot(
            volume: volume.name, driver: volume.driver, options: volume.options, labels: volume.labels,
            startedAt: prepared.startedAt, to: prepared.output, connectwareVersion: connectwareVersion, level: level,
            contentTotal: progress == nil ? nil : ArchiveWriter.treeContentBytes(at: volume.mountpoint),
            progress: progress
        ) { writer throws(ArchiveWriter.WriteError) in
            try writer.addTree(at: volume.mountpoint, as: SnapshotManifest.dataPrefix)
        }
    }

    /// Verifies several snapshots as `verifySnapshot` does each, at the same time (one
    /// thread each: reading back is decompressing and hashing). Each outcome in the order asked.
    public static func verifySnapshots(_ snapshots: [(path: String, volume: String?)])
        -> [Result<SnapshotManifest, DockerOpsError>]
    {
        concurrently(snapshots.count) { (i: Int) throws(DockerOpsError) -> SnapshotManifest in
            try verifySnapshot(at: snapshots[i].path, volume: snapshots[i].volume)
        }
    }

    func runningUsers(of volume: ProjectVolume) throws(DockerOpsError) -> [String] {
        let running = try engine.decode(
            [ContainerSummary].self, .get, "/containers/json",
            query: [
                "filters": Engine.filters(["volume": [volume.name], "status": ["running", "restarting", "paused"]])
            ])
        return running.map(\.displayName).sorted()
    }

    /// Verifies a snapshot: its sidecar manifest exists (and names `volume`, when given),
    /// the archive's SHA-256 matches it, and reading the whole archive back gives the same
    /// entries and bytes.
    @discardableResult
    public static func verifySnapshot(
        at path: String, volume: String?, progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        let subject = volume ?? "(any)"
        var info = stat()
        guard stat(path, &info) == 0 else { throw .snapshotMissing(volume: subject, path: path) }
        let manifest = try sidecarManifest(of: path, volume: volume)
        let facts = try readBack(path, subject: subject, version: manifest.connectwareVersion, progress: progress)
        guard facts.sha256 == manifest.archiveSHA256 else {
            throw .snapshotNotVerified(
                volume: subject, path: path,
                reason: "its SHA-256 is \(facts.sha256 ?? "unknown"), the manifest says \(manifest.archiveSHA256 ?? "")")
        }
        guard facts.entries == manifest.entries + 1, facts.uncompressedBytes == manifest.contentBytes else {
            throw .snapshotNotVerified(
                volume: subject, path: path,
                reason: "it holds \(facts.entries) entries and \(facts.uncompressedBytes) bytes; the manifest says "
                    + "\(manifest.entries + 1) and \(manifest.contentBytes ?? -1)")
        }
        readings.remember(manifest, at: path, readFrom: FileIdentity(info))
        return manifest
    }

    /// Verifies a snapshot as `verifySnapshot` does, unless this process has read this very
    /// file whole and verified it before: then the file must be unchanged since (the same
    /// device, inode, size, modification and status-change times; every write, truncation,
    /// rename onto it or `touch` sets the status-change time, which only the kernel sets) and
    /// its sidecar manifest, read again, the same as then. For a check that comes back to a
    /// snapshot within one run: remove-volumes' precondition, after snapshot-volumes read
    /// each snapshot whole in its postcondition a moment before. A second reading of the
    /// same bytes then comes from the page cache and proves nothing the identity does not.
    /// `removeVolume` and `restoreVolume` read the snapshot whole, always.
    @discardableResult
    public static func recheckSnapshot(at path: String, volume: String?) throws(DockerOpsError) -> SnapshotManifest {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .snapshotMissing(volume: volume ?? "(any)", path: path) }
        guard let earlier = readings.earlier(at: path) else { return try verifySnapshot(at: path, volume: volume) }
        let manifest = try sidecarManifest(of: path, volume: volume)
        guard manifest == earlier else { return try verifySnapshot(at: path, volume: volume) }
        return manifest
    }

    /// The snapshots this process read whole and verified, by path.
    static let readings = FileReadings<SnapshotManifest>()

    /// The sidecar manifest of the snapshot at `path`, checked to be of this format and, when
    /// `volume` is given, of that volume.
    static func sidecarManifest(of path: String, volume: String?) throws(DockerOpsError) -> SnapshotManifest {
        let subject = volume ?? "(any)"
        let sidecar = SnapshotManifest.sidecarPath(of: path)
        guard let data = FileManager.default.contents(atPath: sidecar) else {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "its manifest \(sidecar) is missing")
        }
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: data)
        } catch {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "its manifest \(sidecar) is unreadable")
        }
        guard manifest.format == SnapshotManifest.currentFormat, manifest.archiveSHA256 != nil else {
            throw .snapshotNotVerified(
                volume: subject, path: path, reason: "its manifest is not a \(SnapshotManifest.currentFormat) manifest")
        }
        if let volume, manifest.volume != volume {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "it is a snapshot of \(manifest.volume)")
        }
        return manifest
    }

    private static func readBack(
        _ path: String, subject: String, version: String?, progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> ArchiveFacts {
        // Only the counts and the hash matter here; the version is the manifest's own word.
        let assumed = version.flatMap(Version.parse) ?? Version(major: 0, minor: 0, patch: 0)
        do {
            return try inspectBackup(
                at: path, options: InspectOptions(verify: true, assumedVersion: assumed), progress: progress)
        } catch {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "\(error)")
        }
    }

    /// Snapshots any directory the way a volume is snapshotted (also for benchmarks).
    @discardableResult
    public func snapshotDirectory(
        _ directory: String, volume: String, driver: String? = nil, labels: [String: String] = [:], to output: String,
        connectwareVersion: String?, level: Int = 1, progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        try Self.snapshotDirectory(
            directory, volume: volume, driver: driver, labels: labels, to: output,
            connectwareVersion: connectwareVersion, level: level, progress: progress)
    }

    public static func snapshotDirectory(
        _ directory: String, volume: String, driver: String? = nil, labels: [String: String] = [:], to output: String,
        connectwareVersion: String?, level: Int = 1, progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        // Walking the tree first costs a stat per file; only a watched snapshot pays it, for its total.
        try writeSnapshot(
            volume: volume, driver: driver, options: nil, labels: labels, startedAt: changeClockTick(), to: output,
            connectwareVersion: connectwareVersion, level: level,
            contentTotal: progress == nil ? nil : ArchiveWriter.treeContentBytes(at: directory), progress: progress
        ) { writer throws(ArchiveWriter.WriteError) in
            try writer.addTree(at: directory, as: SnapshotManifest.dataPrefix)
        }
    }

    /// Writes the archive (`content` adds the volume's entries), the manifest, reads it all
    /// back, and only then puts the snapshot and its sidecars in place.
    static func writeSnapshot(
        volume: String, driver: String?, options: [String: String]?, labels: [String: String], startedAt: ChangeTime,
        to output: String, connectwareVersion: String?, level: Int, contentTotal: Int64? = nil,
        progress: (any TransferProgressReporter)? = nil,
        content: (ArchiveWriter) throws(ArchiveWriter.WriteError) -> TreeTotals
    ) throws(DockerOpsError) -> SnapshotManifest {
        try checkSnapshotOutput(output)
        let sidecar = SnapshotManifest.sidecarPath(of: output)
        // Snapshots hold the database's files: readable by root alone. A .part left by a
        // killed run is ours to replace; it is removed, never followed.
        let file: PendingFile
        do {
            file = try OutputFile.create(output, mode: 0o600, replacing: false, temporarySuffix: ".part")
        } catch {
            throw Self.snapshotError(error)
        }
        defer { file.discard() }
        let fd = file.descriptor
        let part = file.temporaryPath

        var manifest: SnapshotManifest
        var manifestBytes = Data()
        do {
            // Written through the descriptor: the name is never opened again for writing.
            let writer = try ArchiveWriter(descriptor: fd, path: part, compression: .zstd, level: level)
            writer.meter = progress.map { ProgressMeter(direction: .snapshot, total: contentTotal, reporter: $0) }
            let totals = try content(writer)
            writer.meter?.finish(bytes: writer.contentBytesWritten)
            manifest = SnapshotManifest(
                format: SnapshotManifest.currentFormat, volume: volume, connectwareVersion: connectwareVersion,
                driver: driver, options: options, labels: labels,
                createdAt: Timestamp.format(Date(), .seconds), startedAt: startedAt.text,
                entries: totals.entries, files: totals.files, directories: totals.directories,
                symlinks: totals.symlinks, hardlinks: totals.hardlinks, bytes: totals.bytes, skipped: totals.skipped)
            manifestBytes = encode(manifest)
            try writer.addFile("manifest.json", contents: manifestBytes, mode: 0o600)
            try writer.close()
        } catch {
            throw .snapshotWrite(path: output, message: error.description)
        }
        let facts = try readBack(part, subject: volume, version: connectwareVersion, progress: progress)
        let contentBytes = manifest.bytes + Int64(manifestBytes.count)
        guard facts.entries == manifest.entries + 1, facts.uncompressedBytes == contentBytes else {
            throw .snapshotNotVerified(
                volume: volume, path: output,
                reason: "read back \(facts.entries) entries and \(facts.uncompressedBytes) bytes, wrote "
                    + "\(manifest.entries + 1) and \(contentBytes)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .snapshotWrite(path: part, message: String(cString: strerror(errno)))
        }
        manifest.archiveSHA256 = facts.sha256
        manifest.archiveBytes = Int64(info.st_size)
        manifest.contentBytes = contentBytes
        // commit checks that the name still holds the file read back, and links it into
        // place only if nothing appeared at the snapshot's name meanwhile.
        do {
            try file.commit()
        } catch {
            throw Self.snapshotError(error)
        }
        try writeAtomically(encode(manifest), to: sidecar)
        let name = lastPathComponent(output)
        try writeAtomically(Data("\(facts.sha256 ?? "")  \(name)\n".utf8), to: output + ".sha256")
        return manifest
    }

    static func encode(_ manifest: SnapshotManifest) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return ((try? encoder.encode(manifest)) ?? Data()) + Data("\n".utf8)
    }

    /// Refuses an output where a snapshot must not go, before any file of the volume is
    /// read: something at the snapshot's name or its manifest's (a snapshot is never
    /// replaced), a missing or unwritable directory.
    public static func checkSnapshotOutput(_ output: String) throws(DockerOpsError) {
        do {
            try OutputFile.check(output, replacing: false, standardOutputRefusal: "a volume snapshot")
            try OutputFile.check(SnapshotManifest.sidecarPath(of: output), replacing: false)
        } catch {
            throw snapshotError(error)
        }
    }

    static func snapshotError(_ error: OutputFileError) -> DockerOpsError {
        if case .exists(let path) = error { return .outputExists(path: path) }
        return .snapshotWrite(path: error.path, message: error.reason)
    }

    /// A sidecar, written whole beside the snapshot (0600; a symlink there is replaced).
    private static func writeAtomically(_ data: Data, to path: String) throws(DockerOpsError) {
        do {
            try OutputFile.write(data, to: path, mode: 0o600, replacing: true, temporarySuffix: ".part")
        } catch {
            throw snapshotError(error)
        }
    }

    // MARK: - Removing and restoring

    /// Removes a volume, only if (a) `policy` allows it (never `certs`), (b) no container,
    /// running or stopped, uses it, (c) `snapshot` is a verified snapshot of it, (d) nothing
    /// in the volume changed since the snapshot began (unless `acceptingChangesSinceSnapshot`:
    /// the operator's `--force`, or a volume known to hold nothing of value), and (e) a
    /// snapshot of a `postgresql` volume holds a PostgreSQL data directory (`PG_VERSION`).
    public func removeVolume(
        _ name: String, snapshot: String, policy: VolumePolicy, acceptingChangesSinceSnapshot: Bool = false
    ) throws(DockerOpsError) {
        guard let volume = try volume(name) else { throw .noSuchVolume(name) }
        guard policy.allowsRemoval(of: volume) else {
            throw .volumeNotRemovable(
                volume: name, removable: policy.removable.filter { !VolumePolicy.isProtected($0) }.sorted())
        }
        guard volume.usedBy.isEmpty else { throw .volumeInUse(volume: name, containers: volume.usedBy) }
        let manifest = try Self.verifySnapshot(at: snapshot, volume: volume.name)
        try checkSnapshotHolds(
            volume, manifest: manifest, snapshot: snapshot, acceptingChanges: acceptingChangesSinceSnapshot)
        // A local `o=bind` volume's files stay in its device directory when Docker removes it:
        // a volume made again there (an install, a restore) would find them. They are in the
        // verified snapshot now, so they go first; an empty volume is removable on a repeat.
        if let device = Self.bindDevice(of: volume) {
            try Self.emptyDirectory(device, volume: volume.name)
        }
        try engine.send(.delete, "/volumes/\(volume.name)")
    }

    /// The directory a local volume with `o=bind` keeps its files in; nil for any other volume.
    static func bindDevice(of volume: ProjectVolume) -> String? {
        let options = volume.options ?? [:]
        guard volume.driver == "local", (options["o"] ?? "").split(separator: ",").contains("bind"),
            let device = options["device"], !device.isEmpty
        else { return nil }
        return device
    }

    /// Removes everything inside `path` (on this host, as root), never following a symbolic
    /// link; names are handled as bytes, whatever their encoding. The directory itself stays.
    static func emptyDirectory(_ path: String, volume: String) throws(DockerOpsError) {
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            throw .mountpointUnreachable(
                volume: volume, mountpoint: path,
                message:
                    "its files are kept in this directory (o=bind), which must be emptied when the volume is removed: \(String(cString: strerror(errno)))"
            )
        }
        defer { close(directory) }
        if let failure = removeContents(of: directory, at: path) {
            throw .mountpointUnreachable(
                volume: volume, mountpoint: path,
                message: "emptying the directory the volume keeps its files in (o=bind): \(failure)")
        }
    }

    /// Removes the entries of the directory behind `fd`, depth first; nil, or what failed.
    private static func removeContents(of fd: Int32, at shown: String) -> String? {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return "\(shown): \(String(cString: strerror(errno)))"
        }
        var names: [[CChar]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 }).map { CChar(bitPattern: $0) }
            }
            if name == [46] || name == [46, 46] { continue }
            names.append(name + [0])
        }
        closedir(stream)
        for name in names {
            let child = shown + "/" + String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if unlinkat(fd, name, 0) == 0 { continue }
            guard errno == EISDIR else { return "\(child): \(String(cString: strerror(errno)))" }
            let inner = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard inner >= 0 else { return "\(child): \(String(cString: strerror(errno)))" }
            let failure = removeContents(of: inner, at: child)
            close(inner)
            if let failure { return failure }
            guard unlinkat(fd, name, AT_REMOVEDIR) == 0 else { return "\(child): \(String(cString: strerror(errno)))" }
        }
        return nil
    }

    /// The checks (d) and (e) of `removeVolume`, for a run's step to ask before it acts.
    public func checkSnapshotHolds(
        _ volume: ProjectVolume, manifest: SnapshotManifest, snapshot: String, acceptingChanges: Bool = false
    ) throws(DockerOpsError) {
        // Read once, and only when needed: through a helper container it is a full copy.
        var seen: VolumeContents?
        func now() throws(DockerOpsError) -> VolumeContents {
            if let seen { return seen }
            let contents = try contentsNow(of: volume, staging: snapshot)
            seen = contents
            return contents
        }
        if VolumePolicy.isPostgreSQL(volume) {
            let holdsData = try Self.snapshotHoldsFile(snapshot, named: SnapshotManifest.dataPrefix + "/PG_VERSION")
            // An empty volume (an install that never began) loses nothing.
            var empty = false
            if !holdsData, manifest.entries <= 1 { empty = try now().entries <= 1 }
            guard holdsData || empty else {
                throw .notAPostgreSQLSnapshot(volume: volume.name, path: snapshot)
            }
        }
        guard !acceptingChanges else { return }
        let now = try now()
        // An empty volume loses nothing (a bind volume emptied by a removal that was interrupted).
        if now.entries <= 1 { return }
        guard let startedAt = manifest.startedAt.flatMap(ChangeTime.init(text:)) else {
            throw .snapshotOutdated(
                volume: volume.name, path: snapshot,
                reason:
                    "it does not record when it was taken (made by an older cwmigrate), so a later change cannot be ruled out"
            )
        }
        // Through a helper container times are whole seconds: a change in the second the
        // snapshot began counts as before it, and the counts below catch what it hides.
        if let newest = now.newest, !newest.time.precedes(startedAt, wholeSecondsOnly: now.wholeSeconds) {
            throw .snapshotOutdated(
                volume: volume.name, path: snapshot,
                reason: "\(newest.entry) changed at \(newest.time.text), after the snapshot began at \(startedAt.text)")
        }
        if now.wholeSeconds, now.entries != manifest.entries || now.bytes != manifest.bytes {
            throw .snapshotOutdated(
                volume: volume.name, path: snapshot,
                reason:
                    "the volume holds \(now.entries) entries and \(now.bytes) bytes; the snapshot \(manifest.entries) and \(manifest.bytes)"
            )
        }
    }

    /// Refuses, before anything stops, an installation that keeps the data of a volume the
    /// plan snapshots and removes (`postgresql`, `service-manager`) in a host directory: the
    /// service of that name, or any core container where no container mounts the volume,
    /// with a bind mount. Such data would be neither snapshotted nor removed, and a
    /// rollback would report success over it. For a migration's prechecks.
    public func refuseBindMounts(project: String, volumes shortNames: [String]) throws(DockerOpsError) {
        let summaries = try engine.decode(
            [ContainerSummary].self, .get, "/containers/json",
            query: [
                "all": "1",
                "filters": Engine.filters(["label": [connectwareCoreLabel, "\(ComposeLabel.project)=\(project)"]]),
            ])
        let volumes = try projectVolumes(project)
        for short in shortNames {
            let name = volumes.first { $0.shortName == short }?.name ?? "\(project)_\(short)"
            for summary in summaries where summary.labels?[ComposeLabel.service] == short {
                let mounts = summary.mounts ?? []
                let binds = mounts.filter { $0.type == "bind" }
                let volume = mounts.first { $0.type == "volume" && $0.name == name }
                // No volume: the service's data is where its binds are. A volume: a bind
                // inside it hides part of the data from the snapshot.
                let inside = volume.flatMap { volume in
                    binds.first { ($0.destination ?? "").hasPrefix((volume.destination ?? "/") + "/") }
                }
                if let bind = volume == nil ? binds.first : inside {
                    throw .bindMountAtVolume(
                        volume: name, container: summary.displayName, source: bind.source ?? "?",
                        destination: bind.destination ?? "?")
                }
            }
        }
    }

    /// Restores a volume from a verified snapshot into the volume, which must be unused and
    /// empty; an absent volume is created with the driver, options and labels it had. `name`
    /// may be the short name (`postgresql`) also once the volume is gone: the snapshot's
    /// manifest says which volume it is. Files are written at the mount point or, where that
    /// is not possible or the volume has driver options, through a helper container.
    /// `progress` hears the snapshot verified (`verify`), then its files written (`restore-volume`).
    @discardableResult
    public func restoreVolume(
        _ name: String, from snapshot: String, project: String? = nil, access mode: VolumeAccess = .automatic,
        progress: (any TransferProgressReporter)? = nil
    ) throws(DockerOpsError) -> SnapshotManifest {
        let given = try Self.verifySnapshot(at: snapshot, volume: nil, progress: progress)
        let existing = try restoreTarget(name, project: project)
        let target = existing?.name ?? name
        guard Self.names(target, project: project, as: given) else {
            throw .snapshotNotVerified(volume: target, path: snapshot, reason: "it is a snapshot of \(given.volume)")
        }
        let manifest = given
        var volume = existing
        if let existing {
            guard existing.usedBy.isEmpty else {
                throw .volumeInUse(volume: existing.name, containers: existing.usedBy)
            }
        } else {
            var request: [String: JSONValue] = [
                "Name": .string(manifest.volume), "Labels": .object(manifest.labels.mapValues(JSONValue.string)),
            ]
            if let driver = manifest.driver { request["Driver"] = .string(driver) }
            if let options = manifest.options, !options.isEmpty {
                request["DriverOpts"] = .object(options.mapValues(JSONValue.string))
            }
            try engine.send(.post, "/volumes/create", json: .object(request))
            volume = try self.volume(manifest.volume)
        }
        guard let volume else { throw .noSuchVolume(manifest.volume) }
        if try Self.readsAtMountpoint(volume, mode, writing: true) {
            return try restoreAtMountpoint(volume, from: snapshot, manifest: manifest, progress: progress)
        }
        return try restoreThroughHelper(volume, from: snapshot, manifest: manifest, progress: progress)
    }

    /// The volume `name` stands for, by its Docker name or its short name in the project;
    /// nil when it is not there (gone, as it is after a removal).
    private func restoreTarget(_ name: String, project: String?) throws(DockerOpsError) -> ProjectVolume? {
        if let exact = try volume(name) { return exact }
        let projectName = project ?? (try? discover())?.project
        guard let projectName else { return nil }
        return try projectVolumes(projectName).first { $0.shortName == name }
    }

    /// Whether `name` (a Docker name or a short one) names the volume the snapshot is of.
    static func names(_ name: String, project: String?, as manifest: SnapshotManifest) -> Bool {
        if manifest.volume == name { return true }
        if manifest.labels[ComposeLabel.volume] == name {
            return project == nil || manifest.labels[ComposeLabel.project] == project
                || manifest.volume == "\(project ?? "")_\(name)"
        }
        if let project { return manifest.volume == "\(project)_\(name)" }
        return manifest.volume.hasSuffix("_" + name)
    }

    /// Whether the volume's files are read (or written) at its mount point, else through a
    /// helper container. A volume with driver options (a bind or NFS mount) has its files
    /// only where the driver mounts them for a container: its mount point is empty while
    /// Connectware is stopped, so it is never read there.
    static func readsAtMountpoint(_ volume: ProjectVolume, _ mode: VolumeAccess, writing: Bool) throws(DockerOpsError)
        -> Bool
    {
        let mountedByDriver = !(volume.options ?? [:]).isEmpty || volume.driver != "local"
        let reachable = access(volume.mountpoint, writing ? R_OK | W_OK | X_OK : R_OK | X_OK) == 0
        switch mode {
        case .helperContainer: return false
        case .automatic: return reachable && !mountedByDriver
        case .mountpoint:
            guard !mountedByDriver else {
                throw .mountpointUnreachable(
                    volume: volume.name, mountpoint: volume.mountpoint,
                    message: "the volume has driver \(volume.driver) with options "
                        + (volume.options ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                        .joined(separator: ",") + "; its files are seen only through a container that mounts it")
            }
            guard reachable else {
                throw .mountpointUnreachable(
                    volume: volume.name, mountpoint: volume.mountpoint, message: String(cString: strerror(errno)))
            }
            return true
        }
    }

    /// What a volume holds now: entries, bytes of regular files, and its newest change
    /// (modification or status change) with the entry it was seen on.
    struct VolumeContents {
        var entries = 0
        var bytes: Int64 = 0
        var newest: (entry: String, time: ChangeTime)?
        /// Through a helper container only modification times in whole seconds are seen.
        var wholeSeconds = false
    }

    /// Read through a helper container, the volume is staged beside `staging` (or in `stagingDirectory`).
    func contentsNow(of volume: ProjectVolume, staging: String) throws(DockerOpsError) -> VolumeContents {
        if try Self.readsAtMountpoint(volume, .automatic, writing: false) {
            var contents = VolumeContents()
            Self.walk(Array(volume.mountpoint.utf8), shown: "", into: &contents)
            return contents
        }
        let helper = try HelperContainer.create(for: volume.name, readOnly: true, engine: engine)
        defer { helper.remove() }
        let raw = stagedTar("check", in: stagingDirectory, beside: staging)
        defer { unlink(raw) }
        try helper.download(to: raw)
        let scan: ArchiveScan
        do { scan = try scanArchive(raw) } catch {
            throw .snapshotNotVerified(volume: volume.name, path: raw, reason: error.description)
        }
        var contents = VolumeContents(entries: scan.entries, bytes: scan.bytes, wholeSeconds: true)
        if let newest = scan.newest {
            contents.newest = (newest.entry, ChangeTime(seconds: newest.seconds, nanoseconds: 0))
        }
        return contents
    }

    /// How the volume's files will be read and what a snapshot will check, asked now: nothing
    /// is copied (through a helper container only the presence of `PG_VERSION` is asked).
    public func readiness(of name: String) throws(DockerOpsError) -> VolumeReadiness {
        guard let volume = try volume(name) else { throw .noSuchVolume(name) }
        var readiness = VolumeReadiness(
            volume: volume.name, options: volume.options ?? [:], helperImage: nil, throughHelper: false,
            holdsPostgreSQLData: nil, newestChange: nil, newestChangeTime: nil, readAt: nil)
        let postgreSQL = VolumePolicy.isPostgreSQL(volume)
        if try Self.readsAtMountpoint(volume, .automatic, writing: false) {
            var contents = VolumeContents()
            Self.walk(Array(volume.mountpoint.utf8), shown: "", into: &contents)
            readiness.readAt = Self.changeClockTick()
            readiness.newestChange = contents.newest?.entry
            readiness.newestChangeTime = contents.newest?.time
            if postgreSQL { readiness.holdsPostgreSQLData = access(volume.mountpoint + "/PG_VERSION", F_OK) == 0 }
            return readiness
        }
        readiness.throughHelper = true
        readiness.helperImage = try HelperContainer.image(engine: engine)
        if postgreSQL, readiness.helperImage != nil {
            let helper = try HelperContainer.create(for: volume.name, readOnly: true, engine: engine)
            defer { helper.remove() }
            readiness.holdsPostgreSQLData = try helper.holds("PG_VERSION")
        }
        return readiness
    }

    /// lstat of every entry below `path` (names as bytes; symlinks are not followed).
    static func walk(_ path: [UInt8], shown: String, into contents: inout VolumeContents) {
        var info = stat()
        let status = (path + [0]).withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count) { lstat($0, &info) }
        }
        guard status == 0 else { return }
        contents.entries += 1
        if (info.st_mode & S_IFMT) == S_IFREG { contents.bytes += Int64(info.st_size) }
        for time in [info.st_mtim, info.st_ctim] {
            let seen = ChangeTime(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
            if contents.newest.map({ $0.time.precedes(seen, wholeSecondsOnly: false) }) ?? true {
                contents.newest = (shown.isEmpty ? "/" : shown, seen)
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return }
        let directory = (path + [0]).withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count) { opendir($0) }
        }
        guard let directory else { return }
        defer { closedir(directory) }
        while let item = readdir(directory) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { pointer in
                    Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
                }
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            walk(path + [0x2F] + name, shown: shown + "/" + String(decoding: name, as: UTF8.self), into: &contents)
        }
    }

    static func snapshotHoldsFile(_ snapshot: String, named name: String) throws(DockerOpsError) -> Bool {
        do {
            return try scanArchive(snapshot, lookingFor: name).found
        } catch {
            throw .snapshotNotVerified(volume: "(any)", path: snapshot, reason: error.description)
        }
    }

    /// The current tick of the clock the kernel stamps file times with (the coarse real-time
    /// clock), taken once it has just advanced: every change before this moment carries an
    /// earlier time, every change from now on this time or a later one.
    static func changeClockTick() -> ChangeTime {
        func now() -> timespec {
            var time = timespec()
            clock_gettime(CLOCK_REALTIME_COARSE, &time)
            return time
        }
        let start = now()
        var time = start
        while time.tv_sec == start.tv_sec && time.tv_nsec == start.tv_nsec {
            var pause = timespec(tv_sec: 0, tv_nsec: 500_000)
            nanosleep(&pause, nil)
            time = now()
        }
        return ChangeTime(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }

    private func restoreAtMountpoint(
        _ volume: ProjectVolume, from snapshot: String, manifest: SnapshotManifest,
        progress: (any TransferProgressReporter)?
    ) throws(DockerOpsError) -> SnapshotManifest {
        let name = volume.name
        let children = (try? FileManager.default.contentsOfDirectory(atPath: volume.mountpoint)) ?? nil
        guard let children else {
            throw .mountpointUnreachable(volume: name, mountpoint: volume.mountpoint, message: "cannot list it")
        }
        guard children.isEmpty else { throw .volumeNotEmpty(volume: name, mountpoint: volume.mountpoint) }
        let totals: TreeTotals
        let meter = progress.map { ProgressMeter(direction: .restoreVolume, total: manifest.bytes, reporter: $0) }
        do {
            totals = try extractTree(
                from: snapshot, prefix: SnapshotManifest.dataPrefix, into: volume.mountpoint, meter: meter)
            meter?.finish()
        } catch {
            throw .restoreFailed(volume: name, path: snapshot, message: error.description)
        }
        guard totals.entries == manifest.entries, totals.bytes == manifest.bytes else {
            throw .restoreFailed(
                volume: name, path: snapshot,
                message: "wrote \(totals.entries) entries and \(totals.bytes) bytes; the snapshot holds "
                    + "\(manifest.entries) and \(manifest.bytes)")
        }
        return manifest
    }

    private func restoreThroughHelper(
        _ volume: ProjectVolume, from snapshot: String, manifest: SnapshotManifest,
        progress: (any TransferProgressReporter)?
    ) throws(DockerOpsError) -> SnapshotManifest {
        let name = volume.name
        let inside = String(HelperContainer.path.dropFirst())
        let helper = try HelperContainer.create(for: name, readOnly: false, engine: engine)
        defer { helper.remove() }
        let current = stagedTar("current", in: stagingDirectory, beside: snapshot)
        defer { unlink(current) }
        try helper.download(to: current)
        // The volume's own directory is the one entry an empty volume has.
        guard try Self.entryCount(current, volume: name) <= 1 else {
            throw .volumeNotEmpty(volume: name, mountpoint: volume.mountpoint)
        }
        let upload = stagedTar("restore", in: stagingDirectory, beside: snapshot)
        defer { unlink(upload) }
        do {
            let file = try OutputFile.create(upload, mode: 0o600, replacing: false)
            let writer = try ArchiveWriter(descriptor: file.descriptor, path: upload, compression: .none)
            writer.meter = progress.map {
                ProgressMeter(direction: .restoreVolume, total: manifest.bytes, reporter: $0)
            }
            _ = try writer.addEntries(fromArchive: snapshot, renaming: SnapshotManifest.dataPrefix, to: inside)
            writer.meter?.finish(bytes: writer.contentBytesWritten)
            try writer.close()
            try file.commit()
        } catch let error as OutputFileError {
            throw Self.snapshotError(error)
        } catch {
            throw .restoreFailed(volume: name, path: snapshot, message: "\(error)")
        }
        try helper.upload(upload)
        unlink(current)
        try helper.download(to: current)
        let written = try Self.entryCount(current, volume: name)
        guard written == manifest.entries else {
            throw .restoreFailed(
                volume: name, path: snapshot,
                message: "the volume holds \(written) entries after the restore; the snapshot holds \(manifest.entries)"
            )
        }
        return manifest
    }

    private static func entryCount(_ tar: String, volume: String) throws(DockerOpsError) -> Int {
        do {
            let facts = try inspectBackup(
                at: tar, options: InspectOptions(verify: true, assumedVersion: Version(major: 0, minor: 0, patch: 0)))
            return facts.entries
        } catch {
            throw .restoreFailed(volume: volume, path: tar, message: "\(error)")
        }
    }
}

/// What can be told about a volume before a run snapshots it, for the prechecks.
public struct VolumeReadiness: Sendable, Equatable {
    public var volume: String
    /// The driver's options, when it has any (then its files are only seen through a container).
    public var options: [String: String]
    /// The image a helper container is made from, when the volume is read through one.
    public var helperImage: String?
    /// Whether its files are read through a helper container rather than at its mount point.
    public var throughHelper: Bool
    /// Whether a PostgreSQL data directory (`PG_VERSION`) is in it; nil for other volumes.
    public var holdsPostgreSQLData: Bool?
    /// Its newest change (modification or status change) and the entry it was seen on, and
    /// the time it was read; nil through a helper container (it is read whole only by the snapshot).
    public var newestChange: String?
    public var newestChangeTime: ChangeTime?
    public var readAt: ChangeTime?
}

/// A file time to the nanosecond, as the kernel stamps it, and as a snapshot's manifest
/// writes it (`2026-11-30T07:15:00.123456789Z`).
public struct ChangeTime: Sendable, Equatable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init?(text: String) {
        guard text.hasSuffix("Z"), let dot = text.firstIndex(of: ".") else { return nil }
        let fraction = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard fraction.count == 9, fraction.allSatisfy(\.isASCIIDigit), let nanoseconds = Int64(fraction),
            let date = Timestamp.parse(String(text[..<dot]) + "Z")
        else { return nil }
        self.init(seconds: Int64(date.timeIntervalSince1970), nanoseconds: nanoseconds)
    }

    public var text: String {
        let whole = Timestamp.format(Date(timeIntervalSince1970: TimeInterval(seconds)), .seconds)
        let fraction = String(nanoseconds)
        return whole.dropLast() + "." + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction + "Z"
    }

    /// Strictly earlier; with `wholeSecondsOnly`, not in a later second.
    public func precedes(_ other: ChangeTime, wholeSecondsOnly: Bool) -> Bool {
        wholeSecondsOnly ? seconds <= other.seconds : (seconds, nanoseconds) < (other.seconds, other.nanoseconds)
    }
}
