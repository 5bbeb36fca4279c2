import Migration

/// The forms `cwmigrate report` writes a run's report or a fleet's page in.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html, markdown, json
}

/// A report as `cwmigrate report` writes it: the document, what it is (for the note that
/// names the file written), and the files it was made from (none of them may be the output).
public struct ReportDocument: Sendable {
    public let text: String
    public let what: String
    public let inputs: [String]

    /// The page for the host reports the Ansible playbook fetched into `directory`.
    public static func fleet(_ directory: String, format: ReportFormat) throws -> ReportDocument {
        let page = try FleetReport(directory: directory)
        let text =
            switch format {
            case .html: page.html()
            case .markdown: page.markdown()
            case .json: String(decoding: page.json(), as: UTF8.self)
            }
        let hosts = "\(page.hosts.count) host\(page.hosts.count == 1 ? "" : "s")"
        return ReportDocument(
            text: text, what: "the fleet page for \(hosts) (\(page.tally))", inputs: page.hosts.compactMap(\.reportFile))
    }

    /// The report of the run `id` in `store`, or of the newest run for `last`.
    public static func run(_ id: RunName, in store: JournalStore, format: ReportFormat) throws -> ReportDocument {
        let journal = try RunLifecycle(store: store).named(id)
        let report = RunReport(journal)
        let text =
            switch format {
            case .html: report.html()
            case .markdown: report.markdown()
            case .json: String(decoding: report.json(), as: UTF8.self)
            }
        return ReportDocument(
            text: text, what: "the report of run \(journal.id) (\(journal.outcome.rawValue))",
            inputs: [store.path(of: journal.id)])
    }
}

extension RunLifecycle {
    /// The run `id`, or the newest one for `last`.
    public func named(_ name: RunName) throws -> Journal {
        if case .id(let id) = name { return try store.load(id) }
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
