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
import Vocabulary
import Planner

/// HTML made by hand: every text from a journal or a server is escaped, and nothing is
/// loaded from anywhere (inline CSS and SVG, a Content-Security-Policy that forbids the rest),
/// so a report mailed to a change board opens the same offline, years later.
enum Page {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="cwmigrate">
        <title>\(htmlEscaped(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static let css = """
        :root { --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --work: #1f5fbf; --wait: #9cc1f2;
          --fail: #c8321e; --down: #fbe3df; --ok: #1d7a46; --warn: #a35d00; --paper: #ffffff; --band: #f5f7fa; }
        * { box-sizing: border-box; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { margin: 0; padding: 28px 36px 48px; color: var(--ink); background: var(--paper);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
        .sub { color: var(--muted); margin: 0 0 18px; }
        .badge { display: inline-block; white-space: nowrap; padding: 1px 10px; border-radius: 11px; font-size: 13px; font-weight: 600;
          color: #fff; background: var(--muted); vertical-align: 3px; margin-left: 6px; }
        .badge.completed { background: var(--ok); } .badge.failed { background: var(--fail); }
        .badge.in-progress { background: var(--warn); } .badge.rolled-back { background: #6b4fbb; }
        .badge.abandoned, .badge.no-report { background: #6d7580; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 10px; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--band); }
        .card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .v { font-size: 18px; font-weight: 600; margin-top: 2px; }
        .card .d { color: var(--muted); font-size: 12px; }
        .message { border-left: 4px solid var(--fail); background: #fdf1ef; padding: 8px 12px; margin: 12px 0; }
        .message.note { border-color: var(--warn); background: #fff6e6; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
        td { overflow-wrap: anywhere; } td.nowrap { white-space: nowrap; } td.step { min-width: 180px; overflow-wrap: normal; }
        td.time { white-space: nowrap; }
        th { color: var(--muted); font-weight: 600; font-size: 12px; background: var(--band); }
        td.num, th.num { text-align: right; white-space: nowrap; }
        tr { break-inside: avoid; }
        code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
        .hash { word-break: break-all; }
        .state-failed { color: var(--fail); font-weight: 600; } .state-done { color: var(--ok); }
        .state-running, .state-paused { color: var(--warn); font-weight: 600; } .state-pending, .state-skipped { color: var(--muted); }
        svg { display: block; max-width: 100%; height: auto; }
        svg text { font-family: system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
        .legend { display: flex; flex-wrap: wrap; gap: 16px; color: var(--muted); font-size: 12px; margin-top: 6px; }
        .legend span::before { content: ""; display: inline-block; width: 14px; height: 10px; margin-right: 6px;
          vertical-align: -1px; border-radius: 2px; background: var(--sw); border: 1px solid var(--bd, transparent); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
        footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
        @media print { body { padding: 0; } h2 { break-after: avoid; } .card { break-inside: avoid; } }
        """

    /// `06:59:21.133` from `2026-11-30T06:59:21.133Z`: the date is in the page's header once.
    static func timeOfDay(_ timestamp: String?) -> String {
        guard let timestamp, let t = timestamp.firstIndex(of: "T") else { return timestamp ?? "" }
        return String(timestamp[timestamp.index(after: t)...].prefix { $0 != "Z" })
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "" }
        if value < 60 { return cFormat("%.1f s", value) }
        let total = Int(value.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? cFormat("%d h %02d min %02d s", h, m, s) : cFormat("%d min %02d s", m, s)
    }

}

/// A run's steps placed on a time axis: where each step began and ended, how much of it was
/// cwmigrate's own work, and when Connectware was down.
struct Timeline {
    struct Bar {
        var step: RunReport.StepLine
        var start: Date?
        var end: Date?
        /// A step of a plan given up during the run.
        var replaced = false
    }

    let bars: [Bar]
    let origin: Date
    let span: Double
    let downtime: (from: Date, to: Date)?
    /// Down since then and not back through this run: drawn open to the end of the axis.
    let downSince: Date?

    init(_ report: RunReport) {
        let bars =
            (report.replacedSteps ?? []).map {
                Bar(
                    step: $0, start: $0.startedAt.flatMap(Timestamp.parse), end: $0.endedAt.flatMap(Timestamp.parse),
                    replaced: true)
            }
            + report.steps.map {
                Bar(step: $0, start: $0.startedAt.flatMap(Timestamp.parse), end: $0.endedAt.flatMap(Timestamp.parse))
            }
        let created = Timestamp.parse(report.createdAt)
        let times =
            bars.flatMap { [$0.start, $0.end] }.compactMap { $0 }
            + [created, report.endedAt.flatMap(Timestamp.parse)].compactMap { $0 }
        let origin = bars.compactMap(\.start).min() ?? created ?? Date(timeIntervalSince1970: 0)
        let last = times.max() ?? origin
        self.bars = bars
        self.origin = origin
        self.span = max(last.timeIntervalSince(origin), 1)
        if let from = report.downtimeFrom.flatMap(Timestamp.parse), let to = report.downtimeTo.flatMap(Timestamp.parse)
        {
            downtime = (from, to)
        } else {
            downtime = nil
        }
        downSince = downtime == nil ? report.downSince.flatMap(Timestamp.parse) : nil
    }

    var end: Date { origin.addingTimeInterval(span) }

    /// A tick every 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min or hours: at most eight.
    var tickInterval: Double {
        let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400]
        return steps.first { span / $0 <= 8 } ?? span / 8
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? cFormat("%d:%02d:%02d", h, m, s) : cFormat("%d:%02d", m, s)
    }

    /// The full picture for one run's report.
    func svg() -> String {
        let labelWidth = 230.0
        let chart = 640.0
        let right = 80.0
        let row = 28.0
        let top = 44.0
        let width = labelWidth + chart + right
        let height = top + row * Double(max(bars.count, 1)) + 30
        func x(_ date: Date) -> Double { labelWidth + date.timeIntervalSince(origin) / span * chart }
        var out: [String] = []
        out.append(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" "
                + "height=\"\(Int(height))\" role=\"img\" aria-label=\"Timeline of the run's steps\">")
        out.append(
            "<defs><pattern id=\"wait\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                + "<rect width=\"6\" height=\"6\" fill=\"#c9ddf8\"/><rect width=\"3\" height=\"6\" fill=\"#9cc1f2\"/></pattern></defs>"
        )
        for index in bars.indices where index % 2 == 1 {
            out.append(
                "<rect x=\"0\" y=\"\(top + row * Double(index))\" width=\"\(Int(width))\" height=\"\(row)\" fill=\"#f5f7fa\"/>"
            )
        }
        if let downtime {
            let from = x(downtime.from)
            let to = max(x(downtime.to), from + 2)
            let label = "downtime " + Page.seconds(downtime.to.timeIntervalSince(downtime.from))
            out.append(
                "<rect x=\"\(f(from))\" y=\"\(top - 6)\" width=\"\(f(to - from))\" height=\"\(f(row * Double(bars.count) + 12))\" "
                    + "fill=\"#fbe3df\" stroke=\"#e5a59b\" stroke-dasharray=\"4 3\"><title>\(htmlEscaped(label))</title></rect>"
            )
            let anchor = (from + to) / 2
            out.append(
                "<text x=\"\(f(anchor))\" y=\"\(top - 10)\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\" "
                    + "style=\"fill:#b3261e\">\(htmlEscaped(label))</text>")
        }
        if let downSince {
            let from = x(downSince)
            let to = labelWidth + chart
            let label = "down since +\(Self.clock(downSince.timeIntervalSince(origin))), not over"
            out.append(
                "<rect x=\"\(f(from))\" y=\"\(top - 6)\" width=\"\(f(max(to - from, 2)))\" height=\"\(f(row * Double(bars.count) + 12))\" "
                    + "fill=\"#fbe3df\" stroke=\"#e5a59b\" stroke-dasharray=\"4 3\"><title>\(label)</title></rect>")
            out.append(
                "<text x=\"\(f(to))\" y=\"\(top - 10)\" text-anchor=\"end\" font-size=\"12\" font-weight=\"600\" "
                    + "style=\"fill:#b3261e\">\(label)</text>")
        }
        // The axis: relative time from the first step's start.
        let interval = tickInterval
        var tick = 0.0
        while tick <= span + 0.001 {
            let tx = labelWidth + tick / span * chart
            out.append(
                "<line x1=\"\(f(tx))\" y1=\"\(top - 4)\" x2=\"\(f(tx))\" y2=\"\(f(top + row * Double(bars.count)))\" "
                    + "stroke=\"#d9dee5\" stroke-width=\"1\"/>")
            out.append(
                "<text x=\"\(f(tx))\" y=\"\(f(height - 12))\" text-anchor=\"middle\" font-size=\"11\" style=\"fill:#5b6776\">"
                    + "+\(Self.clock(tick))</text>")
            tick += interval
        }
        for (index, bar) in bars.enumerated() {
            let y = top + row * Double(index)
            let step = bar.step
            out.append(
                bar.replaced
                    ? "<text x=\"8\" y=\"\(f(y + 18))\" font-size=\"12\" font-style=\"italic\" style=\"fill:#5b6776\">"
                        + "\(step.position). \(htmlEscaped(step.kind.rawValue)) (plan given up)</text>"
                    : "<text x=\"8\" y=\"\(f(y + 18))\" font-size=\"12\">\(step.position). \(htmlEscaped(step.kind.rawValue))</text>"
            )
            let title = htmlEscaped(
                "\(step.position). \(step.title): \(step.state)"
                    + (step.durationSeconds.map { ", " + Page.seconds($0) } ?? ""))
            guard let start = bar.start else {
                let what = step.state == "skipped" ? "skipped" : "not started"
                out.append(
                    "<text x=\"\(f(labelWidth + 4))\" y=\"\(f(y + 18))\" font-size=\"11\" font-style=\"italic\" "
                        + "style=\"fill:#8a94a1\">\(what)<title>\(title)</title></text>")
                continue
            }
            let x0 = x(start)
            let open = bar.end == nil
            let x1 = max(x(bar.end ?? end), x0 + 2)
            let w = x1 - x0
            let failed = step.state == "failed"
            if failed {
                out.append(
                    "<rect x=\"\(f(x0))\" y=\"\(f(y + 6))\" width=\"\(f(w))\" height=\"16\" rx=\"2\" fill=\"#c8321e\">"
                        + "<title>\(title)</title></rect>")
            } else if let cpu = step.cpuSeconds, let total = step.durationSeconds, total > 0 {
                let own = max(1, w * min(1, cpu / total))
                out.append(
                    "<rect x=\"\(f(x0))\" y=\"\(f(y + 6))\" width=\"\(f(w))\" height=\"16\" rx=\"2\" fill=\"url(#wait)\" "
                        + "stroke=\"#7aa6e6\" stroke-width=\"0.5\"><title>\(title); waiting \(Page.seconds(step.waitSeconds))"
                        + "</title></rect>")
                out.append(
                    "<rect x=\"\(f(x0))\" y=\"\(f(y + 6))\" width=\"\(f(own))\" height=\"16\" rx=\"2\" fill=\"#1f5fbf\">"
                        + "<title>\(title); cwmigrate's own work \(Page.seconds(cpu))</title></rect>")
            } else {
                out.append(
                    "<rect x=\"\(f(x0))\" y=\"\(f(y + 6))\" width=\"\(f(w))\" height=\"16\" rx=\"2\" fill=\"#6f8fb8\""
                        + (open ? " stroke=\"#a35d00\" stroke-dasharray=\"3 2\"" : "")
                        + "><title>\(title)</title></rect>")
            }
            let label =
                open
                ? "running" : (step.state == "skipped" ? "skipped" : Page.seconds(step.durationSeconds ?? 0))
            let after = x1 + 6 + 60 <= width
            out.append(
                "<text x=\"\(f(after ? x1 + 6 : x0 - 6))\" y=\"\(f(y + 18))\" font-size=\"11\" "
                    + "text-anchor=\"\(after ? "start" : "end")\" style=\"fill:\(failed ? "#c8321e" : "#5b6776")\">"
                    + "\(htmlEscaped(label))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// A small strip for the fleet page: the steps side by side on the run's own axis.
    func strip(width: Double = 280, height: Double = 22) -> String {
        func x(_ date: Date) -> Double { date.timeIntervalSince(origin) / span * width }
        var out = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" "
                + "height=\"\(Int(height))\" role=\"img\" aria-label=\"Timeline\">",
            "<rect x=\"0\" y=\"4\" width=\"\(Int(width))\" height=\"\(f(height - 8))\" fill=\"#eef1f5\"/>",
        ]
        for bar in bars {
            guard let start = bar.start else { continue }
            let x0 = x(start)
            let x1 = max(x(bar.end ?? end), x0 + (bar.step.state == "failed" ? 4 : 1.5))
            // A plan given up is history, not this run's failure: grey, whatever its state.
            let colour =
                switch (bar.replaced, bar.step.state) {
                case (true, _): "#b8c2cf"
                case (_, "failed"): "#c8321e"
                case (_, "running"): "#a35d00"
                case (_, "done"): bar.step.position % 2 == 0 ? "#1f5fbf" : "#6f9de0"
                default: "#b8c2cf"
                }
            out.append(
                "<rect x=\"\(f(x0))\" y=\"6\" width=\"\(f(max(x1 - x0 - 0.5, 1)))\" height=\"\(f(height - 12))\" fill=\"\(colour)\">"
                    + "<title>\(bar.step.position). \(htmlEscaped(bar.step.kind.rawValue)): \(bar.step.state) "
                    + "\(Page.seconds(bar.step.durationSeconds))</title></rect>")
        }
        if let downtime {
            let from = x(downtime.from)
            let to = max(x(downtime.to), from + 2)
            out.append(
                "<rect x=\"\(f(from))\" y=\"\(f(height - 4))\" width=\"\(f(to - from))\" height=\"3\" fill=\"#c8321e\">"
                    + "<title>downtime \(Page.seconds(downtime.to.timeIntervalSince(downtime.from)))</title></rect>")
        }
        if let downSince {
            let from = x(downSince)
            out.append(
                "<rect x=\"\(f(from))\" y=\"\(f(height - 4))\" width=\"\(f(max(width - from, 2)))\" height=\"3\" fill=\"#c8321e\" "
                    + "opacity=\"0.6\"><title>down since +\(Self.clock(downSince.timeIntervalSince(origin))), not over</title></rect>"
            )
        }
        out.append("</svg>")
        return out.joined()
    }

    private func f(_ value: Double) -> String { cFormat("%.1f", value) }
}

extension RunReport {
    /// The report as one self-contained HTML page: the outcome, the versions, a timeline of
    /// the steps with the downtime marked and the waits told apart from cwmigrate's own work,
    /// every step and artifact, and the knowledge that decided the plan.
    public func html() -> String {
        var body: [String] = []
        body.append(
            "<h1>cwmigrate run <span class=\"mono\">\(htmlEscaped(run))</span>"
                + "<span class=\"badge \(htmlEscaped(outcome))\">\(htmlEscaped(outcome))</span></h1>")
        body.append(
            "<p class=\"sub\">Installation \(htmlEscaped(installation)) · started \(htmlEscaped(createdAt))"
                + " · ended \(htmlEscaped(endedAt ?? "not yet"))</p>")
        if let outcomeMessage {
            body.append("<div class=\"message\">\(htmlEscaped(outcomeMessage))</div>")
        }
        body.append(cards())
        body.append("<h2>Timeline</h2>")
        body.append(Timeline(self).svg())
        body.append(
            "<div class=\"legend\"><span style=\"--sw:#1f5fbf\">cwmigrate's own work (its CPU time)</span>"
                + "<span style=\"--sw:#9cc1f2\">waiting for Connectware, Docker, the installer or the network</span>"
                + "<span style=\"--sw:#6f8fb8\">not measured</span><span style=\"--sw:#c8321e\">failed</span>"
                + "<span style=\"--sw:#fbe3df;--bd:#e5a59b\">downtime: Connectware not serving</span></div>")
        body.append("<h2>Steps</h2>")
        body.append(Self.stepsTable(steps))
        if let replacedSteps {
            body.append("<h2>Steps of the plan given up</h2>")
            body.append(
                "<p>Connectware refused the restore, and its message made a new plan; these steps of the first"
                    + " plan were begun and not kept.</p>")
            body.append(Self.stepsTable(replacedSteps))
        }
        body.append("<h2>Artifacts</h2>")
        body.append(artifactsTable())
        body.append("<h2>What decided the plan</h2>")
        body.append(knowledge())
        body.append(
            "<footer>Report \(htmlEscaped(format)) made from the run's journal; it holds no password or token.</footer>"
        )
        return Page.document(title: "cwmigrate run \(run): \(outcome)", body: body.joined(separator: "\n"))
    }

    private func cards() -> String {
        func card(_ key: String, _ value: String, _ detail: String) -> String {
            "<div class=\"card\"><div class=\"k\">\(htmlEscaped(key))</div><div class=\"v\">\(htmlEscaped(value))</div>"
                + "<div class=\"d\">\(htmlEscaped(detail))</div></div>"
        }
        let total = Timestamp.parse(createdAt).flatMap { start in
            endedAt.flatMap(Timestamp.parse).map { $0.timeIntervalSince(start) }
        }
        let own = steps.compactMap(\.cpuSeconds).reduce(0, +)
        let waited = steps.compactMap(\.waitSeconds).reduce(0, +)
        return "<div class=\"cards\">"
            + card(
                "Downtime", downtimeSeconds.map { Page.seconds($0) } ?? downtimeText,
                downtimeSeconds != nil
                    ? "\(Page.timeOfDay(downtimeFrom)) to \(Page.timeOfDay(downtimeTo)) UTC"
                    : downSince.map {
                        "down since \(Page.timeOfDay($0)) UTC; not back at \(runningVersion) through this run"
                    }
                        ?? "no step took Connectware down")
            + card(
                "Versions", "\(runningVersion) → \(versionAfter ?? "?")",
                "running before the run → after it"
                    + (restoreVersion.map { $0 == runningVersion ? "" : ", via \($0)" } ?? ""))
            + card(
                "Backup restored", backupVersion,
                restoreVersion.map {
                    "on \($0)" + (upgradePath.isEmpty ? "" : ", then up through " + upgradePath.joined(separator: ", "))
                }
                    ?? "not restored by this plan")
            + card("Run time", total.map { Page.seconds($0) } ?? "not ended", "from start to end")
            + card(
                "cwmigrate's own work", Page.seconds(own),
                "waiting for others: \(Page.seconds(waited))"
                    + (overheadSeconds.map { "; CPU in all: \(Page.seconds($0))" } ?? ""))
            + "</div>"
    }

    private static func stepsTable(_ steps: [StepLine]) -> String {
        var rows = [
            "<table><thead><tr><th class=\"num\">#</th><th>step</th><th>state</th><th>started – ended (UTC)</th>"
                + "<th class=\"num\">duration</th><th class=\"num\">own work</th><th class=\"num\">waiting</th>"
                + "<th class=\"num\">attempts</th><th>what happened</th></tr></thead><tbody>"
        ]
        for step in steps {
            rows.append(
                "<tr><td class=\"num\">\(step.position)</td><td class=\"step\"><b>\(htmlEscaped(step.kind.rawValue))</b><br>\(htmlEscaped(step.title))</td>"
                    + "<td class=\"state-\(htmlEscaped(step.state))\">\(htmlEscaped(step.state))"
                    + (step.adoptedAt == nil ? "" : "<br><small>adopted</small>") + "</td>"
                    + "<td class=\"mono time\" title=\"\(htmlEscaped(step.startedAt ?? "")) – \(htmlEscaped(step.endedAt ?? ""))\">"
                    + (step.startedAt == nil && step.endedAt == nil
                        ? "" : "\(Page.timeOfDay(step.startedAt))<br>\(Page.timeOfDay(step.endedAt))") + "</td>"
                    + "<td class=\"num\">\(Page.seconds(step.durationSeconds))</td><td class=\"num\">\(Page.seconds(step.cpuSeconds))</td>"
                    + "<td class=\"num\">\(Page.seconds(step.waitSeconds))</td><td class=\"num\">\(step.attempts)</td>"
                    + "<td>\(htmlEscaped(step.message ?? ""))</td></tr>")
        }
        rows.append("</tbody></table>")
        return rows.joined(separator: "\n")
    }

    private func artifactsTable() -> String {
        guard !artifacts.isEmpty else { return "<p>None: the run made no file yet.</p>" }
        var rows = [
            "<table><thead><tr><th>kind</th><th>file</th><th class=\"num\">size</th><th>SHA-256</th></tr></thead><tbody>"
        ]
        for artifact in artifacts {
            rows.append(
                "<tr><td><b>\(htmlEscaped(artifact.kind))</b>"
                    + (artifact.detail.map { "<br>\(htmlEscaped($0))" } ?? "") + "</td>"
                    + "<td class=\"mono hash\">\(htmlEscaped(artifact.path))</td>"
                    + "<td class=\"num\">\(formatBytes(artifact.bytes))<br><span class=\"mono\">\(artifact.bytes) bytes</span></td>"
                    + "<td class=\"mono hash\">\(htmlEscaped(artifact.sha256))</td></tr>")
        }
        rows.append("</tbody></table>")
        return rows.joined(separator: "\n")
    }

    private func knowledge() -> String {
        var facts: [(String, String)] = [
            ("Decision", decision.rawValue), ("Why", reason),
            ("Backup", "\(backupFile), Connectware \(backupVersion), id \(backupID ?? "none")"),
            ("Backup SHA-256", backupSHA256 ?? "not recorded"), ("Running when the run began", runningVersion),
        ]
        if let restoreVersion { facts.append(("Restored on", restoreVersion)) }
        if !upgradePath.isEmpty { facts.append(("Upgraded through", upgradePath.joined(separator: ", "))) }
        if let refusalMessage { facts.append(("Connectware's refusal", refusalMessage)) }
        for replaced in replacedPlans { facts.append(("Plan replaced", replaced)) }
        if let rollback { facts.append(("Rollback", rollback)) }
        var out = ""
        if exampleData == true {
            out += "<div class=\"message note\">\(htmlEscaped(Plan.exampleDataNote.prefix(1).uppercased() + Plan.exampleDataNote.dropFirst())).</div>"
        }
        out += "<dl class=\"facts\">"
        for (key, value) in facts {
            let mono = key.hasSuffix("SHA-256")
            out += "<dt>\(htmlEscaped(key))</dt><dd\(mono ? " class=\"mono hash\"" : "")>\(htmlEscaped(value))</dd>"
        }
        return out + "</dl>"
    }
}
