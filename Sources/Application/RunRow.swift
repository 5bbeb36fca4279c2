import Migration
import Planner

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One run in `runs --json`.
public struct RunRow: Encodable, Sendable {
    public struct CurrentStep: Encodable, Sendable {
        let position: Int
        let kind: StepKind
        let state: String
    }

    let id: String
    let createdAt: String
    let installation: InstallationRef
    let decision: DecisionKind
    let backupVersion: String
    /// The SHA-256 of the backup the run restores (absent when it was not hashed): a fleet's
    /// playbook finds by it the run of its backup on each host, to skip or resume it.
    let backupSHA256: String?
    let runningVersion: String
    let outcome: String
    let currentStep: CurrentStep?
    let journal: String

    public init(_ journal: Journal, store: JournalStore) {
        id = journal.id
        createdAt = JournalCoding.timestamp(journal.createdAt)
        installation = journal.installation
        decision = journal.plan.decision
        backupVersion = journal.plan.backupVersion.description
        backupSHA256 = journal.backup.sha256
        runningVersion = journal.plan.runningVersion.description
        outcome = journal.outcome.rawValue
        currentStep = journal.currentStep.map {
            CurrentStep(position: $0.position + 1, kind: $0.kind, state: $0.state.rawValue)
        }
        self.journal = store.path(of: journal.id)
    }

    /// The runs as `runs --json` prints them: one JSON array, keys sorted.
    public static func json(_ runs: [Journal], store: JournalStore) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(runs.map { RunRow($0, store: store) }), as: UTF8.self)
    }
}
