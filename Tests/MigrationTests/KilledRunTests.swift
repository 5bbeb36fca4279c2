import Foundation
import Migration
import Planner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A run in its own process, killed with SIGKILL in the middle of a step, then resumed.
/// The child is this test binary again, running only `childRunUntilKilled`.
@Suite("a run killed mid-step", .serialized)
struct KilledRunTests {
    static let stateVariable = "CWMIGRATE_TEST_KILLED_RUN_STATE"
    static let runVariable = "CWMIGRATE_TEST_KILLED_RUN_ID"

    /// The child's part (enabled only when the parent starts it): walks the run with a
    /// second step that acts and then blocks until the process is killed.
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment[KilledRunTests.stateVariable] != nil,
            "the child process of the test below; it runs only when that test starts it"))
    func childRunUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        let store = JournalStore(directory: try #require(environment[Self.stateVariable]))
        let journal = try store.load(try #require(environment[Self.runVariable]))
        var byKind: [StepKind: any StepRunner] = [:]
        for step in journal.plan.steps { byKind[step.id] = FileStep() }
        byKind[.shutdown] = FileStep(blockAfterActing: true)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "run \(journal.id)")
        try MigrationRun(journal: journal, store: store, lock: lock, runners: StepRunners(byKind), clock: Date.init)
            .run()
        Issue.record("the blocking step returned")
    }

    @Test func aRunKilledInTheMiddleOfAStepReleasesItsLockAndResumesWithoutRepeatingTheStepsWork() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        try store.save(journal)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "childRunUntilKilled"]
        child.environment = ProcessInfo.processInfo.environment.merging(
            [Self.stateVariable: store.directory, Self.runVariable: journal.id]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer {
            if child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
        }

        let marker = try store.artifactDirectory(for: journal.id) + "/1-shutdown.log"
        for _ in 0..<1200 where !FileManager.default.fileExists(atPath: marker) && child.isRunning { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: marker), "the child never reached the shutdown step")
        let midStep = try store.load(journal.id)
        #expect(midStep.steps[0].state == .done)
        #expect(midStep.steps[1].state == .running)
        guard case .held(let holder) = try RunLock.state(of: journal.installation, in: store) else {
            Issue.record("the child does not hold the installation's lock")
            return
        }
        #expect(holder == "pid \(child.processIdentifier): run \(journal.id)")

        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(try RunLock.state(of: journal.installation, in: store) == .free)

        var events: [RunEvent] = []
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "resume")
        var byKind: [StepKind: any StepRunner] = [:]
        for step in journal.plan.steps { byKind[step.id] = FileStep() }
        try MigrationRun(
            journal: try store.load(journal.id), store: store, lock: lock, runners: StepRunners(byKind),
            clock: Date.init, onEvent: { events.append($0) }
        ).run()
        let resumed = try store.load(journal.id)
        #expect(resumed.outcome == .completed)
        #expect(events.first == .foundDone(position: 1, kind: .shutdown, message: "the file is there"))
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "acted while saved as running\n")
        #expect(resumed.steps[0].attempts == 1 && resumed.steps[1].attempts == 1)
    }
}
