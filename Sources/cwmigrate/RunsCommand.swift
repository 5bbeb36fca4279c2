import Application
import ArgumentParser
import DockerOps
import FoundationEssentials
import Migration

/// `cwmigrate runs`: the migration runs in the state directory, and ending one.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List migration runs, or end one with `runs abandon ID`.",
        subcommands: [RunsList.self, RunsAbandon.self, RunsKeptImages.self],
        defaultSubcommand: RunsList.self)
}

struct RunsList: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the runs: id, installation, decision, outcome and the step each stands at.",
        discussion: Help.runs)

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var json: JSONFlag

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let store = state.store()
        let list = try store.list()
        if json.requested {
            console.out(try RunRow.json(list.runs, store: store))
        } else {
            console.out(lines: list.runs.isEmpty ? ["No runs in \(store.directory)."] : Journal.table(list.runs))
        }
        for problem in list.unreadable { console.warning(problem.description) }
        return ExitStatus.ok
    }
}

struct RunsAbandon: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "abandon",
        abstract: "End a run for good without rolling it back; its journal and files stay.",
        discussion: Help.runsAbandon)

    @Argument(help: "The run's id, as `cwmigrate runs` lists it.")
    var id: String

    @Option(help: "Why, for the journal.")
    var reason = "abandoned by the operator (cwmigrate runs abandon)"

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let store = state.store()
        let journal = try store.abandon(id, at: Date(), reason: reason)
        let lines = journal.abandonedLines(journalPath: store.path(of: journal.id))
        console.out(lines[0])
        console.say(KeptImages.releaseAfterAbandon(store: store, host: try? ConnectwareHost()))
        console.out(lines: Array(lines.dropFirst()))
        return ExitStatus.ok
    }
}
