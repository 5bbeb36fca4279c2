import ArchiveInspect
import Foundation
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
    public var labels: [String: String]
    public var createdAt: String
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

    public static let vendorDefault = VolumePolicy(removable: ["postgresql", "service-manager"])

    public init(removable: Set<String>) { self.removable = removable }

    public func allowsRemoval(of volume: ProjectVolume) -> Bool {
        let names = [volume.shortName, volume.name]
        guard !names.contains(where: Self.isProtected) else { return false }
        return names.contains(where: removable.contains)
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
    public func snapshotVolume(
        _ name: String, to output: String, connectwareVersion: String?, level: Int = 1,
        access mode: VolumeAccess = .automatic
    ) throws(DockerOpsError) -> SnapshotManifest {
        try Self.checkSnapshotOutput(output)
        guard let volume = try volume(name) else { throw .noSuchVolume(name) }
        let running = try runningUsers(of: volume)
        guard running.isEmpty else { throw .volumeInUse(volume: name, containers: running) }
        let reachable = access(volume.mountpoint, R_OK | X_OK) == 0
        if mode == .mountpoint || (mode == .automatic && reachable) {
            guard reachable else {
                throw .mountpointUnreachable(
                    volume: name, mountpoint: volume.mountpoint, message: String(cString: strerror(errno)))
            }
            return try snapshotDirectory(
                volume.mountpoint, volume: volume.name, driver: volume.driver, labels: volume.labels, to: output,
                connectwareVersion: connectwareVersion, level: level)
        }
        let helper = try HelperContainer.create(for: volume.name, readOnly: true, engine: engine)
        defer { helper.remove() }
        let raw = temporaryTar("snapshot")
        defer { unlink(raw) }
        try helper.download(to: raw)
        return try Self.writeSnapshot(
            volume: volume.name, driver: volume.driver, labels: volume.labels, to: output,
            connectwareVersion: connectwareVersion, level: level
        ) { writer throws(ArchiveWriter.WriteError) in
            try writer.addEntries(
                fromArchive: raw, renaming: String(HelperContainer.path.dropFirst()), to: SnapshotManifest.dataPrefix)
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
    public static func verifySnapshot(at path: String, volume: String?) throws(DockerOpsError) -> SnapshotManifest {
        let subject = volume ?? "(any)"
        var info = stat()
        guard stat(path, &info) == 0 else { throw .snapshotMissing(volume: subject, path: path) }
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
        guard manifest.format == SnapshotManifest.currentFormat, let expected = manifest.archiveSHA256 else {
            throw .snapshotNotVerified(
                volume: subject, path: path, reason: "its manifest is not a \(SnapshotManifest.currentFormat) manifest")
        }
        if let volume, manifest.volume != volume {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "it is a snapshot of \(manifest.volume)")
        }
        let facts = try readBack(path, subject: subject, version: manifest.connectwareVersion)
        guard facts.sha256 == expected else {
            throw .snapshotNotVerified(
                volume: subject, path: path,
                reason: "its SHA-256 is \(facts.sha256 ?? "unknown"), the manifest says \(expected)")
        }
        guard facts.entries == manifest.entries + 1, facts.uncompressedBytes == manifest.contentBytes else {
            throw .snapshotNotVerified(
                volume: subject, path: path,
                reason: "it holds \(facts.entries) entries and \(facts.uncompressedBytes) bytes; the manifest says "
                    + "\(manifest.entries + 1) and \(manifest.contentBytes ?? -1)")
        }
        return manifest
    }

    private static func readBack(_ path: String, subject: String, version: String?) throws(DockerOpsError)
        -> ArchiveFacts
    {
        // Only the counts and the hash matter here; the version is the manifest's own word.
        let assumed = version.flatMap(Version.parse) ?? Version(major: 0, minor: 0, patch: 0)
        do {
            return try inspectBackup(at: path, options: InspectOptions(verify: true, assumedVersion: assumed))
        } catch {
            throw .snapshotNotVerified(volume: subject, path: path, reason: "\(error)")
        }
    }

    /// Snapshots any directory the way a volume is snapshotted (also for benchmarks).
    @discardableResult
    public func snapshotDirectory(
        _ directory: String, volume: String, driver: String? = nil, labels: [String: String] = [:], to output: String,
        connectwareVersion: String?, level: Int = 1
    ) throws(DockerOpsError) -> SnapshotManifest {
        try Self.snapshotDirectory(
            directory, volume: volume, driver: driver, labels: labels, to: output,
            connectwareVersion: connectwareVersion, level: level)
    }

    public static func snapshotDirectory(
        _ directory: String, volume: String, driver: String? = nil, labels: [String: String] = [:], to output: String,
        connectwareVersion: String?, level: Int = 1
    ) throws(DockerOpsError) -> SnapshotManifest {
        try writeSnapshot(
            volume: volume, driver: driver, labels: labels, to: output, connectwareVersion: connectwareVersion,
            level: level
        ) { writer throws(ArchiveWriter.WriteError) in
            try writer.addTree(at: directory, as: SnapshotManifest.dataPrefix)
        }
    }

    /// Writes the archive (`content` adds the volume's entries), the manifest, reads it all
    /// back, and only then puts the snapshot and its sidecars in place.
    static func writeSnapshot(
        volume: String, driver: String?, labels: [String: String], to output: String, connectwareVersion: String?,
        level: Int, content: (ArchiveWriter) throws(ArchiveWriter.WriteError) -> TreeTotals
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
            let totals = try content(writer)
            manifest = SnapshotManifest(
                format: SnapshotManifest.currentFormat, volume: volume, connectwareVersion: connectwareVersion,
                driver: driver, labels: labels, createdAt: ISO8601DateFormatter().string(from: Date()),
                entries: totals.entries, files: totals.files, directories: totals.directories,
                symlinks: totals.symlinks, hardlinks: totals.hardlinks, bytes: totals.bytes, skipped: totals.skipped)
            manifestBytes = encode(manifest)
            try writer.addFile("manifest.json", contents: manifestBytes, mode: 0o600)
            try writer.close()
        } catch {
            throw .snapshotWrite(path: output, message: error.description)
        }
        let facts = try readBack(part, subject: volume, version: connectwareVersion)
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
        let name = (output as NSString).lastPathComponent
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
    /// running or stopped, uses it, and (c) `snapshot` is a verified snapshot of it.
    public func removeVolume(_ name: String, snapshot: String, policy: VolumePolicy) throws(DockerOpsError) {
        guard let volume = try volume(name) else { throw .noSuchVolume(name) }
        guard policy.allowsRemoval(of: volume) else {
            throw .volumeNotRemovable(
                volume: name, removable: policy.removable.filter { !VolumePolicy.isProtected($0) }.sorted())
        }
        guard volume.usedBy.isEmpty else { throw .volumeInUse(volume: name, containers: volume.usedBy) }
        try Self.verifySnapshot(at: snapshot, volume: volume.name)
        try engine.send(.delete, "/volumes/\(volume.name)")
    }

    /// Restores a volume from a verified snapshot into the volume, which must be unused and
    /// empty; an absent volume is created with the driver and labels it had. Files are written
    /// at the mount point or, where that is not possible, through a helper container.
    @discardableResult
    public func restoreVolume(_ name: String, from snapshot: String, access mode: VolumeAccess = .automatic)
        throws(DockerOpsError) -> SnapshotManifest
    {
        let manifest = try Self.verifySnapshot(at: snapshot, volume: name)
        var volume = try volume(name)
        if let existing = volume {
            guard existing.usedBy.isEmpty else { throw .volumeInUse(volume: name, containers: existing.usedBy) }
        } else {
            var request: [String: Any] = ["Name": name, "Labels": manifest.labels]
            if let driver = manifest.driver { request["Driver"] = driver }
            try engine.send(.post, "/volumes/create", json: request)
            volume = try self.volume(name)
        }
        guard let volume else { throw .noSuchVolume(name) }
        let reachable = access(volume.mountpoint, R_OK | W_OK | X_OK) == 0
        if mode == .mountpoint || (mode == .automatic && reachable) {
            guard reachable else {
                throw .mountpointUnreachable(
                    volume: name, mountpoint: volume.mountpoint, message: String(cString: strerror(errno)))
            }
            return try restoreAtMountpoint(volume, from: snapshot, manifest: manifest)
        }
        return try restoreThroughHelper(volume, from: snapshot, manifest: manifest)
    }

    private func restoreAtMountpoint(_ volume: ProjectVolume, from snapshot: String, manifest: SnapshotManifest)
        throws(DockerOpsError) -> SnapshotManifest
    {
        let name = volume.name
        let children = (try? FileManager.default.contentsOfDirectory(atPath: volume.mountpoint)) ?? nil
        guard let children else {
            throw .mountpointUnreachable(volume: name, mountpoint: volume.mountpoint, message: "cannot list it")
        }
        guard children.isEmpty else { throw .volumeNotEmpty(volume: name, mountpoint: volume.mountpoint) }
        let totals: TreeTotals
        do {
            totals = try extractTree(from: snapshot, prefix: SnapshotManifest.dataPrefix, into: volume.mountpoint)
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

    private func restoreThroughHelper(_ volume: ProjectVolume, from snapshot: String, manifest: SnapshotManifest)
        throws(DockerOpsError) -> SnapshotManifest
    {
        let name = volume.name
        let inside = String(HelperContainer.path.dropFirst())
        let helper = try HelperContainer.create(for: name, readOnly: false, engine: engine)
        defer { helper.remove() }
        let current = temporaryTar("current")
        defer { unlink(current) }
        try helper.download(to: current)
        // The volume's own directory is the one entry an empty volume has.
        guard try Self.entryCount(current, volume: name) <= 1 else {
            throw .volumeNotEmpty(volume: name, mountpoint: volume.mountpoint)
        }
        let upload = temporaryTar("restore")
        defer { unlink(upload) }
        do {
            let writer = try ArchiveWriter(creating: URL(fileURLWithPath: upload), compression: .none)
            _ = try writer.addEntries(fromArchive: snapshot, renaming: SnapshotManifest.dataPrefix, to: inside)
            try writer.close()
        } catch {
            throw .restoreFailed(volume: name, path: snapshot, message: error.description)
        }
        try helper.upload(upload)
        unlink(current)
        try helper.download(to: current)
        let written = try Self.entryCount(current, volume: name)
        guard written == manifest.entries else {
            throw .restoreFailed(
                volume: name, path: snapshot,
                message: "the volume holds \(written) entries after the restore; the snapshot holds \(manifest.entries)")
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
