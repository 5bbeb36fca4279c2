import ArchiveInspect
import ConnectwareAPI
import DockerOps
import HTTP
import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// What the read-only commands print for a person: the lines, aligned as the commands show
// them; the CLI only prints them. Their JSON forms are here too, so both stay together.

extension String {
    /// Cut or filled with blanks to `width` characters, as NSString's `padding(toLength:)` did.
    func padded(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}

/// `label` in a column of `width`, then `value`: the summaries' rows.
func row(_ label: String, _ value: String, width: Int = 11) -> String { label.padded(width) + value }

/// `value` as JSON with sorted keys and unescaped slashes, as every `--json` prints it.
public func sortedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

extension ArchiveFacts {
    /// `inspect`: a few aligned lines for a person; the JSON form carries the same facts.
    public var summaryLines: [String] {
        var lines = [row("file:", file), row("version:", version.description)]
        lines.append(row("backup id:", backupID?.description ?? "none found"))
        for (index, item) in evidence.enumerated() {
            let source = item.source.rawValue.padded(15)
            lines.append(row(index == 0 ? "evidence:" : "", "\(source)\(item.version)  \(item.detail)"))
        }
        let partial = complete ? "" : " so far (stopped at the metadata; --verify reads all)"
        lines.append(row("entries:", "\(entries)\(partial)"))
        let size = Self.binarySize(uncompressedBytes)
        let rounded = uncompressedBytes < 1024 ? "" : " (\(size))"
        lines.append(row("size:", "\(uncompressedBytes) bytes uncompressed\(rounded)\(partial.isEmpty ? "" : " so far")"))
        lines.append(row("archive:", "\(format), compression \(compression)"))
        lines.append(row("verified:", verified ? "yes, read to the end without damage" : "no (use --verify)"))
        if let sha256 { lines.append(row("sha256:", sha256)) }
        return lines
    }

    // Not ByteCountFormatter: it loads ICU, which alone costs a quick look 3 MiB of memory.
    static func binarySize(_ bytes: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : "\((value * 10).rounded() / 10) \(units[unit])"
    }
}

extension Installation {
    /// `host`: the installation as found, one aligned row per fact, service and volume.
    public var summaryLines: [String] {
        var lines = [
            row("project:", project), row("directory:", workingDirectory ?? "unknown"),
            row("version:", version?.description ?? versionText),
            row("docker:", "Engine \(engineVersion), API \(apiVersion)"),
        ]
        if let unit = systemdUnit {
            lines.append(row("systemd:", "\(unit.path) (stopped and started with systemctl stop/start \(unit.name))"))
        }
        for (index, container) in containers.enumerated() {
            let state = container.state + (container.health.map { " (\($0))" } ?? "")
            lines.append(
                row(index == 0 ? "services:" : "", container.service.padded(24) + state.padded(20) + container.image))
        }
        if containers.isEmpty { lines.append(row("services:", "none (no core containers)")) }
        for (index, line) in volumeLines(unknownSize: "size unknown").enumerated() {
            lines.append(row(index == 0 ? "volumes:" : "", line))
        }
        return lines
    }

    /// `host`: the warning that the services run different versions, with those versions; nil
    /// when they agree.
    public var mixedVersionsWarning: String? {
        hasMixedVersions ? "the services run different versions: " + versionText : nil
    }

    /// `migrate --dry-run`: the installation the plan is made for, before the plan.
    public func planHeading(running: Version) -> String {
        "Installation: project \(project) in \(workingDirectory ?? "an unknown directory"), Connectware \(running) (Docker Engine \(engineVersion))"
    }

    /// `volumes list` (and the volumes of `host`): name, size, and the services using each.
    public func volumeLines(unknownSize: String = "?") -> [String] {
        volumes.map { volume in
            let size = volume.sizeBytes.map(formatBytes) ?? unknownSize
            let users = volume.usedBy.isEmpty ? "unused" : "used by " + volume.usedBy.joined(separator: ", ")
            return volume.name.padded(40) + size.padded(12) + users
        }
    }

    /// `host --json`: the installation as found, plus the one `version` its services agree on
    /// (null when they disagree or show none), so a script need not reconcile `imageVersions`.
    public func hostJSON() throws -> String { try sortedJSON(HostJSON(installation: self)) }

    private struct HostJSON: Encodable {
        let installation: Installation
        private enum Key: String, CodingKey { case version }

        func encode(to encoder: any Encoder) throws {
            try installation.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(installation.version?.description, forKey: .version)
        }
    }
}

extension SnapshotManifest {
    /// `volumes snapshot`: what was written to `file` and that it was read back.
    public func summaryLines(file: String) -> [String] {
        var lines = [row("snapshot:", file), row("volume:", volume)]
        lines.append(row("version:", connectwareVersion ?? "unknown"))
        lines.append(
            row(
                "files:",
                "\(files) files, \(directories) directories, \(symlinks) symlinks, \(bytes) bytes (\(formatBytes(bytes)))"
            ))
        if let archiveBytes {
            lines.append(row("archive:", "\(archiveBytes) bytes (\(formatBytes(archiveBytes))), zstd"))
        }
        lines.append(row("verified:", "yes, read back to the end"))
        if let archiveSHA256 { lines.append(row("sha256:", archiveSHA256)) }
        return lines
    }

    /// `volumes snapshot`: a warning for each file the snapshot could not hold.
    public var skippedWarnings: [String] { skipped.map { "left out \($0): tar cannot hold a socket" } }

    /// `volumes restore`: what was put back from `snapshot`.
    public func restoredLines(from snapshot: String) -> [String] {
        ["restored:  \(volume) from \(snapshot)", "files:     \(files), \(bytes) bytes, \(entries) entries"]
    }
}

extension ProjectVolume {
    /// `volumes remove`: the volume removed, and the snapshot of it that verified.
    public func removedLine(snapshot: String) -> String { row("removed:", "\(name) (snapshot \(snapshot) verified)") }
}

/// `cwmigrate version`: the build and the C libraries this host lends it, for a support ticket.
public struct VersionReport: Codable {
    public let version: String
    public let commit: String
    public let libcurl: CurlLibraryInfo
    public let libarchive: ArchiveLibraryInfo

    /// The build's version and commit, with the libraries loaded now.
    public init(version: String, commit: String) {
        self.init(version: version, commit: commit, libcurl: .current(), libarchive: .current())
    }

    public init(version: String, commit: String, libcurl: CurlLibraryInfo, libarchive: ArchiveLibraryInfo) {
        self.version = version
        self.commit = commit
        self.libcurl = libcurl
        self.libarchive = libarchive
    }

    public var lines: [String] {
        let curl =
            libcurl.unavailable.map { ["\(libcurl.version) (\($0))"] }
            ?? [libcurl.version, libcurl.tls, libcurl.zlib.map { "zlib/\($0)" }].compactMap(\.self)
        var lines = [
            row("cwmigrate", "\(version) (\(commit))", width: 12),
            row("libcurl", curl.joined(separator: ", "), width: 12),
            row("libarchive", "\(libarchive.version) (\(libarchive.details))", width: 12),
        ]
        for support in [ArchiveLibraryInfo.Support.builtIn, .externalProgram, .unsupported] {
            let names = libarchive.compressions.filter { $0.read == support }.map(\.name)
            if !names.isEmpty {
                lines.append(row("  reads", "\(support.rawValue): \(names.joined(separator: " "))", width: 12))
            }
        }
        for support in [ArchiveLibraryInfo.Support.builtIn, .externalProgram, .unsupported] {
            let names = libarchive.compressions.filter { $0.write == support }.map(\.name)
            if !names.isEmpty {
                lines.append(row("  writes", "\(support.rawValue): \(names.joined(separator: " "))", width: 12))
            }
        }
        return lines
    }
}

/// `cwmigrate status`: the last backup and restore at a glance, or as JSON (schema in the README).
public enum StatusReport {
    public static func lines(url: String, status: MaintenanceStatus) -> [String] {
        [
            "Connectware: \(url)",
            "Now:          \(status.running ? "a backup or restore is running" : "idle")",
            "Last backup:  \(describe(status.backup, running: status.runningOperation == .backup))",
            "Last restore: \(describe(status.restore, running: status.runningOperation == .restore))",
        ]
    }

    /// `running` when the status says this operation runs now: a server may send `succeded:
    /// false` for it until it ends, which is not a failure.
    static func describe(_ operation: MaintenanceStatus.Operation?, running: Bool) -> String {
        guard let operation else { return "never ran" }
        let outcome =
            switch (running, operation.succeeded) {
            case (true, _), (false, nil): "running"
            case (false, true?): "succeeded"
            case (false, false?): "FAILED"
            }
        var parts = [outcome]
        if let id = operation.id { parts.append(id) }
        if let start = operation.startDateText {
            var when = "started \(start)"
            if let begin = operation.startDate, let end = operation.endDate {
                when += cFormat(", took %.1f s", end.timeIntervalSince(begin))
            }
            parts.append(when)
        }
        var line = parts.joined(separator: "  ")
        if let message = operation.statusMessage, !message.isEmpty { line += "\n              \(message)" }
        return line
    }

    /// Absent values are null.
    public static func json(url: String, status: MaintenanceStatus) -> String {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func operation(_ record: MaintenanceStatus.Operation?, _ kind: MaintenanceOperation) -> JSONValue {
            guard let record else { return .null }
            let running = status.runningOperation == kind
            return [
                "running": .bool(running), "succeeded": running ? .null : record.succeeded.map(JSONValue.bool) ?? .null,
                "id": text(record.id), "version": text(record.backupID?.version.description),
                "statusMessage": text(record.statusMessage), "startDate": text(record.startDateText),
                "endDate": text(record.endDateText),
            ]
        }
        let object: JSONValue = [
            "url": .string(url), "running": .bool(status.running), "backup": operation(status.backup, .backup),
            "restore": operation(status.restore, .restore),
        ]
        return object.text
    }
}

extension Plan {
    /// `plan` and `migrate --dry-run`: the plan as JSON, or as text after `heading`, on stdout and
    /// its notes on stderr; returns the exit code of its decision.
    public func say(json: Bool, heading: String? = nil, on console: Console) -> Int32 {
        let text = (heading.map { [$0] } ?? []) + [renderText(color: console.colorOnStdout)]
        console.out(lines: json ? [renderJSON()] : text)
        for note in notes { console.note(note) }
        return ExitStatus.of(decision)
    }
}
