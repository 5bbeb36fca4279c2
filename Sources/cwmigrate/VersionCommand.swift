import Application
import ArchiveInspect
import ArgumentParser
import Foundation
import HTTP

/// `cwmigrate version`: the build and the C libraries this host lends it, for a support ticket.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print cwmigrate's version and the libcurl and libarchive it runs with.",
        discussion: Help.version)

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    /// The JSON shape of `cwmigrate version --json`.
    struct Report: Codable {
        let version: String
        let commit: String
        let libcurl: CurlLibraryInfo
        let libarchive: ArchiveLibraryInfo
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            let report = Report(
                version: BuildInfo.version, commit: BuildInfo.commit,
                libcurl: .current(), libarchive: .current())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                terminal.out(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                for line in report.lines { terminal.out(line) }
            }
            return ExitStatus.ok
        }
    }
}

extension VersionCommand.Report {
    var lines: [String] {
        func row(_ label: String, _ value: String) -> String {
            label.padding(toLength: 12, withPad: " ", startingAt: 0) + value
        }
        let curl = [libcurl.version, libcurl.tls, libcurl.zlib.map { "zlib/\($0)" }].compactMap(\.self)
        var lines = [
            row("cwmigrate", "\(version) (\(commit))"),
            row("libcurl", curl.joined(separator: ", ")),
            row("libarchive", "\(libarchive.version) (\(libarchive.details))"),
        ]
        for support in [ArchiveLibraryInfo.Support.builtIn, .externalProgram, .unsupported] {
            let names = libarchive.compressions.filter { $0.read == support }.map(\.name)
            if !names.isEmpty { lines.append(row("  reads", "\(support.rawValue): \(names.joined(separator: " "))")) }
        }
        for support in [ArchiveLibraryInfo.Support.builtIn, .externalProgram, .unsupported] {
            let names = libarchive.compressions.filter { $0.write == support }.map(\.name)
            if !names.isEmpty { lines.append(row("  writes", "\(support.rawValue): \(names.joined(separator: " "))")) }
        }
        return lines
    }
}
