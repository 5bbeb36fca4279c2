import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// A restore step that the server refuses (once, or always), naming `last`.
struct RefusingRestore: StepRunner {
    var last: String
    var refuseOnlyAt: Version?

    func checkPreconditions(_ context: StepContext) throws(MigrationError) {}

    func act(_ context: StepContext) throws(MigrationError) {
        if let refuseOnlyAt, context.expectedVersion != refuseOnlyAt { return try FileStep().act(context) }
        throw .restoreRefused(
            position: context.position, kind: context.step.id, atVersion: context.expectedVersion,
            refusal: RestoreRefusal(
                statusMessage: "Restore failed: use \(last).", lastRestoringVersion: Version.parse(last)))
    }

    func verify(_ context: StepContext) throws(MigrationError) -> Postcondition { try FileStep().verify(context) }

    func intent(_ context: StepContext) -> String? { "replace the database" }
}

@Suite("replanning, pausing and reporting a run")
struct ReplanAndReportTests {
    func playbook() throws -> Playbook {
        let root = TestSupport.packageRoot.appendingPathComponent("playbooks")
        return try Playbook(
            yaml: String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8),
            source: "docker-compose.yml")
    }

    func unknownPlan(refusal: RestoreRefusal? = nil) throws -> Plan {
        makePlan(
            backup: Fixtures.version("1.6.0"), running: Fixtures.version("1.8.0"), knowledge: .empty,
            playbook: try playbook(), refusal: refusal)
    }

    func runners(_ plans: [Plan], restore: any StepRunner) -> StepRunners {
        var byKind: [StepKind: any StepRunner] = [:]
        for plan in plans { for step in plan.steps { byKind[step.id] = FileStep() } }
        byKind[.restore] = restore
        return StepRunners(byKind)
    }

    @Test func aRefusalAtTheRunningVersionReplacesThePlanKeepingTheFreshBackupDone() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal(plan: try unknownPlan())
        let refusal = RestoreRefusal(statusMessage: "Restore failed: use 1.7.3.", lastRestoringVersion: Fixtures.version("1.7.3"))
        let downgrade = makePlan(
            backup: Fixtures.version("1.6.0"), running: Fixtures.version("1.8.0"), knowledge: .empty,
            playbook: try playbook(), refusal: refusal, backupFile: journal.backup.path)
        #expect(downgrade.decision == .downgradeRequired)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        defer { lock.release() }
        var events: [RunEvent] = []
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock,
            runners: runners([journal.plan, downgrade], restore: RefusingRestore(last: "1.7.3", refuseOnlyAt: Fixtures.version("1.8.0"))),
            clock: SteppingClock().now, replanning: Replanning(knowledge: .empty, playbook: try playbook()),
            onEvent: { events.append($0) })
        try run.run()
        let saved = try store.load(journal.id)
        #expect(saved.outcome == .completed)
        #expect(saved.plan == downgrade)
        #expect(saved.steps.map(\.kind.rawValue) == downgrade.steps.map(\.id.rawValue))
        #expect(saved.steps[0].attempts == 1, "the fresh backup was not taken again")
        #expect(saved.earlierPlans?.count == 1)
        #expect(saved.earlierPlans?.first?.plan.decision == .compatibilityUnknown)
        #expect(saved.earlierPlans?.first?.steps.first { $0.kind == .restore }?.state == .failed)
        #expect(events.contains(.replanned(refusal: refusal, plan: downgrade)))
        let report = RunReport(saved)
        #expect(report.replacedPlans.count == 1)
        #expect(report.replacedPlans.first?.hasSuffix("because Connectware said: Restore failed: use 1.7.3.") == true)
    }

    @Test func aRefusalNamingNoVersionGivesNoNewPlanAndANamedOneADowngradeOnTheSameBasis() throws {
        var unknown = try unknownPlan()
        unknown.basis = PlanBasis(
            backupFile: "/var/backups/connectware-1.0.73.tgz", backupSHA256: String(repeating: "ab", count: 32),
            project: "connectware", directory: "/opt/connectware", knowledge: [], ignoresExampleData: true)
        let journal = try Fixtures.journal(plan: unknown)
        let replanning = Replanning(knowledge: .empty, playbook: try playbook())
        let vague = RestoreRefusal(statusMessage: "Restore failed: incompatible backup")
        #expect(replanning.plan(after: vague, for: journal) == nil)
        let named = RestoreRefusal(statusMessage: "Restore failed: use 1.7.3.", lastRestoringVersion: Fixtures.version("1.7.3"))
        let plan = try #require(replanning.plan(after: named, for: journal))
        #expect(plan.decision == .downgradeRequired)
        #expect(plan.basis == journal.plan.basis)
    }

    @Test func aRefusalAtTheOlderVersionStopsTheRunBeforeAnotherStep() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        defer { lock.release() }
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock,
            runners: runners([journal.plan], restore: RefusingRestore(last: "1.5.0")), clock: SteppingClock().now,
            replanning: Replanning(knowledge: .empty, playbook: try playbook()))
        #expect(throws: MigrationError.self) { try run.run() }
        let saved = try store.load(journal.id)
        let restore = try #require(saved.steps.firstIndex { $0.kind == .restore })
        #expect(saved.outcome == .failed)
        #expect(saved.steps[restore].state == .failed)
        #expect(saved.steps[restore].message?.contains("Connectware 1.7.3 refused the restore") == true)
        #expect(saved.steps[(restore + 1)...].allSatisfy { $0.state == .pending })
        #expect(saved.earlierPlans == nil)
    }

    @Test func declinedStepsPauseTheRunUntouchedAndAResumeCarriesOn() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let restore = try #require(journal.plan.steps.firstIndex { $0.id == .restore })
        var asked: [String] = []
        do {
            let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
            defer { lock.release() }
            let run = try MigrationRun(
                journal: journal, store: store, lock: lock,
                runners: runners([journal.plan], restore: RefusingRestore(last: "1.7.3", refuseOnlyAt: Fixtures.version("9.9.9"))),
                clock: SteppingClock().now,
                confirm: { _, position, intent in
                    asked.append(intent)
                    return position != restore
                })
            #expect(throws: MigrationError.declined(position: restore, kind: .restore)) { try run.run() }
        }
        #expect(asked == ["replace the database"])
        let paused = try store.load(journal.id)
        #expect(paused.outcome == .inProgress)
        #expect(paused.outcomeMessage == "paused before step \(restore + 1) restore: the operator declined it")
        #expect(paused.steps[restore].state == .pending && paused.steps[restore].attempts == 0)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        defer { lock.release() }
        try MigrationRun(
            journal: paused, store: store, lock: lock,
            runners: runners([journal.plan], restore: RefusingRestore(last: "1.7.3", refuseOnlyAt: Fixtures.version("9.9.9"))),
            clock: SteppingClock().now
        ).run()
        #expect(try store.load(journal.id).outcome == .completed)
    }

    @Test func theReportTakesTheDowntimeFromTheShutdownToConnectwareBackAtTheOriginalVersion() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        defer { lock.release() }
        let clock = SteppingClock()
        try MigrationRun(
            journal: journal, store: store, lock: lock,
            runners: runners([journal.plan], restore: FileStep()), clock: clock.now
        ).run()
        let saved = try store.load(journal.id)
        let shutdown = try #require(saved.steps.first { $0.kind == .shutdown })
        let lastWait = try #require(saved.steps.last { $0.kind == .waitHealthy })
        let report = RunReport(saved)
        let expected = try #require(lastWait.endedAt).timeIntervalSince(try #require(shutdown.startedAt))
        #expect(report.downtimeSeconds == (expected * 1000).rounded() / 1000)
        #expect(report.steps.count == saved.steps.count)
        #expect(report.steps.allSatisfy { $0.durationSeconds != nil && $0.state == "done" })
        let path = try store.saveReports(saved)
        let markdown = try String(contentsOfFile: path, encoding: .utf8)
        #expect(markdown.hasPrefix("# cwmigrate run \(saved.id): completed"))
        #expect(markdown.contains("| Downtime | "))
        let json = try #require(FileManager.default.contents(atPath: store.reportPath(of: saved.id, extension: "json")))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["format"] as? String == "cwmigrate-report/1")
        #expect(object["downtimeSeconds"] as? Double == report.downtimeSeconds)
        #expect(Fixtures.mode(path) & 0o777 == 0o600)
    }

    @Test func anUnfinishedRunHasNoDowntimeYet() throws {
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        for position in 0..<3 {
            try journal.begin(position, at: clock.now())
            try journal.finish(position, at: clock.now(), message: nil)
        }
        #expect(RunReport(journal).downtimeSeconds == nil)
        #expect(RunReport(journal).markdown().contains("not over"))
    }

    @Test func rollbackKnowsWhatARunTouched() throws {
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        #expect(!Rollback.touchedVolumes(journal) && !Rollback.touchedDataInPlace(journal))
        let remove = try #require(journal.steps.firstIndex { $0.kind == .removeVolumes })
        for position in 0...remove {
            try journal.begin(position, at: clock.now())
            if position < remove { try journal.finish(position, at: clock.now(), message: nil) }
        }
        #expect(Rollback.touchedVolumes(journal))
        #expect(!Rollback.touchedDataInPlace(journal), "a restore at the older version is undone by the volumes")
        var direct = try Fixtures.journal(plan: try unknownPlan())
        let restore = try #require(direct.steps.firstIndex { $0.kind == .restore })
        for position in 0...restore { try direct.begin(position, at: clock.now()) }
        #expect(Rollback.touchedDataInPlace(direct))
        try direct.fail(restore, at: clock.now(), message: "step 2 restore: Connectware 1.8.0 refused the restore: no")
        #expect(!Rollback.touchedDataInPlace(direct), "a refused restore changed nothing")
    }
}
