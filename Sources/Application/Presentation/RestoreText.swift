import Planner
import Vocabulary

/// A line for one of the console's streams: a result on stdout, a note or a warning on
/// stderr, kept in the order they are said.
public enum ConsoleLine: Sendable, Equatable {
    case out(String)
    case note(String)
    case warning(String)
}

extension Console {
    /// Each line on its stream, in order.
    public func say(_ lines: [ConsoleLine]) {
        for line in lines {
            switch line {
            case .out(let text): out(text)
            case .note(let text): note(text)
            case .warning(let text): warning(text)
            }
        }
    }
}

/// What `restore` says about the Planner's decision on a backup: predicted before an upload,
/// or from Connectware's refusal after one; with the exit code when the restore stops there.
public struct RestoreAdvice: Sendable {
    /// The backup file as the operator named it.
    public let file: String
    public let backup: Version

    public init(file: String, backup: Version) {
        self.file = file
        self.backup = backup
    }

    /// `restore --running`: a downgrade or upgrade stops here (with its exit code and the plan
    /// to run); otherwise a note, and the restore goes on.
    public func prediction(_ assessment: Assessment, running: Version) -> (lines: [ConsoleLine], stop: Int32?) {
        switch assessment.decision {
        case .downgradeRequired, .upgradeFirst:
            let lines: [ConsoleLine] = [
                .out("Decision: \(assessment.decision.kind) (predicted, nothing was uploaded)"),
                .out("Why: \(assessment.reason)"),
                .out("The plan: \(planCommand(running: running.description, refusal: nil))"),
            ]
            return (lines, ExitStatus.of(assessment.decision.kind))
        case .directRestore:
            return ([.note("Connectware \(running) is expected to restore this backup")], nil)
        case .compatibilityUnknown:
            return ([.note("nothing is known about \(backup) on \(running): Connectware decides")], nil)
        }
    }

    /// After Connectware refused the restore for the backup's version (`notAboutVersion` is an
    /// error the caller throws): the decision, why, and the plan that follows.
    public func refused(_ verdict: RefusalVerdict, refusal: RestoreRefusal, running: Version?) -> (
        lines: [ConsoleLine], exitCode: Int32
    ) {
        switch verdict {
        case .notAboutVersion:
            return ([], ExitStatus.restoreFailed)
        case .fromRefusalAlone(let decision, let last):
            guard let last else {
                let text =
                    "No plan follows: the refusal names no version that restores the backup; find the last version that restores a \(backup) backup and give it in a compat file (--compat)"
                return ([.out("Decision: \(decision)"), .out(text)], ExitStatus.of(decision))
            }
            let lines: [ConsoleLine] = [
                .out("Decision: \(decision)"),
                .out("The refusal names \(last) as the last version that restores this backup."),
                .note("give --running next time so cwmigrate can plan from it and remember it"),
                .out("The plan: \(planCommand(running: "<running version>", refusal: refusal))"),
            ]
            return (lines, ExitStatus.of(decision))
        case .decided(let assessment, _) where assessment.noPlan:
            return (
                [.out("Decision: \(assessment.decision.kind) (no plan)"), .out("Why: \(assessment.reason)")],
                ExitStatus.compatibilityUnknown
            )
        case .decided(let assessment, let file):
            var lines: [ConsoleLine] = []
            if let file { lines.append(.note("recorded the barrier in \(file.path); cwmigrate plan knows it from now on")) }
            let restoreOn = assessment.decision.restoreVersion.map { "restore on \($0) first, then upgrade again" }
            lines.append(.out("Decision: \(assessment.decision.kind)\(restoreOn.map { " (\($0))" } ?? "")"))
            lines.append(.out("Why: \(assessment.reason)"))
            // Once recorded, plan knows the refusal; otherwise it is given again.
            let running = running.map(\.description) ?? "<running version>"
            lines.append(.out("The plan: \(planCommand(running: running, refusal: file == nil ? refusal : nil))"))
            return (lines, ExitStatus.of(assessment.decision.kind))
        }
    }

    /// The `cwmigrate plan` command line that shows the plan for this backup.
    func planCommand(running: String, refusal: RestoreRefusal?) -> String {
        var words = ["cwmigrate", "plan", "--backup", shellQuoted(file), "--running", running]
        if let refusal { words += ["--refusal", shellQuoted(refusal.statusMessage)] }
        return words.joined(separator: " ")
    }
}
