import Application
import ArgumentParser
import Foundation
import Migration
import Planner

/// `cwmigrate runs`: the migration runs in the state directory, and ending one.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List migration runs, or end one with `runs abandon ID`.",
        subcommands: [RunsList.self, RunsAbandon.self, RunsKeptImages.self],
        defaultSubcommand: RunsList.self)
}

struct RunsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the runs: id, installation, decision, outcome and the step each stands at.",
        discussion: Help.runs)

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            let store = state.store()
            let list = try store.list()
            if json {
                terminal.out(try RunRow.json(list.runs, store: store))
            } else if list.runs.isEmpty {
                terminal.out("No runs in \(store.directory).")
            } else {
                let rows = list.runs.map {
                    [$0.id, $0.installation.description, $0.plan.decision.rawValue, $0.outcome.rawValue, Self.stepText($0)]
                }
                for line in table([["ID", "INSTALLATION", "DECISION", "OUTCOME", "STEP"]] + rows) { terminal.out(line) }
            }
            for problem in list.unreadable { terminal.warning(problem.description) }
            return ExitStatus.ok
        }
    }

    /// `3/11 remove-volumes (failed)`, or `done` when every step is.
    static func stepText(_ journal: Journal) -> String {
        guard let step = journal.currentStep else { return "all \(journal.steps.count) steps done" }
        return "\(step.position + 1)/\(journal.steps.count) \(step.kind) (\(step.state.rawValue))"
    }

    func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
    }
}

struct RunsAbandon: ParsableCommand {
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

    func run() throws {
        try guarded(global) { terminal in
            let store = state.store()
            let journal = try store.abandon(id, at: Date(), reason: reason)
            terminal.out("Run \(journal.id) abandoned; its journal stays at \(store.path(of: journal.id)).")
            RunsKeptImages.releaseAfterAbandon(store, terminal)
            let stopped = journal.steps.last { $0.state != .pending }
            if let stopped {
                terminal.out(
                    "It had reached step \(stopped.position + 1) \(stopped.kind) (\(stopped.state.rawValue)); the installation is as that left it."
                )
            }
            if !journal.artifacts.isEmpty {
                terminal.out("Its files, kept:")
                for artifact in journal.artifacts {
                    terminal.out("  \(artifact.kind.rawValue)  \(artifact.path)  sha256 \(artifact.sha256)")
                }
            }
            return ExitStatus.ok
        }
    }
}
