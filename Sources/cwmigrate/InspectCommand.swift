import Application
import ArchiveInspect
import ArgumentParser
import Planner

struct Inspect: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Find out which Connectware version a backup archive came from.",
        discussion: Help.inspect)

    @Argument(help: "The backup archive (.tgz or any tar libarchive reads).", completion: .backupArchive)
    var file: String

    @Flag(help: "Read the whole archive to the end and compute its SHA-256.")
    var verify = false

    @OptionGroup var json: JSONFlag

    @OptionGroup var assumption: AssumedVersionOption

    @OptionGroup var progress: ProgressOption

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let options = try InspectOptions(verify: verify, assumedVersionText: assumption.assumeVersion)
        let facts = try inspectBackup(at: file, options: options, progress: progress.reporter(console))
        console.out(lines: json.requested ? [try sortedJSON(facts)] : facts.summaryLines)
        for warning in facts.warnings { console.warning(warning) }
        return ExitStatus.ok
    }
}
