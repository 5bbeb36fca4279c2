import Application
import ArgumentParser
import Migration

extension ReportFormat: DocumentFormat {}

/// `cwmigrate report`: a run's report (or a fleet's) as a page people look at.
struct ReportCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run's report (HTML, Markdown or JSON), or one page for a fleet's reports.",
        discussion: Help.report)

    @Argument(help: ArgumentHelp("The run's id, or `last`.", valueName: "run"))
    var id: String?

    @OptionGroup var form: FormatOption<ReportFormat>

    @OptionGroup var destination: OutputOptions

    @Option(
        help: ArgumentHelp(
            "A directory of host reports fetched by the Ansible playbook: one page for them all.", valueName: "dir"),
        completion: .directory)
    var fleet: String?

    @OptionGroup var state: StateDirectoryOption

    func validate() throws {
        if fleet != nil, id != nil { throw ValidationError("give a RUN or --fleet DIR, not both") }
        if let output = destination.output, output.isEmpty { throw ValidationError("--output needs a file name") }
    }

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let output = DocumentOutput(path: destination.output, replacing: destination.force)
        try output.check()
        let document =
            try fleet.map { try ReportDocument.fleet($0, format: form.format) }
            ?? ReportDocument.run(try id.map(RunName.init(parsing:)) ?? .last, in: state.store(), format: form.format)
        if let written = try output.write(document.text, inputs: document.inputs) {
            console.note("wrote \(written): \(document.what)")
        } else {
            console.document(document.text)
        }
        return ExitStatus.ok
    }
}
