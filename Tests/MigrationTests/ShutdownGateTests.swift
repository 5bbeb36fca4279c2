import DockerOps
import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// The shutdown's own check on the lab: without prechecks that passed in this attempt of
/// the run, it refuses, whoever calls it. It only looks at the lab.
extension LabStepsTests {
    @Test func theShutdownRefusesWithoutPrechecksThatPassedInThisAttempt() async throws {
        let lab = try lab()
        let target = ComposeTarget(
            project: lab.project, directory: lab.directory + "/connectware", strategy: .installer,
            installerDirectory: lab.directory + "/installers", healthySeconds: 60)
        let step = ShutdownStep(host: lab.host, target: target)
        var journal = try Fixtures.journal()
        let position = try #require(journal.steps.firstIndex { $0.kind == .shutdown })
        try await exclusively(lab) {
            let before = try lab.host.discover(project: lab.project).containers.map(\.state)
            #expect(
                throws: MigrationError.preconditionFailed(
                    position: position, kind: .shutdown,
                    reason:
                        "the prechecks have not been run in this attempt of the run; nothing is stopped without them")
            ) {
                try step.checkPreconditions(
                    StepContext(journal: journal, position: position, artifactDirectory: "/nonexistent"))
            }
            journal.prechecks = PrecheckRecord(
                at: Date(), checks: [CheckResult("free disk", .fail, "needs about 2 GiB; 1 GiB free at /var")])
            #expect(
                throws: MigrationError.preconditionFailed(
                    position: position, kind: .shutdown,
                    reason: "the prechecks did not pass: free disk: needs about 2 GiB; 1 GiB free at /var")
            ) {
                try step.checkPreconditions(
                    StepContext(journal: journal, position: position, artifactDirectory: "/nonexistent"))
            }
            #expect(try lab.host.discover(project: lab.project).containers.map(\.state) == before)
        }
    }
}
