import ArchiveInspect
import Foundation

/// The state of the simulated maintenance service: the last backup and restore, the
/// operation running now, and the jobs that do the real work against PostgreSQL.
actor Maintenance {
    enum Operation: String { case backup, restore }

    /// One backup or restore as the status reports it. While it runs, `succeeded`
    /// and `endDate` are unknown and sent as null.
    struct Record {
        var succeeded: Bool?
        var id: String?
        var statusMessage: String
        var startDate: Date
        var endDate: Date?

        var json: JSONText {
            .object([
                // Spelled like the real server spells it.
                ("succeded", succeeded.map { .bool($0) } ?? .null),
                ("id", id.map { .string($0) } ?? .null),
                ("statusMessage", .string(statusMessage)),
                ("startDate", .string(isoTimestamp(startDate))),
                ("endDate", endDate.map { .string(isoTimestamp($0)) } ?? .null),
            ])
        }
    }

    struct Conflict: Error {
        let running: Operation?
        var message: String {
            switch running {
            case .backup?: return "A backup is already running. Try again when it has finished."
            case .restore?: return "A restore is already running. Try again when it has finished."
            case nil: return "Another maintenance operation is in progress."
            }
        }
    }

    let version: SimVersion
    let database: Database
    let dataDirectory: URL
    let barriers: [RestoreBarrier]
    let backupDelay: Double
    let restoreDelay: Double
    let compression: BackupCompression
    let serviceFiles: ServiceFiles?

    private(set) var running: Operation?
    private var backup: Record?
    private var restore: Record?
    private var restoreBeforeUpload: Record?
    private(set) var lastBackup: (file: URL, id: String)?

    init(
        version: SimVersion, database: Database, dataDirectory: URL, barriers: [RestoreBarrier],
        backupDelay: Double, restoreDelay: Double, compression: BackupCompression, serviceFiles: ServiceFiles? = nil
    ) {
        self.version = version
        self.database = database
        self.dataDirectory = dataDirectory
        self.barriers = barriers
        self.backupDelay = backupDelay
        self.restoreDelay = restoreDelay
        self.compression = compression
        self.serviceFiles = serviceFiles
    }

    /// The status body. Before any backup or restore ever ran, the objects are absent.
    var status: JSONText {
        var members: [(String, JSONText)] = [("running", .bool(running != nil))]
        if let backup { members.append(("backup", backup.json)) }
        if let restore { members.append(("restore", restore.json)) }
        return .object(members)
    }

    /// Forgets the status history; refused while an operation runs.
    func forget() throws(Conflict) {
        if running != nil { throw Conflict(running: running) }
        backup = nil
        restore = nil
    }

    // MARK: backup

    /// Starts a backup; `extraDelay` (a fault switch) is added to the configured delay.
    func startBackup(extraDelay: Double = 0) throws(Conflict) {
        if running != nil { throw Conflict(running: running) }
        let start = Date()
        let id = "\(version)_\(isoTimestamp(start))"
        running = .backup
        backup = Record(succeeded: nil, id: id, statusMessage: "Backup in progress", startDate: start, endDate: nil)
        Task { await self.runBackup(id: id, delay: backupDelay + extraDelay) }
    }

    private func runBackup(id: String, delay: Double) async {
        let work = dataDirectory.appendingPathComponent(".work-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        do {
            if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let dump = work.appendingPathComponent("cybus_connectware.dump")
            try await database.dump(to: dump)
            let metadata = JSONText.object([
                ("version", .string(version.description)),
                ("id", .string(id)),
                ("createdAt", .string(String(id.drop(while: { $0 != "_" }).dropFirst()))),
                ("database", .string(database.name)),
                ("format", .string("pg_dump custom")),
            ])
            let fileName =
                id.replacingOccurrences(of: ":", with: "-") + (compression == .gzip ? ".tgz" : ".tar.zst")
            let partial = work.appendingPathComponent(fileName + ".part")
            let archiveCompression: ArchiveWriter.Compression = compression == .gzip ? .gzip : .zstd
            let serviceFiles = self.serviceFiles
            let metadataBytes = Data((metadata.rendered + "\n").utf8)
            try await offload {
                let writer = try ArchiveWriter(creating: partial, compression: archiveCompression)
                try writer.addDirectory(id)
                try writer.addFile("\(id)/metadata.json", contents: metadataBytes)
                try writer.addFile("\(id)/cybus_connectware.dump", from: dump)
                try serviceFiles?.write(into: writer, prefix: id)
                try writer.close()
            }
            let final = dataDirectory.appendingPathComponent(fileName)
            try? FileManager.default.removeItem(at: final)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial.path)
            try FileManager.default.moveItem(at: partial, to: final)
            lastBackup = (final, id)
            finish(.backup, succeeded: true, id: id, message: "OK")
            log("backup \(id) written to \(final.path)")
        } catch {
            finish(.backup, succeeded: false, id: id, message: "Backup failed: \(error)")
            log("backup \(id) failed: \(error)")
        }
    }

    // MARK: restore

    /// Claims the service for a restore whose upload is about to be read.
    func beginRestoreUpload() throws(Conflict) {
        if running != nil { throw Conflict(running: running) }
        running = .restore
        restoreBeforeUpload = restore
        restore = Record(
            succeeded: nil, id: nil, statusMessage: "Receiving the backup file", startDate: Date(), endDate: nil)
    }

    /// The upload broke off: the restore never started, so the status goes back.
    func abandonRestoreUpload() {
        guard running == .restore else { return }
        running = nil
        restore = restoreBeforeUpload
    }

    /// Restores the uploaded archive in the background; it is deleted afterwards.
    func startRestore(upload: URL, extraDelay: Double = 0) {
        restore?.statusMessage = "Restore in progress"
        Task { await self.runRestore(upload: upload, delay: restoreDelay + extraDelay) }
    }

    private func runRestore(upload: URL, delay: Double) async {
        let work = dataDirectory.appendingPathComponent(".work-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: work)
            try? FileManager.default.removeItem(at: upload)
        }
        var backupID: String?
        do {
            if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let contents = try await unpack(upload, into: work)
            backupID = contents.id
            restore?.id = contents.id
            if let refusal = refusal(for: contents.version) {
                finish(.restore, succeeded: false, id: contents.id, message: refusal)
                log("restore of \(contents.id) refused")
                return
            }
            // The version is checked before the dump, as a server would: an old backup is
            // refused for its version even when its contents are of another shape.
            guard FileManager.default.fileExists(atPath: contents.dump.path) else {
                throw RestoreFailure(
                    message:
                        "Restore failed: the backup \(contents.id) holds no database dump (cybus_connectware.dump).")
            }
            try await database.restore(from: contents.dump)
            if let serviceFiles, let files = contents.serviceFiles {
                do {
                    try await offload { try serviceFiles.replace(with: files) }
                } catch {
                    throw RestoreFailure(
                        message: "Restore failed: the database of \(contents.id) was restored, but the service-manager "
                            + "files could not be replaced: \(error)")
                }
                log("restore of \(contents.id): service-manager files replaced in \(serviceFiles.directory.path)")
            }
            finish(.restore, succeeded: true, id: contents.id, message: "OK")
            log("restore of \(contents.id) done")
        } catch let failure as RestoreFailure {
            finish(.restore, succeeded: false, id: backupID, message: failure.message)
            log("restore failed: \(failure.message)")
        } catch {
            finish(.restore, succeeded: false, id: backupID, message: "Restore failed: \(error)")
            log("restore failed: \(error)")
        }
    }

    private struct RestoreFailure: Error { let message: String }

    private struct BackupContents {
        let version: SimVersion
        let id: String
        let dump: URL
        /// The unpacked `service-manager/` tree, when the backup carries one.
        let serviceFiles: URL?
    }

    /// Unpacks the archive and finds its metadata and dump, as Connectware would.
    private func unpack(_ upload: URL, into work: URL) async throws -> BackupContents {
        let unpacked = try await ChildProcess.run("tar", ["-xf", upload.path, "-C", work.path, "--no-same-owner"])
        guard unpacked.status == 0 else {
            let reason = unpacked.stderr.split(whereSeparator: \.isNewline).first.map(String.init) ?? "unreadable"
            throw RestoreFailure(
                message: "Restore failed: the uploaded file is not a valid Connectware backup archive (\(reason)).")
        }
        var candidates = [work]
        let children = (try? FileManager.default.contentsOfDirectory(at: work, includingPropertiesForKeys: nil)) ?? []
        candidates += children.filter {
            $0.hasDirectoryPath || (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true
        }
        guard
            let directory = candidates.first(where: {
                FileManager.default.fileExists(atPath: $0.appendingPathComponent("metadata.json").path)
            })
        else {
            throw RestoreFailure(
                message:
                    "Restore failed: the uploaded archive holds no metadata.json, so it is not a Connectware backup.")
        }
        struct Metadata: Decodable {
            let version: String?
            let id: String?
        }
        let metadataFile = directory.appendingPathComponent("metadata.json")
        guard let data = try? Data(contentsOf: metadataFile),
            let metadata = try? JSONDecoder().decode(Metadata.self, from: data)
        else {
            throw RestoreFailure(message: "Restore failed: metadata.json in the uploaded archive is not valid JSON.")
        }
        guard let versionText = metadata.version, let version = SimVersion(versionText) else {
            throw RestoreFailure(
                message: "Restore failed: metadata.json does not name the Connectware version that created the backup.")
        }
        let id = metadata.id ?? directory.lastPathComponent
        let dump = directory.appendingPathComponent("cybus_connectware.dump")
        var isDirectory: ObjCBool = false
        let files = directory.appendingPathComponent(ServiceFiles.archiveDirectory, isDirectory: true)
        let hasFiles =
            FileManager.default.fileExists(atPath: files.path, isDirectory: &isDirectory) && isDirectory.boolValue
        return BackupContents(version: version, id: id, dump: dump, serviceFiles: hasFiles ? files : nil)
    }

    /// The status message of a refused restore, or nil when this server accepts the version.
    private func refusal(for backupVersion: SimVersion) -> String? {
        if version < backupVersion {
            return "Restore failed: the backup was created with Connectware \(backupVersion), which is newer than "
                + "this Connectware \(version). Restore it on Connectware \(backupVersion) or newer."
        }
        let blocking = barriers.filter { $0.refuses(backup: backupVersion, on: version) }
        // With several barriers in the way, the oldest one decides where the backup can still go.
        guard let barrier = blocking.min(by: { $0.before < $1.before }) else { return nil }
        return "Restore failed: the backup was created with Connectware \(backupVersion), whose database structure "
            + "is not supported by \(version). The last version that can restore this backup is \(barrier.last)."
    }

    private func finish(_ operation: Operation, succeeded: Bool, id: String?, message: String) {
        let end = Date()
        func completed(_ record: Record?) -> Record? {
            guard var record else { return nil }
            record.succeeded = succeeded
            record.id = id ?? record.id
            record.statusMessage = message
            record.endDate = end
            return record
        }
        switch operation {
        case .backup: backup = completed(backup)
        case .restore: restore = completed(restore)
        }
        running = nil
    }
}

/// Writes one line to stderr; stdout carries only the ready line.
func log(_ line: String) {
    FileHandle.standardError.write(Data("cwsim: \(line)\n".utf8))
}
