import Application
import ArgumentParser
import Foundation
import Migration
import SafeFiles

/// The forms `cwmigrate report` writes.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case html, markdown, json
}

/// `cwmigrate report`: a run's report (or a fleet's) as a page people look at.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run's report (HTML, Markdown or JSON), or one page for a fleet's reports.",
        discussion: Help.report)

    @Argument(help: ArgumentHelp("The run's id, or `last`.", valueName: "run"))
    var id: String?

    @Option(help: "html, markdown or json.")
    var format: ReportFormat = .html

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var forceFlag: ForceFlag
    var force: Bool { forceFlag.force }

    @Option(
        help: ArgumentHelp(
            "A directory of host reports fetched by the Ansible playbook: one page for them all.", valueName: "dir"),
        completion: .directory)
    var fleet: String?

    @OptionGroup var state: StateDirectoryOption

    func validate() throws {
        if fleet != nil, id != nil { throw ValidationError("give a RUN or --fleet DIR, not both") }
        if let output, output.isEmpty { throw ValidationError("--output needs a file name") }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            if let output { try OutputFile.check(output, replacing: force, standardOutputRefusal: nil) }
            let text: String
            let what: String
            var inputs: [String] = []
            if let fleet {
                let page = try FleetReport(directory: fleet)
                inputs = page.hosts.compactMap(\.reportFile)
                switch format {
                case .html: text = page.html()
                case .markdown: text = page.markdown()
                case .json: text = String(decoding: page.json(), as: UTF8.self)
                }
                what = "the fleet page for \(page.hosts.count) host\(page.hosts.count == 1 ? "" : "s") (\(page.tally))"
            } else {
                let journal = try load()
                inputs = [state.store().path(of: journal.id)]
                let report = RunReport(journal)
                switch format {
                case .html: text = report.html()
                case .markdown: text = report.markdown()
                case .json: text = String(decoding: report.json(), as: UTF8.self)
                }
                what = "the report of run \(journal.id) (\(journal.outcome.rawValue))"
            }
            guard let output, output != "-" else {
                FileHandle.standardOutput.write(Data(text.utf8))
                return ExitStatus.ok
            }
            // A report holds no secret: 0644, as the runbooks are.
            try OutputFile.write(Array(text.utf8), to: output, mode: 0o644, replacing: force, inputs: inputs)
            terminal.note("wrote \(output): \(what)")
            return ExitStatus.ok
        }
    }

    /// The run named, or the newest one for `last`.
    private func load() throws -> Journal {
        let store = state.store()
        let id = self.id ?? "last"
        guard id == "last" else { return try store.load(id) }
        let list = try store.list()
        guard let newest = list.runs.last else {
            if let problem = list.unreadable.last { throw problem }
            throw Failure(
                message: "no runs in \(store.directory)",
                hint: "is --state-dir (or CWMIGRATE_STATE_DIR) the directory the run used?",
                exitCode: ExitStatus.noInput)
        }
        return newest
    }
}
