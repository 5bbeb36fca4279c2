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
        let table = Journal.table(list.runs, stateDirectory: store.directory)
        console.out(lines: json.requested ? [try RunRow.json(list.runs, store: store)] : table)
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
        try RunLifecycle(store: state.store()).abandon(
            id, reason: reason, at: Date(), host: try? ConnectwareHost(), on: console)
        return ExitStatus.ok
    }
}
