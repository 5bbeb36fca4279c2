import ConnectwareAPI
import Foundation
import HTTP
import Migration
import Planner
import TestSupport
import Testing

/// The steps that need no Docker, against cwsim over a real PostgreSQL.
@Suite("the backup and restore-check steps against cwsim", .serialized)
struct StepsTests {
    func client(_ sim: SimulatedConnectware, password: String? = nil) throws -> MaintenanceClient {
        try MaintenanceClient(
            baseURL: sim.url, authentication: .basic(user: "admin", password: password ?? sim.password),
            transport: TransportOptions())
    }

    func backupOnly(_ api: MaintenanceClient) -> StepRunners {
        StepRunners([.freshBackup: BackupStep(artifact: .freshBackup, client: api, waits: ServerWaits(operation: .seconds(60)))])
    }

    @Test func theFreshBackupIsDownloadedVerifiedAndRecordedAndTheRunStopsBeforeShutdownWithoutASecretInTheJournal()
        throws
    {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        // The run's environment has CWMIGRATE_PASSWORD: the lab's under scripts/test, else the
        // simulator's. Never unset or overwritten: other suites read the environment meanwhile.
        setenv("CWMIGRATE_PASSWORD", sim.password, 0)
        let inEnvironment = try #require(ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"])
        let api = try client(sim)
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        let run = try MigrationRun(
            journal: journal, store: store, lock: lock, runners: backupOnly(api), clock: SteppingClock().now)
        #expect(throws: MigrationError.stepNotImplemented(position: 1, kind: .shutdown)) { try run.run() }

        let saved = try store.load(journal.id)
        #expect(saved.steps[0].state == .done)
        #expect(saved.steps[1].state == .failed)
        let artifact = try #require(saved.artifacts.first)
        #expect(saved.artifacts.count == 1)
        #expect(artifact.kind == .freshBackup && artifact.step == 0)
        #expect(artifact.path == (try store.artifactDirectory(for: journal.id)) + "/fresh-backup-1.8.0.tgz")
        #expect(artifact.detail?.hasPrefix("1.8.0_") == true)
        let sum = try TestSupport.shell("sha256sum '\(artifact.path)' | cut -d' ' -f1").stdout
        #expect(artifact.sha256 + "\n" == sum)
        let size = try FileManager.default.attributesOfItem(atPath: artifact.path)[.size] as? Int64
        #expect(artifact.bytes == size)
        #expect(Fixtures.mode(artifact.path) == 0o600)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path(of: journal.id)))
        for secret in [inEnvironment, sim.password] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
            #expect(try TestSupport.shell("grep -rlF -- '\(secret)' '\(store.directory)' || true").stdout.isEmpty)
        }
    }

    @Test func aFreshBackupFoundCompleteWhenTheRunResumesIsRecordedWithoutTakingAnother() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try client(sim)
        let store = try Fixtures.store()
        var journal = try Fixtures.journal()
        let clock = SteppingClock()
        try journal.begin(0, at: clock.now())
        try store.save(journal)
        // The crash came after the download finished and before the journal said so.
        let record = try api.runBackup(deadline: .seconds(60))
        let path = try store.artifactDirectory(for: journal.id) + "/fresh-backup-1.8.0.tgz"
        _ = try api.downloadBackup(to: path)

        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        #expect(throws: MigrationError.stepNotImplemented(position: 1, kind: .shutdown)) {
            try MigrationRun(journal: journal, store: store, lock: lock, runners: backupOnly(api), clock: clock.now)
                .run()
        }
        let saved = try store.load(journal.id)
        #expect(saved.steps[0].state == .done)
        #expect(saved.steps[0].message?.hasPrefix("found done when the run resumed") == true)
        #expect(saved.artifacts.first?.detail == record.id)
        #expect(try api.status().backup?.id == record.id)
    }

    @Test func aBackupOfAnotherVersionThanConnectwareShouldRunFailsTheStepsPostcondition() throws {
        let sim = try SimulatedConnectware(version: "1.8.0")
        defer { sim.stop() }
        let api = try client(sim)
        let store = try Fixtures.store()
        let journal = try Fixtures.journal(plan: try Fixtures.downgradePlan(running: "1.9.0"))
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        #expect {
            try MigrationRun(journal: journal, store: store, lock: lock, runners: backupOnly(api), clock: Date.init)
                .run()
        } throws: { error in
            guard case MigrationError.postconditionFailed(0, .freshBackup, let reason) = error else { return false }
            return reason.contains("is of Connectware 1.8.0, not of 1.9.0")
        }
        let saved = try store.load(journal.id)
        #expect(saved.outcome == .failed)
        #expect(saved.artifacts.isEmpty)
    }

    @Test func verifyRestoreHoldsOnlyForASuccessfulRestoreOfTheRunsOwnBackup() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try client(sim)
        let file = sim.directory.appendingPathComponent("mine.tgz").path
        let record = try api.runBackup(deadline: .seconds(60))
        _ = try api.downloadBackup(to: file)
        let step = VerifyRestoreStep(client: api)
        let plan = try Fixtures.downgradePlan()
        let position = try #require(plan.steps.firstIndex { $0.id == .verifyRestore })

        var mine = try Fixtures.journal(backupID: record.id)
        #expect(
            try step.verify(StepContext(journal: mine, position: position, artifactDirectory: "/nonexistent"))
                == .doesNotHold(reason: "Connectware reports no restore"))

        // The run's restore step records its upload before it sends it; only a restore after it counts.
        let restorePosition = try #require(plan.steps.firstIndex { $0.id == .restore })
        try mine.note(
            ServerOperation(kind: .restore, requestedAt: Date(), previousID: nil, previousStartDate: nil),
            at: restorePosition, now: Date())
        _ = try api.runRestore(file: file, backupVersion: nil, runningVersion: nil, deadline: .seconds(60))
        let holds = try step.verify(StepContext(journal: mine, position: position, artifactDirectory: "/nonexistent"))
        #expect(
            holds == .holds(message: "the last restore succeeded with the backup's id \(record.id!)", artifacts: []))

        var other = try Fixtures.journal(backupID: "1.0.73_2022-02-16T15:37:19.242Z")
        try other.note(
            ServerOperation(kind: .restore, requestedAt: Date(), previousID: nil, previousStartDate: nil),
            at: restorePosition, now: Date())
        guard
            case .doesNotHold(let reason) = try step.verify(
                StepContext(journal: other, position: position, artifactDirectory: "/nonexistent"))
        else {
            Issue.record("a restore of another backup was taken as this one's")
            return
        }
        #expect(reason == "the last successful restore was of \(record.id!), not of 1.0.73_2022-02-16T15:37:19.242Z")
    }

    @Test func anEarlierSuccessfulRestoreOfTheSameBackupDoesNotCountForARestoreStepThatUploadedLater() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try client(sim)
        let file = sim.directory.appendingPathComponent("mine.tgz").path
        let record = try api.runBackup(deadline: .seconds(60))
        _ = try api.downloadBackup(to: file)
        let earlier = try api.runRestore(file: file, backupVersion: nil, runningVersion: nil, deadline: .seconds(60))
        #expect(earlier.succeeded == true && earlier.id == record.id)

        // The run's upload was recorded after that restore, and the server shows no newer one.
        let plan = try Fixtures.downgradePlan()
        let restorePosition = try #require(plan.steps.firstIndex { $0.id == .restore })
        var journal = try Fixtures.journal(backupID: record.id)
        try journal.note(
            ServerOperation(
                kind: .restore, requestedAt: Date(), previousID: earlier.id, previousStartDate: earlier.startDateText),
            at: restorePosition, now: Date())
        let verdict = try RestoreStep(client: api, waits: ServerWaits(operation: .seconds(60))).verify(
            StepContext(journal: journal, position: restorePosition, artifactDirectory: "/nonexistent"))
        guard case .doesNotHold(let reason) = verdict else {
            Issue.record("an earlier restore of the same backup was taken as the step's: \(verdict)")
            return
        }
        #expect(reason.contains("is older than the run's upload"))
    }
}
