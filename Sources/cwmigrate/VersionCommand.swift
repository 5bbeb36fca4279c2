import Application
import ArgumentParser

/// `cwmigrate version`: the build and the C libraries this host lends it, for a support ticket.
struct VersionCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print cwmigrate's version and the libcurl and libarchive it runs with.",
        discussion: Help.version)

    @OptionGroup var json: JSONFlag

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let report = VersionReport(version: BuildInfo.version, commit: BuildInfo.commit)
        console.out(lines: json.requested ? [try sortedJSON(report)] : report.lines)
        return ExitStatus.ok
    }
}
