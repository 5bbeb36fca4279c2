import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a restore that Connectware refused means, as the Planner decides it, and what it
/// taught: the barrier it names is kept in the learned compat file, so later plans know it.
public enum RefusalVerdict: Sendable {
    /// The restore failed for a reason other than the backup's version (disk, dump, network):
    /// nothing is learned and no other version is suggested.
    case notAboutVersion
    /// The running version is not known: the decision from the refusal alone, and the last
    /// version that restores the backup when the refusal names one.
    case fromRefusalAlone(DecisionKind, lastRestoring: Version?)
    /// The decision from the refusal, the running version and what is known; `recordedIn` is
    /// the learned compat file that keeps the barrier now (nil: not recorded).
    case decided(Assessment, recordedIn: URL?)
}

extension RestoreRefusal {
    /// The verdict on this refusal of a `backup` restore at `running` (nil: not known), the time
    /// of the report set to `now`. `knowledge` is loaded only when the running version is known.
    public func verdict(
        backup: Version, running: Version?, now: Date = Date(), knowledge: () throws -> CompatibilityKnowledge
    ) throws -> RefusalVerdict {
        var refusal = self
        refusal.reportedAt = Timestamp.format(now)
        guard let alone = decide(refusal: refusal) else { return .notAboutVersion }
        guard let running else { return .fromRefusalAlone(alone, lastRestoring: refusal.lastRestoringVersion) }
        let assessment = decide(backup: backup, running: running, knowledge: try knowledge(), refusal: refusal)
        guard !assessment.noPlan, let barrier = RestoreBarrier.learned(from: refusal, backup: backup, running: running)
        else { return .decided(assessment, recordedIn: nil) }
        return .decided(assessment, recordedIn: try LocalKnowledge.record(barrier))
    }
}

/// What `restore --running` predicts before anything is uploaded.
public enum RestorePrediction {
    /// The Planner's assessment of a `backup` restore at `running`. As for `migrate --yes`,
    /// illustration data does not decide what an unattended restore does unless it is accepted.
    public static func assess(
        backup: Version, running: Version, knowledge: CompatibilityKnowledge, unattended: Bool,
        acceptingExampleData: Bool
    ) throws -> Assessment {
        let assessment = decide(backup: backup, running: running, knowledge: knowledge)
        if assessment.usesExampleData && unattended && !acceptingExampleData {
            throw Failure(
                message: Plan.exampleDataNote
                    + "; an unattended restore (--yes) does not act on it unless --accept-example-data says it is meant",
                hint: "give --accept-example-data, or --no-example-data to leave it out; nothing was uploaded",
                exitCode: ExitStatus.usage)
        }
        return assessment
    }
}
