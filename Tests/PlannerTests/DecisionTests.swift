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

@Test func aRefusalOverridesAFileThatPredictedADirectRestore() {
    let refusal = RestoreRefusal(statusMessage: "use 1.5.0", lastRestoringVersion: v("1.5.0"))
    #expect(
        decide(backup: v("1.2.0"), running: v("1.8.0"), knowledge: example, refusal: refusal).decision
            == .downgradeRequired(restoreAt: v("1.5.0")))
}

@Test func aRefusedVersionMayMeetAnOlderKnownBarrier() {
    let known = knowledge(barrier("1.5.0", before: "1.0.80", last: "1.4.2"))
    let refusal = RestoreRefusal(statusMessage: "last version 1.7.3", lastRestoringVersion: v("1.7.3"))
    let result = decide(backup: v("1.0.73"), running: v("1.8.0"), knowledge: known, refusal: refusal)
    #expect(result.decision == .downgradeRequired(restoreAt: v("1.4.2")))
}

@Test func aRefusalNamingNoVersionIsUnknownAndKeepsTheMessage() {
    let refusal = RestoreRefusal(statusMessage: "database schema mismatch", lastRestoringVersion: nil)
    let result = decide(backup: v("1.2.0"), running: v("1.8.0"), knowledge: example, refusal: refusal)
    #expect(result.decision == .compatibilityUnknown)
    #expect(result.reason.contains("database schema mismatch"))
}

@Test func aRefusalNamingNoVersionFallsBackToAKnownBarrier() {
    let refusal = RestoreRefusal(statusMessage: "database schema mismatch", lastRestoringVersion: nil)
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
