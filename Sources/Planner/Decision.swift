/// What to do with a backup on the running Connectware.
public enum Decision: Sendable, Equatable {
    /// The backup restores on the running version.
    case directRestore
    /// Restore on the older `restoreAt` first, then upgrade again.
    case downgradeRequired(restoreAt: Version)
    /// The backup is newer than the running Connectware: upgrade to at least `to` first.
    case upgradeFirst(to: Version)
    /// Nothing decides it: try the restore and re-plan with the server's answer.
    case compatibilityUnknown

    /// The decision without its version, as plans, journals and JSON name it.
    public var kind: DecisionKind {
        switch self {
        case .directRestore: .directRestore
        case .downgradeRequired: .downgradeRequired
        case .upgradeFirst: .upgradeFirst
        case .compatibilityUnknown: .compatibilityUnknown
        }
    }

    /// The version the backup is restored on, when one is known.
    public var restoreVersion: Version? {
        switch self {
        case .downgradeRequired(let version): version
        case .upgradeFirst(let version): version
        case .directRestore, .compatibilityUnknown: nil
        }
    }
}

/// A decision's name: what a plan, a journal and the JSON say was decided.
public enum DecisionKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case directRestore = "direct-restore"
    case downgradeRequired = "downgrade-required"
    case upgradeFirst = "upgrade-first"
    case compatibilityUnknown = "compatibility-unknown"

    public var description: String { rawValue }
}

/// What a refusal alone decides when the running version is not known: one that names the
/// last version restoring the backup requires a downgrade, one that names none leaves the
/// compatibility unknown; nil for a restore that failed for another reason, from which
/// nothing follows. With the running version known, `decide(backup:running:knowledge:refusal:)`
/// decides.
public func decide(refusal: RestoreRefusal) -> DecisionKind? {
    switch refusal.kind {
    case .failure: nil
    case .refusalWithoutVersion: .compatibilityUnknown
    case .versionRefusal: .downgradeRequired
    }
}

/// One fact a plan rests on, with where it comes from.
public struct PlanFact: Sendable, Equatable, Codable {
    public let statement: String
    public let source: FactSource
    /// Whether a source of higher authority said otherwise and was followed instead.
    public let overruled: Bool

    public init(statement: String, source: FactSource, overruled: Bool = false) {
        self.statement = statement
        self.source = source
        self.overruled = overruled
    }
}

/// Two sources that say different things about one version; the plan follows `kept`.
public struct Disagreement: Sendable, Equatable, Codable {
    /// The Connectware version they disagree about.
    public let version: Version
    public let kept: PlanFact
    public let overruled: PlanFact

    /// The disagreement in one sentence, both sources named.
    public var text: String {
        "\(overruled.source.text) says \(overruled.statement); \(kept.source.text) says \(kept.statement). "
            + "The plan follows \(kept.source.authority == .server ? "the server's word" : kept.source.authority == .operatorFile ? "the operator's file" : "the shipped data")."
    }
}

/// A decision with everything that led to it.
public struct Assessment: Sendable, Equatable {
    public let decision: Decision
    /// One sentence: which barrier or refusal decided it.
    public let reason: String
    /// The barriers that decided it, in the order they were met.
    public let barriers: [RestoreBarrier]
    /// Versions to upgrade through after restoring (or before, for upgrade-first), ending at the target.
    public let upgradePath: [Version]
    public let refusal: RestoreRefusal?
    /// Every fact the decision used, each with its source.
    public var facts: [PlanFact] = []
    /// Where sources disagreed, and which one the decision followed.
    public var disagreements: [Disagreement] = []
    /// Nothing can be carried out: a restore would only go in a circle, or nothing says where
    /// the backup restores. The reason says why.
    public var noPlan = false

    init(
        decision: Decision, reason: String, barriers: [RestoreBarrier], upgradePath: [Version],
        refusal: RestoreRefusal?, noPlan: Bool = false
    ) {
        self.decision = decision
        self.reason = reason
        self.barriers = barriers
        self.upgradePath = upgradePath
        self.refusal = refusal
        self.noPlan = noPlan
    }

    /// Whether illustration data shipped with cwmigrate took part in the decision.
    public var usesExampleData: Bool { barriers.contains(where: \.example) }
}

/// Decides how `backup` gets onto Connectware `running`, from the known barriers and,
/// when a restore was already tried, the server's refusal. A refusal naming L means no
/// version after L, up to `running`, restores the backup; it is the server's word, which
/// outranks an operator's file, which outranks shipped data. `refusalSource` says where the
/// refusal comes from (default: the running Connectware, at the refusal's `reportedAt`).
public func decide(
    backup: Version, running: Version, knowledge: CompatibilityKnowledge, refusal: RestoreRefusal? = nil,
    refusalSource: FactSource? = nil
) -> Assessment {
    if backup > running {
        var result = Assessment(
            decision: .upgradeFirst(to: backup),
            reason:
                "the backup comes from \(backup), newer than the running \(running); Connectware does not restore backups of newer versions",
            barriers: [], upgradePath: path(from: running, to: backup, stops: knowledge.upgradeStops), refusal: refusal)
        result.facts = stopFacts(result.upgradePath, knowledge)
        return result
    }
    var known = knowledge
    var lead = "the known barrier says:"
    if let refusal {
        switch refusal.kind {
        case .failure:
            return Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "the restore failed for a reason other than the backup's version, so nothing follows from it: \"\(refusal.statusMessage)\"",
                barriers: [], upgradePath: [], refusal: refusal, noPlan: true)
        case .refusalWithoutVersion:
            let walked = walk(backup: backup, from: running, barriers: known.barriers)
            if walked.target < running, walked.target >= backup {
                var result = downgrade(
                    backup: backup, running: running, walked: walked, knowledge: known, refusal: refusal,
                    lead:
                        "Connectware \(running) refused the restore without naming a version, and the known barrier says"
                )
                result.facts.insert(
                    PlanFact(
                        statement: "Connectware \(running) refuses a backup of \(backup): \"\(refusal.statusMessage)\"",
                        source: refusalSource
                            ?? FactSource(authority: .server, server: running, date: refusal.reportedAt)),
                    at: 0)
                result.facts.insert(contentsOf: walked.facts, at: 1)
                result.disagreements = walked.disagreements
                return result
            }
            return Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "Connectware \(running) refused the restore without naming a version that restores it, and nothing known names one: \"\(refusal.statusMessage)\"; no plan: find the last version that restores a \(backup) backup (release notes, the vendor's support) and give it in a compat file",
                barriers: [], upgradePath: [], refusal: refusal, noPlan: true)
        case .versionRefusal(let named):
            guard named < running else {
                return Assessment(
                    decision: .compatibilityUnknown,
                    reason:
                        "Connectware \(running) refused the restore and named \(named), which is not older than the running \(running): restoring there would go in a circle, so there is no plan: \"\(refusal.statusMessage)\"",
                    barriers: [], upgradePath: [], refusal: refusal, noPlan: true)
            }
            guard named >= backup else {
                return Assessment(
                    decision: .compatibilityUnknown,
                    reason:
                        "Connectware \(running) refused the restore and named \(named), older than the backup's own \(backup), which cannot restore it; no plan: \"\(refusal.statusMessage)\"",
                    barriers: [], upgradePath: [], refusal: refusal, noPlan: true)
            }
            if var learned = RestoreBarrier.learned(from: refusal, backup: backup, running: running) {
                let source = refusalSource ?? FactSource(authority: .server, server: running, date: refusal.reportedAt)
                learned.authority = .server
                learned.origin = source.file.map { f in source.line.map { "\(f):\($0)" } ?? f }
                learned.refusedAt = source.date
                learned.refusedBy = source.server ?? running
                known = known.merging(CompatibilityKnowledge(barriers: [learned]))
            }
            lead = "Connectware \(running) refused the restore and named \(named) as the last version that restores it"
        }
    }
    let walked = walk(backup: backup, from: running, barriers: known.barriers)
    var result: Assessment
    if walked.target < backup {
        result = Assessment(
            decision: .compatibilityUnknown,
            reason:
                "the known barriers leave no version from \(backup) to \(running) that restores this backup; check the compat files",
            barriers: walked.met, upgradePath: [], refusal: refusal, noPlan: true)
    } else if walked.target == running {
        if backup == running {
            result = Assessment(
                decision: .directRestore, reason: "the backup comes from the running version \(running)",
                barriers: [], upgradePath: [], refusal: refusal)
        } else if known.barriers.isEmpty {
            result = Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "no restore barriers are known at all, so nothing says whether \(running) restores a backup of \(backup)",
                barriers: [], upgradePath: [], refusal: refusal)
        } else {
            result = Assessment(
                decision: .directRestore,
                reason: "no known restore barrier lies between \(backup) and \(running)",
                barriers: [], upgradePath: [], refusal: refusal)
        }
    } else {
        result = downgrade(
            backup: backup, running: running, walked: walked, knowledge: known, refusal: refusal, lead: lead)
    }
    result.facts = walked.facts + result.facts.filter { !walked.facts.contains($0) }
    result.disagreements = walked.disagreements
    return result
}

/// The outcome of walking down from the running version.
private struct Walk {
    var target: Version
    var met: [RestoreBarrier] = []
    var facts: [PlanFact] = []
    var disagreements: [Disagreement] = []
}

/// Walks down from `start` while a barrier refuses the backup there, to the highest
/// version that restores it. Each step takes the highest version a refusing barrier
/// names, so the walk shows every barrier on the way; each lands below that barrier's
/// `since`, so the walk ends. Where one source says a version restores the backup and
/// another of a higher authority says it refuses it (or the other way round), the higher
/// authority is followed and the disagreement kept; within one authority a refusal wins.
private func walk(backup: Version, from start: Version, barriers: [RestoreBarrier]) -> Walk {
    var result = Walk(target: start)
    while result.target >= backup {
        let target = result.target
        let refusing = barriers.filter { $0.refuses(backup: backup, on: target) }
        guard let next = refusing.max(by: { $0.lastRestoringVersion < $1.lastRestoringVersion }) else { break }
        let restoring = barriers.filter {
            $0.lastRestoringVersion == target && backup < $0.refusesBackupsBefore
                && !$0.refuses(backup: backup, on: target)
        }
        let strongestRefusal = refusing.max { $0.authority < $1.authority }!
        if let strongest = restoring.max(by: { $0.authority < $1.authority }),
            strongest.authority > strongestRefusal.authority
        {
            for refuser in refusing {
                result.disagreements.append(
                    Disagreement(
                        version: target, kept: restoresFact(strongest, backup: backup),
                        overruled: refusesFact(refuser, backup: backup, at: target, overruled: true)))
            }
            break
        }
        // Within one authority a refusal below a barrier's last version is a chain of barriers,
        // walked on; from a higher authority it overrules what a lower one said restores.
        for restorer in restoring where restorer.authority < strongestRefusal.authority {
            result.disagreements.append(
                Disagreement(
                    version: target, kept: refusesFact(strongestRefusal, backup: backup, at: target),
                    overruled: restoresFact(restorer, backup: backup, overruled: true)))
            // Its word that the backup restores here was overruled: it no longer explains the plan.
            result.met.removeAll { $0 == restorer }
        }
        result.met.append(next)
        result.target = next.lastRestoringVersion
    }
    for barrier in result.met {
        let fact = PlanFact(statement: barrier.summary, source: barrier.factSource)
        if !result.facts.contains(fact) { result.facts.append(fact) }
    }
    for disagreement in result.disagreements {
        for fact in [disagreement.kept, disagreement.overruled] where !result.facts.contains(fact) {
            result.facts.append(fact)
        }
    }
    return result
}

private func refusesFact(_ barrier: RestoreBarrier, backup: Version, at target: Version, overruled: Bool = false)
    -> PlanFact
{
    let statement: String
    if let server = barrier.refusedBy, barrier.authority == .server {
        statement =
            "no version after \(barrier.lastRestoringVersion) up to \(server) restores a backup of \(backup), so \(target) refuses it"
    } else {
        statement =
            "\(target) refuses a backup of \(backup) (from \(barrier.since) on, backups older than \(barrier.refusesBackupsBefore) are refused)"
    }
    return PlanFact(statement: statement, source: barrier.factSource, overruled: overruled)
}

private func restoresFact(_ barrier: RestoreBarrier, backup: Version, overruled: Bool = false) -> PlanFact {
    PlanFact(
        statement:
            "\(barrier.lastRestoringVersion) is the last version that restores a backup of \(backup) (backups older than \(barrier.refusesBackupsBefore))",
        source: barrier.factSource, overruled: overruled)
}

private func downgrade(
    backup: Version, running: Version, walked: Walk, knowledge: CompatibilityKnowledge, refusal: RestoreRefusal?,
    lead: String
) -> Assessment {
    let target = walked.target
    var reason: String
    let serverMet = walked.met.filter { $0.authority == .server && $0.refusedBy != nil }
    if let refusal, refusal.lastRestoringVersion != nil {
        reason = lead
        let others = walked.met.filter { !serverMet.contains($0) }
        if !others.isEmpty {
            reason += "; there, " + others.map { describe($0) }.joined(separator: "; then ")
        }
    } else {
        reason = lead + " " + walked.met.map { describe($0) }.joined(separator: "; then ")
    }
    if !walked.disagreements.isEmpty {
        reason += "; the sources disagree (see Disagreements)"
    }
    reason += "; restore on \(target), then upgrade to \(running)"
    let upgradePath = path(from: target, to: running, stops: knowledge.upgradeStops)
    var result = Assessment(
        decision: .downgradeRequired(restoreAt: target), reason: reason, barriers: walked.met,
        upgradePath: upgradePath, refusal: refusal)
    result.facts = stopFacts(upgradePath, knowledge)
    return result
}

private func describe(_ barrier: RestoreBarrier) -> String {
    var text = barrier.summary
    if barrier.origin != nil || barrier.authority == .server {
        text += " (\(barrier.factSource.text)\(barrier.example ? ", example data" : ""))"
    }
    return text
}

/// The facts behind the upgrade stops a path passes through.
private func stopFacts(_ path: [Version], _ knowledge: CompatibilityKnowledge) -> [PlanFact] {
    path.dropLast().compactMap { stop in
        knowledge.upgradeStopSources[stop].map {
            PlanFact(statement: "an upgrade past \(stop) must stop at \(stop)", source: $0)
        }
    }
}

/// The required stops strictly between `from` and `to`, then `to`.
private func path(from: Version, to: Version, stops: [Version]) -> [Version] {
    stops.filter { $0 > from && $0 < to }.sorted() + [to]
}
