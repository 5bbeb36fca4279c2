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

    /// The name used in JSON and on screen.
    public var name: String {
        switch self {
        case .directRestore: "direct-restore"
        case .downgradeRequired: "downgrade-required"
        case .upgradeFirst: "upgrade-first"
        case .compatibilityUnknown: "compatibility-unknown"
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

    /// Whether illustration data shipped with cwmigrate took part in the decision.
    public var usesExampleData: Bool { barriers.contains(where: \.example) }
}

/// Decides how `backup` gets onto Connectware `running`, from the known barriers and,
/// when a restore was already tried, the server's refusal (which outranks the file).
public func decide(
    backup: Version, running: Version, knowledge: CompatibilityKnowledge, refusal: RestoreRefusal? = nil
) -> Assessment {
    if backup > running {
        return Assessment(
            decision: .upgradeFirst(to: backup),
            reason:
                "the backup comes from \(backup), newer than the running \(running); Connectware does not restore backups of newer versions",
            barriers: [], upgradePath: path(from: running, to: backup, stops: knowledge.upgradeStops), refusal: refusal)
    }
    var target = running
    var met: [RestoreBarrier] = []
    var refusalDecided = false
    if let refusal {
        guard let named = refusal.lastRestoringVersion else {
            let predicted = settle(backup: backup, from: running, knowledge: knowledge)
            if predicted.target < running, predicted.target >= backup {
                return assessment(
                    backup: backup, running: running, target: predicted.target, barriers: predicted.barriers,
                    knowledge: knowledge, refusal: refusal,
                    lead:
                        "Connectware \(running) refused the restore without naming a version, and the known barrier says"
                )
            }
            return Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "Connectware \(running) refused the restore without naming a version that restores it: \"\(refusal.statusMessage)\"",
                barriers: [], upgradePath: [], refusal: refusal)
        }
        guard named < running, named >= backup else {
            return Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "Connectware \(running) refused the restore and named \(named), which cannot restore a backup of \(backup) below \(running): \"\(refusal.statusMessage)\"",
                barriers: [], upgradePath: [], refusal: refusal)
        }
        target = named
        refusalDecided = true
    }
    let settled = settle(backup: backup, from: target, knowledge: knowledge)
    met = settled.barriers
    target = settled.target
    if target < backup {
        return Assessment(
            decision: .compatibilityUnknown,
            reason:
                "the known barriers leave no version from \(backup) to \(running) that restores this backup; check the compat files",
            barriers: met, upgradePath: [], refusal: refusal)
    }
    if target == running {
        if backup == running {
            return Assessment(
                decision: .directRestore, reason: "the backup comes from the running version \(running)",
                barriers: [], upgradePath: [], refusal: refusal)
        }
        if knowledge.barriers.isEmpty {
            return Assessment(
                decision: .compatibilityUnknown,
                reason:
                    "no restore barriers are known at all, so nothing says whether \(running) restores a backup of \(backup)",
                barriers: [], upgradePath: [], refusal: refusal)
        }
        return Assessment(
            decision: .directRestore,
            reason: "no known restore barrier lies between \(backup) and \(running)",
            barriers: [], upgradePath: [], refusal: refusal)
    }
    let lead =
        refusalDecided
        ? "Connectware \(running) refused the restore and named \(settledNamed(refusal)) as the last version that restores it"
        : "the known barrier says:"
    return assessment(
        backup: backup, running: running, target: target, barriers: met, knowledge: knowledge, refusal: refusal,
        lead: lead)
}

private func settledNamed(_ refusal: RestoreRefusal?) -> String {
    refusal?.lastRestoringVersion?.description ?? "a version"
}

private func assessment(
    backup: Version, running: Version, target: Version, barriers: [RestoreBarrier],
    knowledge: CompatibilityKnowledge, refusal: RestoreRefusal?, lead: String
) -> Assessment {
    var reason: String
    if let refusal, refusal.lastRestoringVersion != nil {
        reason = lead
        if !barriers.isEmpty {
            reason += "; there, " + barriers.map { describe($0) }.joined(separator: "; then ")
        }
    } else {
        reason = lead + " " + barriers.map { describe($0) }.joined(separator: "; then ")
    }
    reason += "; restore on \(target), then upgrade to \(running)"
    return Assessment(
        decision: .downgradeRequired(restoreAt: target), reason: reason, barriers: barriers,
        upgradePath: path(from: target, to: running, stops: knowledge.upgradeStops), refusal: refusal)
}

private func describe(_ barrier: RestoreBarrier) -> String {
    var text = barrier.summary
    if let origin = barrier.origin { text += " (\(origin)\(barrier.example ? ", example data" : ""))" }
    return text
}

/// Walks down from `start` while a barrier refuses the backup there, to the highest
/// version that restores it. Each step takes the highest version a refusing barrier
/// names, so the walk shows every barrier on the way; each lands below that barrier's
/// `since`, so the walk ends.
private func settle(backup: Version, from start: Version, knowledge: CompatibilityKnowledge) -> (
    target: Version, barriers: [RestoreBarrier]
) {
    var target = start
    var met: [RestoreBarrier] = []
    while target >= backup {
        let refusing = knowledge.barriers.filter { $0.refuses(backup: backup, on: target) }
        guard let next = refusing.max(by: { $0.lastRestoringVersion < $1.lastRestoringVersion }) else { break }
        met.append(next)
        target = next.lastRestoringVersion
    }
    return (target, met)
}

/// The required stops strictly between `from` and `to`, then `to`.
private func path(from: Version, to: Version, stops: [Version]) -> [Version] {
    stops.filter { $0 > from && $0 < to }.sorted() + [to]
}
