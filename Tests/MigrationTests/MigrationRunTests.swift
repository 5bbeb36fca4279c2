import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// A step whose work is a real file: `act` appends a line naming the state the journal
/// on disk had at that moment; the postcondition is that the file exists.
struct FileStep: StepRunner {
    var precondition: String? = nil
    /// Stays in `act` after writing, until the process is killed.
    var blockAfterActing = false

    static func file(_ context: StepContext) -> String {
        context.artifactDirectory + "/\(context.position)-\(context.step.id).log"
    }

    func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        if let precondition {
            throw .preconditionFailed(position: context.position, kind: context.step.id, reason: precondition)
        }
    }

    func act(_ context: StepContext) throws(MigrationError) {
        let store = JournalStore(directory: (context.artifactDirectory as NSString).deletingLastPathComponent + "/..")
        let onDisk = (try? store.load(context.journal.id))?.steps[context.position].state.rawValue ?? "unreadable"
        let handle = FileHandle(forWritingAtPath: Self.file(context))
        if let handle {
            handle.seekToEndOfFile()
            handle.write(Data("acted while saved as \(onDisk)\n".utf8))
            handle.closeFile()
        } else {
            _ = FileManager.default.createFile(
                atPath: Self.file(context), contents: Data("acted while saved as \(onDisk)\n".utf8))
        }
        if blockAfterActing { sleep(300) }
    }

    func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        FileManager.default.fileExists(atPath: Self.file(context))
            ? .holds(message: "the file is there", artifacts: []) : .doesNotHold(reason: "no file yet")
    }
}

@Suite("walking a run's steps")
struct MigrationRunTests {
    /// Every kind of the plan run by `FileStep`, except those in `except`.
    func fileRunners(_ plan: Plan, except: [StepKind: any StepRunner] = [:]) -> StepRunners {
        var byKind: [StepKind: any StepRunner] = [:]
        for step in plan.steps { byKind[step.id] = FileStep() }
        for (kind, runner) in except { byKind[kind] = runner }
        return StepRunners(byKind)
    }

    func lines(_ store: JournalStore, _ journal: Journal, _ position: Int) throws -> [String] {
        let path = try store.artifactDirectory(for: journal.id) + "/\(position)-\(journal.steps[position].kind).log"
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func everyStepIsSavedRunningBeforeItActsAndDoneAfterAndTheRunCompletes() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        var events: [RunEvent] = []
        let clock = SteppingClock()
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: clock.now,
            onEvent: { events.append($0) })
        try run.run()

        let saved = try store.load(journal.id)
        #expect(saved.outcome == .completed)
        #expect(saved.steps.allSatisfy { $0.state == .done && $0.attempts == 1 && $0.message == "the file is there" })
        for position in saved.steps.indices {
            #expect(try lines(store, journal, position) == ["acted while saved as running"])
            let step = saved.steps[position]
            #expect(step.startedAt! < step.endedAt!)
        }
        #expect(saved.endedAt == clock.current)
        #expect(events.last == .completed)
        #expect(events.filter { if case .started = $0 { true } else { false } }.count == saved.steps.count)
    }

    @Test func aStepFoundRunningWhoseWorkIsDoneIsMarkedDoneWithoutActingAgain() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        try journal.begin(0, at: clock.now())
        try store.save(journal)
        let directory = try store.artifactDirectory(for: journal.id)
        try Data("acted before the crash\n".utf8).write(to: URL(fileURLWithPath: directory + "/0-fresh-backup.log"))

        var events: [RunEvent] = []
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        try MigrationRun(
            journal: store.load(journal.id), store: store, lock: lock, runners: fileRunners(journal.plan),
            clock: clock.now, onEvent: { events.append($0) }
        ).run()

        let saved = try store.load(journal.id)
        #expect(try lines(store, journal, 0) == ["acted before the crash"])
        #expect(saved.steps[0].state == .done)
        #expect(saved.steps[0].attempts == 1)
        #expect(saved.steps[0].message == "found done when the run resumed: the file is there")
        #expect(events.first == .foundDone(position: 0, kind: .freshBackup, message: "the file is there"))
        #expect(saved.outcome == .completed)
    }

    @Test func aStepFoundRunningWhoseWorkIsNotDoneIsDoneAgain() throws {
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        try journal.begin(0, at: clock.now())
        try store.save(journal)

        var events: [RunEvent] = []
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        try MigrationRun(
            journal: journal, store: store, lock: lock, runners: fileRunners(journal.plan), clock: clock.now,
            onEvent: { events.append($0) }
        ).run()
        let saved = try store.load(journal.id)
        #expect(try lines(store, journal, 0) == ["acted while saved as running"])
        #expect(saved.steps[0].attempts == 2)
        #expect(events.first == .repeating(position: 0, kind: .freshBackup, reason: "no file yet"))
    }

    @Test func aStepWithoutAnExecutorStopsTheRunBeforeItStartsAndLeavesTheLaterStepsUntouched() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        var runners = fileRunners(journal.plan)
        runners.byKind[.shutdown] = nil
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock, runners: runners, clock: SteppingClock().now)
        #expect(throws: MigrationError.stepNotImplemented(position: 1, kind: .shutdown)) { try run.run() }

        let saved = try store.load(journal.id)
        #expect(saved.steps[0].state == .done)
        #expect(saved.steps[1].state == .failed)
        #expect(saved.steps[1].startedAt == nil)
        #expect(saved.steps[1].message?.contains("not implemented yet") == true)
        #expect(saved.steps[2...].allSatisfy { $0.state == .pending })
        #expect(saved.outcome == .failed)
        #expect(saved.outcomeMessage?.hasPrefix("step 2 shutdown: executing this step is not implemented") == true)
        let made = try FileManager.default.contentsOfDirectory(atPath: try store.artifactDirectory(for: journal.id))
        #expect(made == ["0-fresh-backup.log"])
    }

    @Test func everyStepKindAPlanCanContainHasAComposeExecutor() throws {
        let runners = StepRunners(
            Dictionary(uniqueKeysWithValues: StepKind.allCases.map { ($0, FileStep() as any StepRunner) }))
        #expect(runners.unimplemented(in: try Fixtures.downgradePlan()) == [])
    }

    @Test func aRunStoppedByAFailedPreconditionCompletesWhenResumedOnceItHolds() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let clock = SteppingClock()
        do {
            let lock = try RunLock.acquire(journal.installation, in: store, holder: "first")
            defer { lock.release() }
            let refusing = fileRunners(
                journal.plan, except: [.freshBackup: FileStep(precondition: "Connectware is busy")])
            #expect(
                throws: MigrationError.preconditionFailed(
                    position: 0, kind: .freshBackup, reason: "Connectware is busy")
            ) {
                try MigrationRun(journal: journal, store: store, lock: lock, runners: refusing, clock: clock.now).run()
            }
            #expect(try store.load(journal.id).outcome == .failed)
        }
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "second")
        try MigrationRun(
            journal: store.load(journal.id), store: store, lock: lock, runners: fileRunners(journal.plan),
            clock: clock.now
        ).run()
        let saved = try store.load(journal.id)
        #expect(saved.outcome == .completed)
        #expect(saved.steps[0].attempts == 1)
    }

    @Test func aRunNeedsTheLockOfItsOwnInstallation() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let other = try RunLock.acquire(InstallationRef(name: "other"), in: store, holder: "test")
        #expect(throws: MigrationError.self) {
            try MigrationRun(journal: journal, store: store, lock: other, runners: StepRunners([:]), clock: Date.init)
        }
    }
}
