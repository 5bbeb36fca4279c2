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
