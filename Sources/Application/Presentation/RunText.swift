import Migration
import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// What the commands that plan, check, carry out and list runs print: the lines, for the CLI
// to print. `color` is whether the stream they go to is painted.

extension Plan {
    /// The notes every command that shows a plan adds on stderr.
    public var notes: [String] {
        var notes: [String] = []
        if exampleData { notes.append(Plan.exampleDataNote + " (--no-example-data ignores it)") }
        if partialRead {
            notes.append("the plan was made on a partial read of the backup (--quick); the archive was not verified")
        }
        if !disagreements.isEmpty { notes.append("the sources of this plan disagree; see Disagreements") }
        return notes
    }
}

extension CheckResult {
    /// One line per check: pass, FAIL or skip, its name, what was found.
    public static func lines(_ checks: [CheckResult], color: Bool) -> [String] {
        let width = (checks.map(\.name.count).max() ?? 0) + 2
        return checks.map { check in
            let word =
                switch check.status {
                case .pass: paint("pass", .green, color)
                case .fail: paint("FAIL", .red, color)
                case .skip: paint("skip", .yellow, color)
                }
            return word + "  " + check.name.padded(width) + check.detail
        }
    }

    /// The line under `migrate --precheck-only`'s checks.
    public static func verdict(_ checks: [CheckResult]) -> String {
        let failed = checks.filter { $0.status != .pass }.count
        return failed == 0 ? "All \(checks.count) checks passed." : "\(failed) of \(checks.count) checks did not pass."
    }
}

extension Journal {
    /// `runs`: `3/11 remove-volumes (failed)`, or `all 11 steps done` when every step is.
    public var stepText: String {
        guard let step = currentStep else { return "all \(steps.count) steps done" }
        return "\(step.position + 1)/\(steps.count) \(step.kind) (\(step.state.rawValue))"
    }

    /// `runs`: a table of the runs with a header, columns two blanks apart; without runs, a line
    /// that says so and names the state directory.
    public static func table(_ runs: [Journal], stateDirectory: String) -> [String] {
        guard !runs.isEmpty else { return ["No runs in \(stateDirectory)."] }
        let rows =
            [["ID", "INSTALLATION", "DECISION", "OUTCOME", "STEP"]]
            + runs.map { [$0.id, $0.installation.description, $0.plan.decision.rawValue, $0.outcome.rawValue, $0.stepText] }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padded(widths[index] + 2) }
                .joined()
        }
    }

    /// `runs abandon`: the run ended, where it stood and the files it keeps.
    public func abandonedLines(journalPath: String) -> [String] {
        var lines = ["Run \(id) abandoned; its journal stays at \(journalPath)."]
        if let stopped = steps.last(where: { $0.state != .pending }) {
            lines.append(
                "It had reached step \(stopped.position + 1) \(stopped.kind) (\(stopped.state.rawValue)); the installation is as that left it."
            )
        }
        if !artifacts.isEmpty {
            lines.append("Its files, kept:")
            lines += artifacts.map { "  \($0.kind.rawValue)  \($0.path)  sha256 \($0.sha256)" }
        }
        return lines
    }

    /// `migrate`: how a completed run ended, its files and its report.
    public func completedLines(report: String) -> [String] {
        var lines: [String] = []
        if let downtime = RunReport(self).downtimeSeconds {
            lines.append(
                cFormat("Downtime: %.1f s", downtime)
                    + " (from the shutdown to Connectware \(plan.runningVersion) healthy again)")
        }
        lines += artifacts.map { "\($0.kind.rawValue): \($0.path) (SHA-256 \($0.sha256))" }
        return lines + ["report: \(report)"]
    }

    /// `rollback`: what the rollback of this run will do, said before the question.
    public var rollbackIntentLines: [String] {
        let version = plan.runningVersion
        var lines = ["Rolling back run \(id) for \(installation):"]
        if Rollback.touchedVolumes(self) {
            let names = artifacts.filter { $0.kind == .volumeSnapshot }.compactMap(\.detail)
            lines.append(
                "  the volumes \(names.joined(separator: ", ")) are put back from the run's snapshots where they changed;"
                    + " volumes the run's installs made are removed (what they hold is kept beside the run's files)")
        }
        lines.append("  Connectware \(version) is installed (if needed) and started")
        if Rollback.touchedDataInPlace(self) {
            lines.append("  the run's fresh backup is restored (the run restored at \(version))")
        }
        return lines
    }

    /// `migrate`: the first lines of a run, new or resumed (the plan follows a new one).
    public func beginningLines(resumed: Bool, color: Bool) -> [String] {
        guard resumed else {
            return ["Run \(id) for \(installation): \(plan.decision)", plan.renderText(color: color)]
        }
        let at = currentStep.map { " at step \($0.position + 1) \($0.kind) (\($0.state.rawValue))" } ?? ""
        return ["Resuming run \(id) for \(installation)\(at)"]
    }
}

extension RunEvent {
    /// `migrate`: the lines a step's progress prints on stdout (none for a refused restore,
    /// which is said as an error); `total` is the number of steps of the plan followed now.
    public func lines(total: Int, color: Bool) -> [String] {
        func label(_ position: Int, _ kind: StepKind) -> String { "[\(position + 1)/\(total)] \(kind)" }
        switch self {
        case .started(let position, let kind, let title):
            return ["\(label(position, kind)): \(title)"]
        case .done(let position, let kind, let message):
            return ["\(label(position, kind)) " + paint("done", .green, color) + ": \(message)"]
        case .foundDone(let position, let kind, let message):
            return [
                "\(label(position, kind)) " + paint("found done", .green, color)
                    + " (the run was interrupted after it acted): \(message)"
            ]
        case .repeating(let position, let kind, let reason):
            return ["\(label(position, kind)) was interrupted and is done again (\(reason))"]
        case .failed(let position, let kind, let error):
            if case .restoreRefused = error { return [] }
            if case .credentialsRefused = error { return ["\(label(position, kind)) " + paint("PAUSED", .yellow, color)] }
            return ["\(label(position, kind)) " + paint("FAILED", .red, color)]
        case .replanned(let refusal, let plan):
            return [
                "Connectware \(plan.runningVersion) refused the restore: \(refusal.statusMessage)",
                "The run carries on with the plan this refusal gives:", plan.renderText(color: color),
            ]
        case .completed:
            return [paint("Migration completed.", .green, color)]
        }
    }
}

/// What a migration run says on the console as it goes, and the question before each changing step.
public struct ConsoleRunReporter: MigrationConsole {
    let console: Console

    /// Off a terminal nobody can answer the questions: refused (exit 64) unless `unattended` (`--yes`).
    public init(console: Console, unattended: Bool) throws {
        try console.requirePerson(
            unless: unattended,
            offTerminal: Failure(
                message: "migrate asks before each step that changes the installation, and stdin is not a terminal",
                hint: "run it on a terminal, or pass --yes to run unattended", exitCode: ExitStatus.usage))
        self.console = console
    }

    public func began(_ journal: Journal, resumed: Bool) {
        console.out(lines: journal.beginningLines(resumed: resumed, color: console.colorOnStdout))
        if !resumed { for note in journal.plan.notes { console.note(note) } }
    }

    public func removedLeftover(_ name: String) {
        console.note("removed \(name), left by a cwmigrate that no longer runs")
    }

    public func prechecks(_ checks: [CheckResult]) {
        console.out("Prechecks before anything is changed:")
        console.out(lines: CheckResult.lines(checks, color: console.colorOnStdout))
    }

    /// Guided mode: what the step will do, and a yes from the operator.
    public func confirm(_ journal: Journal, position: Int, intent: String) -> Bool {
        let step = journal.plan.steps[position]
        console.err("")
        console.err(paint("Step \(position + 1) of \(journal.steps.count): \(step.title)", .yellow, console.colorOnStderr))
        console.err("  This will " + intent)
        return console.confirm("  Go ahead? Anything but yes pauses the run.")
    }

    public func learned(_ file: URL) { console.note("recorded this barrier in \(file.path) for later plans") }

    public func event(_ event: RunEvent, total: Int) {
        console.out(lines: event.lines(total: total, color: console.colorOnStdout))
    }
}

/// What a rollback will do, said before the question (none when unattended), and what it does.
public struct ConsoleRollbackReporter: RollbackConsole {
    let console: Console
    let unattended: Bool

    /// Off a terminal nobody can answer the question: refused (exit 64) unless `unattended` (`--yes`).
    public init(console: Console, unattended: Bool) throws {
        try console.requirePerson(
            unless: unattended,
            offTerminal: Failure(
                message: "rollback asks before it changes the installation, and stdin is not a terminal",
                hint: "run it on a terminal, or pass --yes", exitCode: ExitStatus.usage))
        self.console = console
        self.unattended = unattended
    }

    public func mayRollBack(_ journal: Journal) -> Bool {
        console.out(lines: journal.rollbackIntentLines)
        return unattended || console.confirm("Go ahead?")
    }

    public func removedLeftover(_ name: String) {
        console.note("removed \(name), left by a cwmigrate that no longer runs")
    }

    public func action(_ line: String) { console.out("  " + line) }
}

extension MigrationOutcome {
    /// Says how the run ended and returns its exit code: a completed run's files and report; a
    /// restore refused at the older version too, the error, the plan that refusal gives, the
    /// report and the hint. Any other stop is thrown as its failure, once the report is said.
    public func say(on console: Console) throws -> Int32 {
        switch self {
        case .completed(let finished, let report):
            console.out(lines: finished.completedLines(report: report))
            return ExitStatus.ok
        case .stopped(let journal, let error, let report, let followingPlan):
            let failure = error.failure(stopping: journal)
            guard case .restoreRefused(_, _, let version, _) = error else {
                if let report { console.out("report: \(report)") }
                throw failure
            }
            console.report(Failure(message: failure.message, exitCode: 0))
            if let followingPlan {
                console.out("The plan this refusal gives, from Connectware \(version) as it runs now:")
                console.out(followingPlan.renderText(color: console.colorOnStdout))
            }
            if let report { console.out("report: \(report)") }
            if let hint = failure.hint { console.err("hint: " + hint) }
            return failure.exitCode
        }
    }
}
