import Testing

@testable import Planner

private let example = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3"))

@Test func aBackupOfTheRunningVersionRestoresDirectly() {
    let result = decide(backup: v("1.8.0"), running: v("1.8.0"), knowledge: example)
    #expect(result.decision == .directRestore)
    #expect(decide(backup: v("1.0.73"), running: v("1.0.73"), knowledge: .empty).decision == .directRestore)
}

@Test func aBackupBehindNoKnownBarrierRestoresDirectly() {
    #expect(decide(backup: v("1.1.0"), running: v("1.8.0"), knowledge: example).decision == .directRestore)
    #expect(decide(backup: v("1.0.73"), running: v("1.7.3"), knowledge: example).decision == .directRestore)
}

@Test func aBackupNewerThanTheRunningVersionNeedsAnUpgradeFirst() {
    let result = decide(backup: v("1.8.0"), running: v("1.7.2"), knowledge: example)
    #expect(result.decision == .upgradeFirst(to: v("1.8.0")))
    #expect(result.upgradePath == [v("1.8.0")])
}

@Test func anUpgradeFirstPassesThroughTheStopsOnTheWay() {
    let known = knowledge(stops: ["1.5.0", "1.9.0", "1.2.0"])
    #expect(
        decide(backup: v("1.8.0"), running: v("1.0.91"), knowledge: known).upgradePath == [
            v("1.2.0"), v("1.5.0"), v("1.8.0"),
        ])
}

@Test func aKnownBarrierRequiresADowngrade() {
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(result.upgradePath == [v("1.8.0")])
    #expect(result.reason.contains("1.7.3"))
    #expect(result.barriers.count == 1)
}

@Test func nothingKnownAtAllIsCompatibilityUnknown() {
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty)
    #expect(result.decision == .compatibilityUnknown)
}

@Test func aChainOfTwoBarriersWalksDownToTheOlderOne() {
    // Restoring at 1.7.3 hits a second, older barrier.
    let known = knowledge(
        barrier("1.8.0", before: "1.1.0", last: "1.7.3"), barrier("1.5.0", before: "1.0.80", last: "1.4.2"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.2")))
    #expect(result.barriers.map(\.since) == [v("1.8.0"), v("1.5.0")])
    // A backup past the older barrier's range only meets the newer one.
    #expect(
        decide(backup: v("1.0.91"), running: v("1.8.0"), knowledge: known).decision
            == .downgradeRequired(restoreAt: v("1.7.3")))
}

@Test func aChainOfThreeBarriersEndsAtTheHighestVersionThatRestores() {
    let known = knowledge(
        barrier("1.3.0", before: "1.0.50", last: "1.2.9"),
        barrier("1.10.0", before: "1.5.0", last: "1.9.0"),
        barrier("1.9.0", before: "1.2.0", last: "1.7.3"))
    let result = decide(backup: v("1.0.22"), running: v("1.11.0"), knowledge: known)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.2.9")))
    #expect(result.barriers.map(\.lastRestoringVersion) == [v("1.9.0"), v("1.7.3"), v("1.2.9")])
    #expect(result.upgradePath == [v("1.11.0")])
}

@Test func aBackupCoveredByTwoBarriersEndsBelowBoth() {
    let known = knowledge(
        barrier("1.8.0", before: "1.1.0", last: "1.7.3"), barrier("1.6.0", before: "1.0.80", last: "1.5.1"))
    #expect(
        decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known).decision
            == .downgradeRequired(restoreAt: v("1.5.1")))
}

@Test func theUpgradeAfterADowngradePassesEachStopInOrder() {
    let known = knowledge(
        barrier("1.10.0", before: "1.1.0", last: "1.7.3"), stops: ["1.9.0", "1.7.3", "1.8.0", "1.11.0"])
    let result = decide(backup: v("1.0.73"), running: v("1.10.2"), knowledge: known)
    #expect(result.upgradePath == [v("1.8.0"), v("1.9.0"), v("1.10.2")])
}

@Test func preReleasesAreOrderedAtTheBarriersEdges() {
    let known = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    // 1.8.0-rc.1 comes before 1.8.0, so the barrier does not apply yet.
    #expect(decide(backup: v("1.0.73"), running: v("1.8.0-rc.1"), knowledge: known).decision == .directRestore)
    // 1.1.0-beta.2 is older than 1.1.0, so its backups are refused.
    #expect(
        decide(backup: v("1.1.0-beta.2"), running: v("1.8.0"), knowledge: known).decision
            == .downgradeRequired(restoreAt: v("1.7.3")))
    let rcBarrier = knowledge(barrier("1.8.0-rc.1", before: "1.1.0", last: "1.7.3"))
    #expect(
        decide(backup: v("1.0.73"), running: v("1.8.0-rc.2"), knowledge: rcBarrier).decision
            == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(decide(backup: v("1.8.0-rc.1"), running: v("1.8.0"), knowledge: known).decision == .directRestore)
}

@Test func aRefusalNamingAVersionDecidesEvenWhenTheFileKnowsNothing() {
    let refusal = RestoreRefusal(
        statusMessage: "Restore refused. Last compatible version: 1.0.91", backupVersion: v("1.0.73"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.0.91")))
    #expect(result.reason.contains("refused"))
    #expect(result.refusal == refusal)
}

@Test func aRefusalNamingTheBackupsOwnVersionRestoresThereAndUpgradesBack() {
    let refusal = RestoreRefusal(
        statusMessage:
            "Restore failed: the backup was created with Connectware 1.0.91, whose database structure is not supported by 1.8.0. The last version that can restore this backup is 1.0.91.",
        backupVersion: v("1.0.91"), runningVersion: v("1.8.0"))
    let result = decide(backup: v("1.0.91"), running: v("1.8.0"), knowledge: .empty, refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.0.91")))
    #expect(result.reason.contains("named 1.0.91"), "\(result.reason)")
    // What it teaches claims no more than was seen: 1.0.92 on refuses backups up to 1.0.91.
    let learned = RestoreBarrier.learned(from: refusal, backup: v("1.0.91"), running: v("1.8.0"))
    #expect(learned?.since == v("1.0.92") && learned?.lastRestoringVersion == v("1.0.91"))
}

@Test func aRefusalOverridesAFileThatPredictedADirectRestore() {
    let refusal = RestoreRefusal(statusMessage: "use 1.5.0", lastRestoringVersion: v("1.5.0"))
    #expect(
        decide(backup: v("1.2.0"), running: v("1.8.0"), knowledge: example, refusal: refusal).decision
            == .downgradeRequired(restoreAt: v("1.5.0")))
}

@Test func aRefusedVersionMayMeetAnOlderBarrierOfTheSameAuthority() {
    // A second server refusal, at 1.7.3, named 1.4.2: the walk goes on below the first one.
    var older = barrier("1.4.3", before: "1.0.74", last: "1.4.2")
    older.authority = .server
    older.refusedBy = v("1.7.3")
    let refusal = RestoreRefusal(statusMessage: "last version 1.7.3", lastRestoringVersion: v("1.7.3"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: knowledge(older), refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.2")))
}

@Test func aRefusalNamingAVersionOutranksAnOperatorsBarrierThatRefusesThere() {
    let known = knowledge(barrier("1.5.0", before: "1.0.80", last: "1.4.2"))
    let refusal = RestoreRefusal(statusMessage: "last version 1.7.3", lastRestoringVersion: v("1.7.3"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known, refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(result.disagreements.count == 1)
    #expect(result.disagreements.first?.kept.source.authority == .server)
    #expect(result.disagreements.first?.overruled.source.authority == .operatorFile)
}

@Test func aRefusalNamingNoVersionIsUnknownAndKeepsTheMessage() {
    let refusal = RestoreRefusal(statusMessage: "incompatible database schema", lastRestoringVersion: nil)
    let result = decide(backup: v("1.2.0"), running: v("1.8.0"), knowledge: example, refusal: refusal)
    #expect(result.decision == .compatibilityUnknown)
    #expect(result.reason.contains("incompatible database schema"))
    #expect(result.noPlan)
}

@Test func aRefusalNamingNoVersionFallsBackToAKnownBarrier() {
    let refusal = RestoreRefusal(statusMessage: "incompatible database schema", lastRestoringVersion: nil)
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(result.reason.contains("without naming a version"))
}

@Test func aRefusalNamingAnImpossibleVersionIsUnknown() {
    let older = RestoreRefusal(statusMessage: "last version 1.0.22", lastRestoringVersion: v("1.0.22"))
    #expect(
        decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, refusal: older).decision
            == .compatibilityUnknown)
    let newer = RestoreRefusal(statusMessage: "last version 1.9.0", lastRestoringVersion: v("1.9.0"))
    #expect(
        decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, refusal: newer).decision
            == .compatibilityUnknown)
}

@Test func barriersThatLeaveNoVersionAreCompatibilityUnknown() {
    // Loaded from code, so the file check that would reject it did not run.
    let known = knowledge(barrier("1.5.0", before: "1.1.0", last: "1.0.50"))
    #expect(decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known).decision == .compatibilityUnknown)
}

@Test func anExampleBarrierIsFlagged() {
    let known = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3", example: true))
    #expect(decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known).usesExampleData)
    #expect(!decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example).usesExampleData)
}

// Issue 15: precedence and meaning of knowledge.

private func from(_ authority: KnowledgeAuthority, _ b: RestoreBarrier, server: String? = nil) -> RestoreBarrier {
    var b = b
    b.authority = authority
    b.refusedBy = server.map(v)
    b.origin = "\(authority.name).yml:3"
    return b
}

@Test func whatAServerSaidBeatsAnOperatorsFileWhichBeatsShippedData() {
    // Issue 15, 2: 1.10.2 refused a 1.0.73 backup naming 1.4.2; a file says 1.7.3 restores it.
    let server = from(.server, barrier("1.4.3", before: "1.0.74", last: "1.4.2"), server: "1.10.2")
    for authority in [KnowledgeAuthority.shipped, .operatorFile] {
        let file = from(authority, barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
        let result = decide(backup: v("1.0.73"), running: v("1.10.2"), knowledge: knowledge(file, server))
        #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.2")))
        #expect(result.disagreements.map(\.version) == [v("1.7.3")])
        #expect(result.disagreements.first?.overruled.source.authority == authority)
        #expect(result.disagreements.first?.text.contains("The plan follows the server's word.") == true)
    }
    let shipped = from(.shipped, barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    let operatorFile = from(.operatorFile, barrier("1.5.0", before: "1.1.0", last: "1.4.0"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: knowledge(shipped, operatorFile))
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.0")))
    #expect(result.disagreements.first?.kept.source.authority == .operatorFile)
}

@Test func aHigherAuthoritySayingAVersionRestoresOverrulesALowerOneThatRefusesThere() {
    let operatorFile = from(.operatorFile, barrier("1.2.0", before: "1.1.0", last: "1.1.5"))
    let server = from(.server, barrier("1.7.4", before: "1.0.74", last: "1.7.3"), server: "1.8.0")
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: knowledge(operatorFile, server))
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(result.disagreements.first?.kept.source.authority == .server)
    #expect(result.facts.contains { $0.overruled && $0.source.authority == .operatorFile })
}

@Test func everyFactOfAPlanCarriesItsSource() {
    let file = from(.operatorFile, barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    let result = decide(
        backup: v("1.0.73"), running: v("1.10.2"),
        knowledge: CompatibilityKnowledge(
            barriers: [file], upgradeStops: [v("1.9.0")],
            upgradeStopSources: [v("1.9.0"): FactSource(authority: .operatorFile, file: "stops.yml", line: 4)]))
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.7.3")))
    #expect(result.facts.map(\.source.text) == ["operator.yml:3 (operator's file)", "stops.yml:4 (operator's file)"])
}

@Test func aRefusalGivenForThePlanIsTheServersWordWithItsDate() {
    var refusal = RestoreRefusal(statusMessage: "Restore refused; last version 1.4.2", lastRestoringVersion: v("1.4.2"))
    refusal.reportedAt = "2026-11-29T10:00:00Z"
    let shipped = from(.shipped, barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    let result = decide(backup: v("1.0.73"), running: v("1.10.2"), knowledge: knowledge(shipped), refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.2")))
    let kept = result.disagreements.first?.kept.source
    #expect(kept?.server == v("1.10.2"))
    #expect(kept?.date == "2026-11-29T10:00:00Z")
}

@Test func aRefusalNamingTheRunningVersionOrANewerOneGivesNoPlan() {
    // Issue 15, 6: a plan restoring on the running version again would go in a circle.
    for named in ["1.8.0", "1.9.0"] {
        let refusal = RestoreRefusal(statusMessage: "last version \(named)", lastRestoringVersion: v(named))
        let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, refusal: refusal)
        #expect(result.decision == .compatibilityUnknown)
        #expect(result.noPlan)
        #expect(result.reason.contains("circle"))
    }
}

@Test func aFailedRestoreTeachesNothingAndGivesNoPlan() {
    let failure = RestoreRefusal(
        statusMessage: "restore failed after upgrade to 1.8.0: disk full", backupVersion: v("1.0.73"),
        runningVersion: v("1.8.0"))
    #expect(failure.kind == .failure)
    let example = from(.operatorFile, barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: knowledge(example), refusal: failure)
    #expect(result.noPlan)
    #expect(result.decision == .compatibilityUnknown)
    #expect(RestoreBarrier.learned(from: failure, backup: v("1.0.73"), running: v("1.8.0")) == nil)
}

@Test func aSavedPlanHoldsOnlyInTheWorldItWasMadeFor() throws {
    let playbook = try bundledPlaybook()
    let known = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3"))
    func plan(running: String = "1.8.0", sha: String? = "aa", compat: String = "c1", project: String = "cw") -> Plan {
        var made = makePlan(backup: v("1.0.73"), running: v(running), knowledge: known, playbook: playbook)
        made.basis = PlanBasis(
            backupFile: "/b.tgz", backupSHA256: sha, project: project, directory: nil,
            knowledge: [
                KnowledgeFile(authority: .shipped, path: "compat.yml", sha256: "s"),
                KnowledgeFile(authority: .operatorFile, path: "mine.yml", sha256: compat),
            ], ignoresExampleData: false)
        return made
    }
    #expect(plan().differences(from: plan()).isEmpty)
    #expect(plan().differences(from: plan(sha: "bb")).first?.contains("SHA-256 is bb") == true)
    #expect(plan().differences(from: plan(running: "1.8.1")).first?.contains("Connectware 1.8.1 runs here") == true)
    #expect(plan().differences(from: plan(compat: "c2")).first?.contains("the operator's compat files changed") == true)
    #expect(plan().differences(from: plan(project: "other")).first?.contains("project other") == true)
    #expect(plan(sha: nil).differences(from: plan()).first?.contains("names no backup digest") == true)
}
