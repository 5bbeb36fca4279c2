import Application
import ArchiveInspect
import ArgumentParser
import Foundation
import HTTP
import Planner

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find out which Connectware version a backup archive came from.",
        discussion: Help.inspect)

    @Argument(help: "The backup archive (.tgz or any tar libarchive reads).", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var file: String

    @Flag(help: "Read the whole archive to the end and compute its SHA-256.")
    var verify = false

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var assumption: AssumedVersionOption

    @OptionGroup var progress: ProgressOption

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            var options = InspectOptions(verify: verify)
            if let text = assumption.assumeVersion {
                do { options.assumedVersion = try Version(parsing: text) } catch {
                    throw ArchiveInspectError.badAssumedVersion(text, reason: "\(error)")
                }
            }
            let facts = try inspectBackup(at: file, options: options, progress: progress.reporter(terminal))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                terminal.out(String(decoding: try encoder.encode(facts), as: UTF8.self))
            } else {
                for line in facts.summaryLines { terminal.out(line) }
            }
            for warning in facts.warnings { terminal.warning(warning) }
            return ExitStatus.ok
        }
    }
}

extension ArchiveFacts {
    /// A few aligned lines for a person; the JSON form carries the same facts.
    var summaryLines: [String] {
        func row(_ label: String, _ value: String) -> String {
            label.padding(toLength: 11, withPad: " ", startingAt: 0) + value
        }
        var lines = [row("file:", file), row("version:", version.description)]
        lines.append(row("backup id:", backupID?.description ?? "none found"))
        for (index, item) in evidence.enumerated() {
            let source = item.source.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
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
