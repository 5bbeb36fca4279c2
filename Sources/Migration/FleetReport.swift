#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Planner

/// The reports the generated Ansible playbook fetched, one host each: it puts every host's
/// newest `<run>.report.json` (and `.md`) into `DIR/<inventory host>/`. A host whose
/// directory holds no readable report is a row too, so no host of forty goes missing.
public struct FleetReport: Sendable, Encodable {
    public static let currentFormat = "cwmigrate-fleet-report/1"

    /// One host's row: its newest report, or why there is none.
    public struct Host: Sendable, Encodable {
        public var host: String
        /// `failed`, `completed`, … as in the report; `no-report` when none could be read.
        public var outcome: String
        public var reportFile: String?
        public var problem: String?
        public var report: RunReport?
        /// The downtime in words as the page shows it (`12.3 s`, `not over`, `none`); absent without a report.
        public var downtime: String? = nil
    }

    public var format: String
    public var directory: String
    /// Failures first, then the runs that did not end well, then the completed ones; by host within each.
    public var hosts: [Host]

    /// Reads `directory/<host>/*.report.json`. Throws when the directory itself cannot be read
    /// or holds no host directory at all.
    public init(directory: String) throws(MigrationError) {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
            throw .fleetReports(directory: directory, reason: "it is not a directory")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            // FileManager's error has no words without Foundation: the system's come from
            // opening the directory again, where errno is surely the failing call's.
            guard let stream = opendir(directory) else {
                throw .fleetReports(directory: directory, reason: "it cannot be read (\(systemError()))")
            }
            closedir(stream)
            throw .fleetReports(directory: directory, reason: "it cannot be read (\(error))")
        }
        var hosts: [Host] = []
        for name in names where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var hostIsDirectory = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &hostIsDirectory),
                hostIsDirectory
            else { continue }
            hosts.append(Self.host(name, in: path))
        }
        guard !hosts.isEmpty else {
            throw .fleetReports(
                directory: directory,
                reason: "it holds no host directory (the playbook fetches each host's report to DIR/<host>/)")
        }
        format = Self.currentFormat
        self.directory = directory
        self.hosts = hosts.sorted {
            (Self.rank($0.outcome), $0.host) < (Self.rank($1.outcome), $1.host)
        }.map { host in
            var host = host
            host.downtime = host.report?.downtimeText
            return host
        }
    }

    /// Where an outcome sorts: what needs a person first.
    static func rank(_ outcome: String) -> Int {
        ["failed", "no-report", "rolled-back", "abandoned", "in-progress"].firstIndex(of: outcome) ?? 5
    }

    /// The host's newest report: run ids begin with their start time, so the greatest name is the newest.
    static func host(_ name: String, in path: String) -> Host {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".report.json") && !$0.hasPrefix(".") }.sorted()
        guard let newest = files.last else {
            return Host(
                host: name, outcome: "no-report", reportFile: nil, problem: "no *.report.json in \(path)", report: nil)
        }
        let file = path + "/" + newest
        guard let bytes = readFile(file, upTo: RunReport.sizeLimit + 1) else {
            return Host(
                host: name, outcome: "no-report", reportFile: file, problem: "\(file) cannot be read", report: nil)
        }
        let data = Data(bytes)
        guard data.count <= RunReport.sizeLimit else {
            return Host(
                host: name, outcome: "no-report", reportFile: file, problem: "\(file) is too large for a report",
                report: nil)
        }
        do {
            let report = try JSONDecoder().decode(RunReport.self, from: data)
            guard report.format == RunReport.currentFormat else {
                return Host(
                    host: name, outcome: "no-report", reportFile: file,
                    problem: "\(file) is a \(report.format) report, not \(RunReport.currentFormat)", report: nil)
            }
            return Host(host: name, outcome: report.outcome, reportFile: file, problem: nil, report: report)
        } catch {
            return Host(
                host: name, outcome: "no-report", reportFile: file,
                problem: "\(file) is not a cwmigrate report: \(JournalStore.decodingProblem(error))", report: nil)
        }
    }

    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8)) + [0x0A]
    }

    /// How many hosts ended each way, in the page's order: `2 failed, 1 completed`.
    public var tally: String {
        var counts: [(String, Int)] = []
        for host in hosts {
            if let index = counts.firstIndex(where: { $0.0 == host.outcome }) {
                counts[index].1 += 1
            } else {
                counts.append((host.outcome, 1))
            }
        }
        return counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    public func markdown() -> String {
        var lines = [
            "# cwmigrate fleet: \(hosts.count) host\(hosts.count == 1 ? "" : "s")", "", tally, "",
            "| host | outcome | run | versions | downtime | what happened |", "| --- | --- | --- | --- | --- | --- |",
        ]
        for host in hosts {
            let report = host.report
            let versions = report.map { "\($0.runningVersion) → \($0.versionAfter ?? "?")" } ?? ""
            let downtime = report?.downtimeText ?? ""
            let what = host.problem ?? report?.outcomeMessage ?? ""
            lines.append(
                "| \(RunReport.tableCell(host.host)) | \(host.outcome) | \(report?.run ?? "") | \(versions) | \(downtime) | \(RunReport.tableCell(what)) |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One page for the whole fleet: a row per host with its outcome, downtime and a small
    /// timeline, failures first.
    public func html() -> String {
        var body: [String] = []
        body.append("<h1>cwmigrate fleet: \(hosts.count) host\(hosts.count == 1 ? "" : "s")</h1>")
        body.append("<p class=\"sub\">\(htmlEscaped(tally)) · reports from \(htmlEscaped(directory))</p>")
        let downtimes = hosts.compactMap { $0.report?.downtimeSeconds }
        if !downtimes.isEmpty {
            body.append(
                "<div class=\"cards\">"
                    + "<div class=\"card\"><div class=\"k\">Hosts</div><div class=\"v\">\(hosts.count)</div><div class=\"d\">\(htmlEscaped(tally))</div></div>"
                    + "<div class=\"card\"><div class=\"k\">Longest downtime</div><div class=\"v\">\(Page.seconds(downtimes.max()))</div>"
                    + "<div class=\"d\">of \(downtimes.count) host\(downtimes.count == 1 ? "" : "s") back up</div></div>"
                    + "<div class=\"card\"><div class=\"k\">Total downtime</div><div class=\"v\">\(Page.seconds(downtimes.reduce(0, +)))</div>"
                    + "<div class=\"d\">summed over the hosts</div></div></div>")
        }
        body.append("<h2>Hosts</h2>")
        var rows = [
            "<table><thead><tr><th>host</th><th>outcome</th><th>versions</th><th class=\"num\">downtime</th>"
                + "<th>timeline</th><th>run and what happened</th></tr></thead><tbody>"
        ]
        for host in hosts {
            let report = host.report
            let versions = report.map { "\($0.runningVersion) → \($0.versionAfter ?? "?")" } ?? ""
            let downtime = report.map { $0.downtimeSeconds.map { Page.seconds($0) } ?? $0.downtimeText } ?? ""
            let strip = report.map { Timeline($0).strip() } ?? ""
            var what = report.map { "<span class=\"mono\">\(htmlEscaped($0.run))</span>" } ?? ""
            if let text = host.problem ?? report?.outcomeMessage {
                what += (what.isEmpty ? "" : "<br>") + htmlEscaped(text)
            }
            if let report, let failed = report.steps.first(where: { $0.state == "failed" }) {
                what += "<br>stopped at step \(failed.position) \(htmlEscaped(failed.kind.rawValue))"
            }
            rows.append(
                "<tr><td class=\"nowrap\"><b>\(htmlEscaped(host.host))</b></td>"
                    + "<td><span class=\"badge \(htmlEscaped(host.outcome))\">\(htmlEscaped(host.outcome))</span></td>"
                    + "<td class=\"nowrap\">\(htmlEscaped(versions))</td><td class=\"num\">\(downtime)</td><td>\(strip)</td><td>\(what)</td></tr>"
            )
        }
        rows.append("</tbody></table>")
        body.append(rows.joined(separator: "\n"))
        body.append(
            "<div class=\"legend\"><span style=\"--sw:#1f5fbf\">steps done</span><span style=\"--sw:#c8321e\">failed step; "
                + "the red line under a strip is the downtime</span><span style=\"--sw:#a35d00\">running</span></div>")
        body.append("<footer>Made by cwmigrate from each host's report (\(RunReport.currentFormat)).</footer>")
        return Page.document(title: "cwmigrate fleet: \(tally)", body: body.joined(separator: "\n"))
    }
}

extension RunReport {
    /// A report file larger than this is not one cwmigrate wrote.
    static let sizeLimit = 16 << 20
}
