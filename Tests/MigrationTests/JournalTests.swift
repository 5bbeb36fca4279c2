import Foundation
import Migration
import Planner
import TestSupport
import Testing

@Suite("the journal of a run")
struct JournalTests {
    @Test func aNewJournalHasEveryPlanStepPendingByPositionWithWaitHealthyTwice() throws {
        let journal = try Fixtures.journal()
        #expect(journal.steps.map(\.kind.rawValue) == journal.plan.steps.map(\.id.rawValue))
        #expect(journal.steps.map(\.position) == Array(journal.plan.steps.indices))
        #expect(journal.steps.allSatisfy { $0.state == .pending && $0.attempts == 0 })
        #expect(journal.steps.filter { $0.kind == .waitHealthy }.count == 2)
        #expect(journal.outcome == .inProgress)
        #expect(journal.currentStep?.position == 0)
    }

    @Test func runIDsCarryTheUTCSecondAndSixHexDigitsAndNothingElseIsAnID() throws {
        var generator = SystemRandomNumberGenerator()
        let id = Journal.makeID(at: Date(timeIntervalSince1970: 1_795_733_941), using: &generator)
        #expect(id.hasPrefix("20261126T225901Z-"))
        #expect(id.count == 23)
        #expect(Journal.isValidID(id))
        for bad in ["", "../20261126T225901Z-abcdef", "20261126T225901Z-ABCDEF", "20261126T225901Z-abcde/", "x.json"] {
            #expect(!Journal.isValidID(bad), "\(bad)")
        }
    }

    @Test func eachWaitHealthyExpectsTheVersionTheStepsBeforeItInstalled() throws {
        let journal = try Fixtures.journal()
        let waits = journal.steps.filter { $0.kind == .waitHealthy }.map(\.position)
        #expect(waits.map { journal.expectedVersion(after: $0).description } == ["1.7.3", "1.8.0"])
        #expect(journal.expectedVersion(after: 0).description == "1.8.0")
    }

    @Test func transitionsThatSkipAStateAreRefusedWithTheStepNamed() throws {
        var journal = try Fixtures.journal()
        let now = Date(timeIntervalSince1970: 1_795_000_100)
        #expect(
            throws: MigrationError.invalidTransition(
                run: journal.id, position: 0, kind: .freshBackup, from: .pending, to: .done)
        ) {
            try journal.finish(0, at: now, message: nil)
        }
        try journal.begin(0, at: now)
        try journal.finish(0, at: now + 5, message: "ok")
        #expect(journal.steps[0].startedAt == now && journal.steps[0].endedAt == now + 5)
        #expect(throws: MigrationError.self) { try journal.begin(0, at: now) }
        #expect(throws: MigrationError.self) { try journal.complete(at: now) }
        #expect(throws: MigrationError.noSuchStep(run: journal.id, position: 99, count: journal.steps.count)) {
            try journal.begin(99, at: now)
        }
    }

    @Test func aStepPausedForRefusedCredentialsLeavesTheRunOpenAndIsFoundDoneOrBegunAgainOnResume() throws {
        var journal = try Fixtures.journal()
        let now = Date(timeIntervalSince1970: 1_795_000_100)
        try journal.begin(0, at: now)
        try journal.pause(0, at: now + 1, message: "the run is paused at step 1 fresh-backup: Connectware refused x")
        #expect(journal.steps[0].state == .paused && journal.steps[0].attempts == 1)
        #expect(journal.outcome == .inProgress && journal.endedAt == nil)
        #expect(journal.outcomeMessage == "the run is paused at step 1 fresh-backup: Connectware refused x")
        #expect(journal.currentStep?.position == 0)
        // Resumed: its postcondition holds, so it is done without doing it again.
        var found = journal
        try found.finish(0, at: now + 2, message: "found done")
        #expect(found.steps[0].state == .done)
        // Or it does not: begun again.
        try journal.begin(0, at: now + 2)
        #expect(journal.steps[0].state == .running && journal.steps[0].attempts == 2)
        // A step paused before it ever began was not done, so it cannot be found done.
        try journal.pause(1, at: now + 3, message: "paused before it began")
        #expect(throws: MigrationError.self) { try journal.finish(1, at: now + 4, message: nil) }
    }

    @Test func aFailedStepFailsTheRunAndBeginningItAgainReopensIt() throws {
        var journal = try Fixtures.journal()
        let now = Date(timeIntervalSince1970: 1_795_000_100)
        try journal.begin(0, at: now)
        try journal.fail(0, at: now + 1, message: "the server said no")
        #expect(journal.outcome == .failed)
        #expect(journal.outcomeMessage == "step 1 fresh-backup: the server said no")
        try journal.begin(0, at: now + 2)
        #expect(journal.outcome == .inProgress)
        #expect(journal.steps[0].attempts == 2)
    }

    @Test func anAbandonedRunEndsForGoodAndItsRunningStepIsMarkedInterrupted() throws {
        var journal = try Fixtures.journal()
        let now = Date(timeIntervalSince1970: 1_795_000_100)
        try journal.begin(0, at: now)
        try journal.abandon(at: now + 1, reason: "operator chose to restore by hand")
        #expect(journal.outcome == .abandoned)
        #expect(journal.steps[0].state == .failed)
        #expect(throws: MigrationError.runEnded(run: journal.id, outcome: .abandoned)) {
            try journal.begin(1, at: now + 2)
        }
    }
}
