import ConnectwareAPI
import Foundation
import HTTP
import Migration
import Planner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A run in its own process (this test binary again), killed with SIGKILL while Connectware
/// works on the backup or restore the run asked for, then resumed: the resumed step adopts
/// that operation instead of starting a second one. The installation's steps are `FileStep`s;
/// the backup, restore and verify steps are the real ones against cwsim.
@Suite("a run killed while Connectware works adopts the operation on resume", .serialized)
struct AdoptTests {
    static let stateVariable = "CWMIGRATE_TEST_ADOPT_STATE"
    static let runVariable = "CWMIGRATE_TEST_ADOPT_RUN"
    static let urlVariable = "CWMIGRATE_TEST_ADOPT_URL"
    static let passwordVariable = "CWMIGRATE_TEST_ADOPT_PASSWORD"

    static func runners(url: String, password: String, plan: Plan) throws -> StepRunners {
        let api = try MaintenanceClient(
            baseURL: url, authentication: .basic(user: "admin", password: password), transport: TransportOptions())
        let waits = ServerWaits(operation: .seconds(120), forRunning: .seconds(120))
        var byKind: [StepKind: any StepRunner] = [:]
        for step in plan.steps { byKind[step.id] = FileStep() }
        byKind[.freshBackup] = BackupStep(artifact: .freshBackup, client: api, waits: waits)
        byKind[.reBackup] = BackupStep(artifact: .reBackup, client: api, waits: waits)
        byKind[.restore] = RestoreStep(client: api, waits: waits)
        byKind[.verifyRestore] = VerifyRestoreStep(client: api)
        return StepRunners(byKind)
    }

    /// The child's part (enabled only when the test below starts it): walks the run until killed.
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment[AdoptTests.stateVariable] != nil,
            "the child process of the test below; it runs only when that test starts it"))
    func childRunsUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        let store = JournalStore(directory: try #require(environment[Self.stateVariable]))
        let journal = try store.load(try #require(environment[Self.runVariable]))
        let runners = try Self.runners(
            url: try #require(environment[Self.urlVariable]), password: try #require(environment[Self.passwordVariable]),
            plan: journal.plan)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "run \(journal.id)")
        try MigrationRun(journal: journal, store: store, lock: lock, runners: runners, clock: Date.init).run()
    }

    func count(_ line: String, in log: String) -> Int {
        log.split(separator: "\n").filter { $0.hasSuffix(line) }.count
    }

    @Test(
        "SIGKILL while the server works on the step's backup or restore, then resume: the operation is adopted, none is started twice",
        arguments: ["fresh-backup", "restore", "re-backup"])
    func aKilledStepAdoptsTheServersOperation(_ kind: String) async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let backupFile = sim.directory.appendingPathComponent("to-restore.tgz")
        let made = try await sim.backup(to: backupFile)
        let backupID = try #require(made["id"] as? String)
        let plan = try Fixtures.downgradePlan()
        let digest = try TestSupport.shell("sha256sum '\(backupFile.path)' | cut -d' ' -f1").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let journal = Journal(
            id: Journal.makeID(at: Date()), createdAt: Date(), installation: Fixtures.installation,
            backup: BackupRecord(
                path: backupFile.path, version: try Version(parsing: "1.8.0"), id: BackupID(backupID), sha256: digest),
            plan: plan)
        let store = try Fixtures.store()
        try store.save(journal)
        let position = try #require(plan.steps.lastIndex { $0.id.rawValue == kind })
        let operation = kind == "restore" ? "restore" : "backup"
        try sim.setFaults(kind == "restore" ? #"{"restoreDelaySeconds":6}"# : #"{"backupDelaySeconds":6}"#)

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "childRunsUntilKilled"]
        child.environment = ProcessInfo.processInfo.environment.merging([
            Self.stateVariable: store.directory, Self.runVariable: journal.id, Self.urlVariable: sim.url,
            Self.passwordVariable: sim.password,
        ]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer {
            if child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
        }
        // Killed once the step has recorded the server's 202 and the server still works on it.
        var requested = false
        for _ in 0..<1200 where child.isRunning {
            let step = (try? store.load(journal.id))?.steps[position]
            if step?.operation?.answer != nil, try sim.status()["running"] as? Bool == true {
                requested = true
                break
            }
            usleep(50_000)
        }
        try #require(requested, "the child never had Connectware working on step \(position + 1) \(kind)")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let startedBeforeKill = count("POST /api/maintenance/db/\(operation) 202", in: sim.log)

        let resumed = try store.load(journal.id)
        #expect(resumed.steps[position].state == .running)
        let killedDuring = try #require(resumed.steps[position].operation)
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "resume")
        let finished = try MigrationRun(
            journal: resumed, store: store, lock: lock,
            runners: Self.runners(url: sim.url, password: sim.password, plan: plan), clock: Date.init
        ).run()
        lock.release()

        #expect(finished.outcome == .completed)
        let step = finished.steps[position]
        #expect(step.message?.contains("adopted") == true, "step message: \(step.message ?? "none")")
        #expect(step.operation?.adoptedAt != nil)
        #expect(step.operation?.requestedAt == killedDuring.requestedAt)
        // The report says so too: the step's line carries when it was adopted.
        let report = RunReport(finished)
        #expect(report.steps[position].adoptedAt != nil)
        #expect(report.steps.filter { $0.adoptedAt != nil }.count == 1)
        #expect(report.markdown().contains("| \(kind) | done (adopted) |"))
        // Only the later steps' own operations are started after the resume (the re-backup after a fresh backup).
        let later = plan.steps[(position + 1)...].filter { operation == "backup" ? $0.id.rawValue.hasSuffix("backup") : $0.id == .restore }
        #expect(count("POST /api/maintenance/db/\(operation) 202", in: sim.log) == startedBeforeKill + later.count)
        if kind == "restore" {
            let restore = try #require(try sim.status()["restore"] as? [String: Any])
            #expect(restore["id"] as? String == backupID)
            #expect(restore["succeded"] as? Bool == true)
        } else {
            let artifact = try #require(finished.artifacts.first { $0.step == position })
            #expect(artifact.detail == step.operation?.id)
            #expect(FileManager.default.fileExists(atPath: artifact.path))
        }
    }
}
