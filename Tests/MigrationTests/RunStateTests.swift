import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// The states a run may not lie about: a rollback begun, the machine it began on, the
/// prechecks of this attempt, and what a failed restore or an upgrade leaves behind.
@Suite("a run's state that cannot lie")
struct RunStateTests {
    func fileRunners(_ plan: Plan) -> StepRunners {
        StepRunners(Dictionary(plan.steps.map { ($0.id, FileStep() as any StepRunner) }) { first, _ in first })
    }

    /// A journal whose first step failed and whose rollback then began and failed.
    func rolledBackAndFailed(_ store: JournalStore) throws -> Journal {
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        try journal.begin(0, at: clock.now())
        try journal.fail(0, at: clock.now(), message: "step 1 fresh-backup failed: test")
        var record = RollbackRecord(startedAt: clock.now())
        record.succeeded = false
        record.message = "the rollback of run x did not finish: test"
        journal.rollback = record
        try store.save(journal)
        return journal
    }

    @Test func aRunWhoseRollbackBeganAndFailedCannotBeResumed() throws {
        let store = try Fixtures.store()
        let journal = try rolledBackAndFailed(store)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        #expect(throws: MigrationError.rollbackBegan(run: journal.id, at: journal.rollback!.startedAt, finished: false))
        {
            try MigrationRun(
                journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init)
        }
        var walked = journal
        #expect(throws: MigrationError.self) { try walked.begin(0, at: Date()) }
        #expect(throws: MigrationError.self) { try walked.complete(at: Date()) }
        let saved = try store.load(journal.id)
        #expect(saved.steps[0].attempts == 1)
        #expect(saved.outcome == .failed)
    }

    @Test func aRunWhoseRollbackBeganCanStillBeAbandoned() throws {
        let store = try Fixtures.store()
        let journal = try rolledBackAndFailed(store)
        let abandoned = try store.abandon(journal.id, at: Date(), reason: "given up")
        #expect(abandoned.outcome == .abandoned)
    }

    @Test func aRunFromAnotherHostIsRefusedAndOneFromThisHostIsWalked() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        journal.host = RunHost(hostName: "host-a", dockerEngineID: "ENGINE-A")
        try store.save(journal)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        let elsewhere = RunHost(hostName: "host-b", dockerEngineID: "ENGINE-B")
        #expect(throws: MigrationError.otherHost(run: journal.id, recorded: journal.host!, here: elsewhere)) {
            try MigrationRun(
                journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init,
                here: elsewhere)
        }
        let sameNameOtherEngine = RunHost(hostName: "host-a", dockerEngineID: "ENGINE-C")
        #expect(throws: MigrationError.self) {
            try MigrationRun(
                journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init,
                here: sameNameOtherEngine)
        }
        #expect(throws: MigrationError.self) {
            try MigrationRun(
                journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init)
        }
        try MigrationRun(
            journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init,
            here: RunHost(hostName: "host-a", dockerEngineID: "ENGINE-A")
        ).run()
        #expect(try store.load(journal.id).outcome == .completed)
    }

    @Test func failedPrechecksStopTheRunBeforeItsFirstStepAndAreRecorded() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        let failing = [
            CheckResult("connectware api", .pass, "answers"),
            CheckResult("install strategy", .fail, "1.8.0 (the version a rollback installs): no installer"),
        ]
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: Date.init,
            prechecks: { _ in failing })
        #expect(throws: MigrationError.prechecksFailed(run: journal.id, failed: [failing[1]])) { try run.run() }
        let saved = try store.load(journal.id)
        #expect(saved.outcome == .failed)
        #expect(saved.steps.allSatisfy { $0.attempts == 0 && $0.state == .pending })
        #expect(saved.prechecks?.checks == failing)
        #expect(
            saved.outcomeMessage?.contains("install strategy: 1.8.0 (the version a rollback installs): no installer")
                == true)
        #expect(
            !FileManager.default.fileExists(
                atPath: try store.artifactDirectory(for: journal.id) + "/0-fresh-backup.log"))
    }

    @Test func prechecksOfAnEarlierAttemptNeverCountAndPassingOnesAreKeptForTheShutdown() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        journal.prechecks = PrecheckRecord(at: Date(timeIntervalSince1970: 0), checks: [CheckResult("x", .pass, "old")])
        try store.save(journal)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        var seenByShutdown: [PrecheckRecord?] = []
        struct Spy: StepRunner {
            let seen: (PrecheckRecord?) -> Void
            func checkPreconditions(_ context: StepContext) throws(MigrationError) { seen(context.journal.prechecks) }
            func act(_ context: StepContext) throws(MigrationError) {}
            func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
                .holds(message: "ok", artifacts: [])
            }
        }
        var runners = fileRunners(journal.plan)
        runners.byKind[.shutdown] = Spy { seenByShutdown.append($0) }
        try MigrationRun(journal: journal, store: store, lock: lock, runners: runners, clock: Date.init).run()
        #expect(seenByShutdown.count == 1 && seenByShutdown[0] == nil, "a run without prechecks passes none on")

        var second = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_000_100))
        second.prechecks = journal.prechecks
        try store.save(second)
        seenByShutdown = []
        let passing = [CheckResult("connectware api", .pass, "answers")]
        try MigrationRun(
            journal: second, store: store, lock: lock, runners: runners, clock: Date.init, prechecks: { _ in passing }
        ).run()
        #expect(seenByShutdown.first??.checks == passing)
        #expect(try store.load(second.id).prechecks?.passed == true)
    }

    @Test func aRestoreThatFailedWithoutARefusalLeavesTheDataForTheRollbackToPutBack() throws {
        let root = TestSupport.packageRoot.appendingPathComponent("playbooks")
        let playbook = try Playbook(
            yaml: String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8),
            source: "docker-compose.yml")
        let plan = makePlan(
            backup: Fixtures.version("1.8.0"), running: Fixtures.version("1.8.0"), knowledge: .empty,
            playbook: playbook)
        var journal = try Fixtures.journal(plan: plan)
        let clock = SteppingClock()
        let restore = try #require(journal.steps.firstIndex { $0.kind == .restore })
        for position in 0..<restore {
            try journal.begin(position, at: clock.now())
            try journal.finish(position, at: clock.now(), message: nil)
        }
        try journal.begin(restore, at: clock.now())
        try journal.fail(
            restore, at: clock.now(),
            message: MigrationError.stepFailed(
                position: restore, kind: .restore,
                reason:
                    "the restore failed on Connectware (Restore failed: pg_restore exited 1); what the database holds now is unknown"
            ).description)
        #expect(Rollback.touchedDataInPlace(journal))
    }

    @Test func anUpgradeFirstRunThatBeganItsUpgradeIsRolledBackFromItsSnapshots() throws {
        let root = TestSupport.packageRoot.appendingPathComponent("playbooks")
        let playbook = try Playbook(
            yaml: String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8),
            source: "docker-compose.yml")
        let plan = makePlan(
            backup: Fixtures.version("1.8.1"), running: Fixtures.version("1.8.0"), knowledge: .empty,
            playbook: playbook)
        #expect(plan.decision == .upgradeFirst)
        var journal = try Fixtures.journal(plan: plan)
        let clock = SteppingClock()
        let upgrade = try #require(journal.steps.firstIndex { $0.kind == .upgrade })
        for position in 0..<upgrade {
            try journal.begin(position, at: clock.now())
            try journal.finish(position, at: clock.now(), message: nil)
        }
        #expect(!Rollback.touchedVolumes(journal), "before the upgrade the volumes are as they were")
        try journal.begin(upgrade, at: clock.now())
        #expect(Rollback.touchedVolumes(journal))
    }
}

extension RunStateTests {
    @Test func aRunWhoseProjectDirectoryIsUnknownGetsNoGuessedDirectory() throws {
        let journal = try Fixtures.journal(installation: InstallationRef(name: "connectware", directory: nil))
        #expect(throws: MigrationError.projectDirectoryUnknown(project: "connectware")) {
            try ComposeTarget(journal: journal, installerDirectory: nil)
        }
        let known = try ComposeTarget(journal: try Fixtures.journal(), installerDirectory: nil)
        #expect(known.directory == "/opt/connectware")
    }
}

extension RunStateTests {
    @Test func theNewPlanAfterARefusalIsPrecheckedBeforeItsShutdown() throws {
        let store = try Fixtures.store()
        let root = TestSupport.packageRoot.appendingPathComponent("playbooks")
        let playbook = try Playbook(
            yaml: String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8),
            source: "docker-compose.yml")
        let unknown = makePlan(
            backup: Fixtures.version("1.6.0"), running: Fixtures.version("1.8.0"), knowledge: .empty, playbook: playbook
        )
        let refusal = RestoreRefusal(
            statusMessage: "Restore failed: use 1.7.3.", lastRestoringVersion: Fixtures.version("1.7.3"))
        let journal = try Fixtures.journal(plan: unknown)
        let downgrade = makePlan(
            backup: Fixtures.version("1.6.0"), running: Fixtures.version("1.8.0"), knowledge: .empty,
            playbook: playbook,
            refusal: refusal, backupFile: journal.backup.path)
        var runners = fileRunners(downgrade)
        for step in unknown.steps where runners.byKind[step.id] == nil { runners.byKind[step.id] = FileStep() }
        runners.byKind[.restore] = RefusingRestore(last: "1.7.3", refuseOnlyAt: Fixtures.version("1.8.0"))
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        var seen: [String] = []
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock, runners: runners, clock: SteppingClock().now,
            prechecks: { journal in
                seen.append(journal.plan.decision.rawValue)
                return journal.plan.decision == .downgradeRequired
                    ? [CheckResult("install strategy", .fail, "1.7.3: no installer")]
                    : [CheckResult("install strategy", .pass, "the plan installs no other version")]
            }, replanning: Replanning(knowledge: .empty, playbook: playbook))
        #expect(
            throws: MigrationError.prechecksFailed(
                run: journal.id, failed: [CheckResult("install strategy", .fail, "1.7.3: no installer")])
        ) { try run.run() }
        #expect(seen == ["compatibility-unknown", "downgrade-required"])
        let saved = try store.load(journal.id)
        #expect(saved.plan == downgrade)
        #expect(saved.steps.first { $0.kind == .shutdown }?.attempts == 0)
        #expect(saved.outcome == .failed)
    }
}
