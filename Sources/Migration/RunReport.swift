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

/// What a run did, for the operator and the change record: the versions, each step with
/// its times, the artifacts, the downtime. Written as Markdown and JSON beside the journal
/// at the end of a run, when it fails or pauses, and after a rollback. Made from the
/// journal alone, so it holds no secret either. Read back (`Decodable`) for the fleet page.
public struct RunReport: Sendable, Codable {
    public static let currentFormat = "cwmigrate-report/1"

    public struct StepLine: Sendable, Codable {
        public var position: Int
        public var kind: StepKind
        public var title: String
        public var state: String
        public var startedAt: String?
        public var endedAt: String?
        public var durationSeconds: Double?
        /// cwmigrate's own CPU time in the step (its work); the rest of the duration is waiting.
        public var cpuSeconds: Double?
        /// The duration less `cpuSeconds`: waiting for Connectware, Docker, the installer or the network.
        public var waitSeconds: Double?
        public var attempts: Int
        public var message: String?
        /// When a resumed run took over the backup or restore an interrupted attempt of this
        /// step had started on Connectware, instead of starting another; nil otherwise.
        public var adoptedAt: String?
    }

    public struct ArtifactLine: Sendable, Codable {
        public var kind: String
        public var path: String
        public var sha256: String
        public var bytes: Int64
        public var detail: String?
    }

    public var format: String
    public var run: String
    public var installation: String
    public var outcome: String
    public var outcomeMessage: String?
    public var decision: DecisionKind
    public var reason: String
    public var backupFile: String
    public var backupVersion: String
    public var backupID: String?
    public var backupSHA256: String?
    public var runningVersion: String
    public var restoreVersion: String?
    public var upgradePath: [String]
    /// The version Connectware runs after the last step done, by the plan's account.
    public var versionAfter: String?
    /// Whether an example barrier shipped with cwmigrate decided the plan.
    public var exampleData: Bool?
    /// Connectware's whole refusal message, when a refusal decided the plan.
    public var refusalMessage: String?
    public var createdAt: String
    public var endedAt: String?
    public var steps: [StepLine]
    public var artifacts: [ArtifactLine]
    /// From the first step that takes Connectware down to the end of the last step that
    /// brings it up at the original version; nil until that has happened.
    public var downtimeSeconds: Double?
    public var downtimeFrom: String?
    public var downtimeTo: String?
    /// What was done before the downtime began, while Connectware still ran: each step done
    /// before the first that takes it down, as `kind: what it brought about` (the fresh
    /// backup verified, the images saved, pulled and kept); nil when no step was done before.
    public var beforeDowntime: [String]?
    /// CPU seconds of cwmigrate itself: time not spent waiting for Connectware, Docker or transfers.
    public var overheadSeconds: Double?
    /// Plans replaced during the run (a refused restore), and why.
    public var replacedPlans: [String]
    /// The steps a replaced plan began that the plan carried out did not keep; nil when none.
    public var replacedSteps: [StepLine]?
    public var rollback: String?

    public init(_ journal: Journal) {
        format = Self.currentFormat
        run = journal.id
        installation = journal.installation.description
        outcome = journal.outcome.rawValue
        outcomeMessage = journal.outcomeMessage
        decision = journal.plan.decision
        reason = journal.plan.reason
        backupFile = journal.backup.path
        backupVersion = journal.backup.version.description
        backupID = journal.backup.id?.description
        backupSHA256 = journal.backup.sha256
        runningVersion = journal.plan.runningVersion.description
        restoreVersion = journal.plan.restoreVersion?.description
        upgradePath = journal.plan.upgradePath.map(\.description)
        let lastDone = journal.steps.last { $0.state == .done }
        let after = lastDone.map { journal.expectedVersion(after: $0.position) } ?? journal.plan.runningVersion
        versionAfter = after.description
        exampleData = journal.plan.exampleData
        refusalMessage = journal.plan.refusalMessage
        createdAt = JournalCoding.timestamp(journal.createdAt)
        endedAt = journal.endedAt.map(JournalCoding.timestamp)
        steps = journal.steps.map { Self.line($0, of: journal.plan) }
        // What a replaced plan began and the new one did not keep (the refused restore).
        let earlier = (journal.earlierPlans ?? []).flatMap { replaced in
            replaced.steps.filter { record in
                record.startedAt != nil && journal.steps.first { $0.position == record.position } != record
            }.map { Self.line($0, of: replaced.plan) }
        }
        replacedSteps = earlier.isEmpty ? nil : earlier
        artifacts = journal.artifacts.map {
            ArtifactLine(kind: $0.kind.rawValue, path: $0.path, sha256: $0.sha256, bytes: $0.bytes, detail: $0.detail)
        }
        let window = Self.downtime(journal)
        downtimeFrom = window.map { JournalCoding.timestamp($0.from) }
        downtimeTo = window.map { JournalCoding.timestamp($0.to) }
        downtimeSeconds = window.map { Self.rounded($0.to.timeIntervalSince($0.from)) }
        let firstDown = journal.steps.first { $0.kind.takesConnectwareDown }?.position ?? journal.steps.count
        let before = journal.steps.filter { $0.position < firstDown && $0.state == .done }
            .map { "\($0.kind): \($0.message ?? "done")" }
        beforeDowntime = before.isEmpty ? nil : before
        overheadSeconds = journal.cpuSeconds.map(Self.rounded)
        replacedPlans = (journal.earlierPlans ?? []).map {
            "\($0.plan.decision) at \(JournalCoding.timestamp($0.replacedAt)), because Connectware said: \($0.reason)"
        }
        rollback = journal.rollback.map { record in
            let state =
                record.succeeded == true
                ? "finished" : record.succeeded == false ? "failed" : record.paused == true ? "paused" : "begun"
            return "\(state) (\(record.attempts) attempt\(record.attempts == 1 ? "" : "s")): "
                + (record.actions + [record.message].compactMap { $0 }).joined(separator: "; ")
        }
    }

    /// When Connectware went down in this run, over or not; nil when no step took it down.
    public var downSince: String? {
        steps.first { $0.kind.takesConnectwareDown && $0.startedAt != nil }?.startedAt
    }

    /// The downtime in words: its length, `not over` since it began, or `none`.
    public var downtimeText: String {
        if let downtimeSeconds { return cFormat("%.1f s", downtimeSeconds) }
        return downSince == nil ? "none" : "not over"
    }

    static func line(_ record: StepRecord, of plan: Plan) -> StepLine {
        let duration = seconds(from: record.startedAt, to: record.endedAt)
        // A second thread (hashing) can make CPU time exceed the wall time; the work is then all of it.
        let cpu = record.cpuSeconds.map { rounded(min($0, duration ?? $0)) }
        return StepLine(
            position: record.position + 1, kind: record.kind, title: plan.steps[record.position].title,
            state: record.state.rawValue, startedAt: record.startedAt.map(JournalCoding.timestamp),
            endedAt: record.endedAt.map(JournalCoding.timestamp), durationSeconds: duration, cpuSeconds: cpu,
            waitSeconds: duration.flatMap { total in cpu.map { rounded(max(0, total - $0)) } },
            attempts: record.attempts, message: record.message,
            adoptedAt: record.operation?.adoptedAt.map(JournalCoding.timestamp))
    }

    static func seconds(from start: Date?, to end: Date?) -> Double? {
        guard let start, let end else { return nil }
        return rounded(end.timeIntervalSince(start))
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// The window in which Connectware was down: from the start of the first step that
    /// takes it down (shutdown, restore, restart) to the end of the last step after it
    /// that brings it up (wait-healthy, restart), when that step is done and the run is
    /// at the original version again.
    public static func downtime(_ journal: Journal) -> (from: Date, to: Date)? {
        let up: Set<StepKind> = [.waitHealthy, .restart]
        let steps = journal.steps
        guard let first = steps.first(where: { $0.kind.takesConnectwareDown && $0.startedAt != nil }),
            let from = first.startedAt
        else { return nil }
        guard
            let last = steps.last(where: { up.contains($0.kind) && $0.position >= first.position }),
            last.state == .done, let to = last.endedAt,
            journal.expectedVersion(after: last.position) == journal.plan.runningVersion
        else { return nil }
        return (from, to)
    }

    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8)) + [0x0A]
    }

    public func markdown() -> String {
        var lines: [String] = []
        lines.append("# cwmigrate run \(run): \(outcome)")
        lines.append("")
        if let outcomeMessage { lines.append("> \(Self.tableCell(outcomeMessage))\n") }
        lines.append("| | |")
        lines.append("| --- | --- |")
        lines.append("| Installation | \(Self.tableCell(installation)) |")
        lines.append("| Decision | \(decision): \(Self.tableCell(reason)) |")
        lines.append(
            "| Backup | \(Self.tableCell(backupFile)), Connectware \(backupVersion), id \(backupID ?? "none"), SHA-256 \(backupSHA256 ?? "not recorded") |"
        )
        lines.append("| Running version | \(runningVersion) |")
        if let restoreVersion { lines.append("| Restored on | \(restoreVersion) |") }
        if !upgradePath.isEmpty { lines.append("| Upgraded through | \(upgradePath.joined(separator: ", ")) |") }
        if let versionAfter { lines.append("| Running after the run | \(versionAfter) |") }
        if exampleData == true {
            lines.append("| Knowledge | \(Plan.exampleDataNote) |")
        }
        if let refusalMessage { lines.append("| Connectware's refusal | \(Self.tableCell(refusalMessage)) |") }
        lines.append("| Started | \(createdAt) |")
        lines.append("| Ended | \(endedAt ?? "not yet") |")
        lines.append(
            "| Downtime | "
                + (downtimeSeconds.map { cFormat("%.1f s", $0) + " (\(downtimeFrom ?? "") to \(downtimeTo ?? ""))" }
                    ?? "not over (Connectware is not back at \(runningVersion) through this run)") + " |")
        for done in beforeDowntime ?? [] { lines.append("| Before the downtime | \(Self.tableCell(done)) |") }
        if let overheadSeconds { lines.append("| cwmigrate's own CPU time | \(cFormat("%.2f s", overheadSeconds)) |") }
        for replaced in replacedPlans { lines.append("| Plan replaced | \(Self.tableCell(replaced)) |") }
        if let rollback { lines.append("| Rollback | \(Self.tableCell(rollback)) |") }
        lines.append("")
        lines.append("## Steps")
        lines.append("")
        lines.append("| # | step | state | started | ended | duration | attempts | what happened |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for step in steps {
            let duration = step.durationSeconds.map { cFormat("%.1f s", $0) } ?? ""
            lines.append(
                "| \(step.position) | \(step.kind) | \(step.state)\(step.adoptedAt == nil ? "" : " (adopted)") | \(step.startedAt ?? "") | \(step.endedAt ?? "") | \(duration) | \(step.attempts) | \(Self.tableCell(step.message ?? "")) |"
            )
        }
        lines.append("")
        lines.append("## Artifacts")
        lines.append("")
        if artifacts.isEmpty { lines.append("None.") }
        for artifact in artifacts {
            lines.append(
                "- \(artifact.kind)\(artifact.detail.map { " (\(Self.tableCell($0)))" } ?? ""): `\(artifact.path)`, \(artifact.bytes) bytes, SHA-256 `\(artifact.sha256)`"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Table cells stay cells: pipes and line breaks in server messages are escaped.
    static func tableCell(_ text: String) -> String {
        text.replacing("|", with: "\\|").replacing("\n", with: " ")
    }
}

extension JournalStore {
    /// Writes the run's report (Markdown and JSON) beside its journal; returns the Markdown's path.
    @discardableResult
    public func saveReports(_ journal: Journal) throws(MigrationError) -> String {
        let report = RunReport(journal)
        try saveReport(report.json(), of: journal.id, extension: "json")
        try saveReport(Array(report.markdown().utf8), of: journal.id, extension: "md")
        return reportPath(of: journal.id, extension: "md")
    }
}
