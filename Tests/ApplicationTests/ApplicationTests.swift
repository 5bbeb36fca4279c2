import Application
import Foundation
import Migration
import Planner
import TestSupport
import Testing

@Test func aFileThatIsNotJSONIsRefusedAsASavedPlanSayingSo() throws {
    let directory = try TestSupport.temporaryDirectory("application")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("plan.json")
    try Data("not a plan".utf8).write(to: file)
    #expect(throws: KnowledgeError.notASavedPlan(path: file.path, detail: "it is not JSON")) {
        try LocalKnowledge.savedPlan(at: file.path)
    }
}

@Test func aPlaybookForAnotherInstallationIsRefusedNamingBothKinds() throws {
    let playbooks = TestSupport.packageRoot.appendingPathComponent("playbooks")
    let kubernetes = playbooks.appendingPathComponent("kubernetes.yml").path
    #expect(
        throws: KnowledgeError.playbookForAnotherInstallation(
            path: kubernetes, kind: "kubernetes", wanted: "docker-compose")
    ) {
        try LocalKnowledge.playbook(path: kubernetes, installation: .dockerCompose, playbooks: playbooks.path)
    }
}

@Test func rollbackWithoutARunInAnEmptyStateDirectorySaysThereIsNoUnfinishedRun() throws {
    let directory = try TestSupport.temporaryDirectory("application")
    defer { try? FileManager.default.removeItem(at: directory) }
    let lifecycle = RunLifecycle(store: JournalStore(directory: directory.path))
    #expect(throws: RunLifecycleError.noUnfinishedRun(directory: directory.path, toRollBack: true)) {
        try lifecycle.toRollBack(nil)
    }
}

@Test func aMissingCompatFileIsNamedAsMissing() throws {
    let playbooks = TestSupport.packageRoot.appendingPathComponent("playbooks").path
    #expect(throws: KnowledgeError.fileMissing(path: "/nonexistent/compat.yml")) {
        try LocalKnowledge.load(compatFiles: ["/nonexistent/compat.yml"], ignoringExamples: false, playbooks: playbooks)
    }
}

@Test func aRestoreThatFailedForAnotherReasonTeachesNothingAndLoadsNoKnowledge() throws {
    let refusal = RestoreRefusal(statusMessage: "pg_restore: error: could not write to file: No space left on device")
    var loaded = false
    let verdict = try refusal.verdict(backup: Version(major: 1, minor: 0, patch: 73), running: nil) {
        loaded = true
        return CompatibilityKnowledge(barriers: [])
    }
    guard case .notAboutVersion = verdict else {
        Issue.record("expected notAboutVersion, got \(verdict)")
        return
    }
    #expect(!loaded)
}

@Test func aRefusalNamingAVersionWithoutTheRunningVersionIsADowngradeToThatVersion() throws {
    let refusal = RestoreRefusal(statusMessage: "Latest version able to restore: 1.0.91 (backup version 1.0.73)")
    let verdict = try refusal.verdict(backup: Version(major: 1, minor: 0, patch: 73), running: nil) {
        Issue.record("knowledge is not needed without the running version")
        return CompatibilityKnowledge(barriers: [])
    }
    guard case .fromRefusalAlone(let decision, let last) = verdict else {
        Issue.record("expected fromRefusalAlone, got \(verdict)")
        return
    }
    #expect(decision == .downgradeRequired)
    #expect(last == Version(major: 1, minor: 0, patch: 91))
}

@Test func aGivenRefusalNamingNoVersionIsAUsageFailureSayingWhatToGiveInstead() throws {
    let backup = Version(major: 1, minor: 0, patch: 73)
    let running = Version(major: 1, minor: 8, patch: 0)
    let error = #expect(throws: Failure.self) {
        try RestoreRefusal.given("Restore failed: incompatible backup", backup: backup, running: running)
    }
    #expect(error?.exitCode == ExitStatus.usage)
    #expect(error?.message == "--refusal: the message names no version that restores the backup: Restore failed: incompatible backup")
    #expect(error?.hint?.contains("in a compat file (--compat)") == true)
}

@Test func aRunIDThatIsNoneIsAUsageFailureHintingAtTheRunsList() throws {
    let failure = MigrationError.invalidRunID("x").failure
    #expect(failure.exitCode == ExitStatus.usage)
    #expect(failure.hint == "cwmigrate runs lists the runs and their ids")
}

@Test func aMigrationPlansFromTheSameKnowledgePlaybookAndDataDirectoryAsPlanWould() {
    let sources = PlanSources(
        compatFiles: ["/etc/cwmigrate/site.yml"], ignoringExamples: true, playbookPath: "/etc/cwmigrate/compose.yml",
        dataDirectory: "/opt/cwmigrate/playbooks", installation: .kubernetes)
    let planning = MigrationPlanning(
        sources: sources, installerDirectory: "/srv/installers", savedPlanPath: "plan.json")
    #expect(planning.compatFiles == ["/etc/cwmigrate/site.yml"])
    #expect(planning.ignoringExamples)
    #expect(planning.playbookPath == "/etc/cwmigrate/compose.yml")
    #expect(planning.dataDirectory == "/opt/cwmigrate/playbooks")
    #expect(planning.installerDirectory == "/srv/installers")
    #expect(planning.savedPlanPath == "plan.json")
}
