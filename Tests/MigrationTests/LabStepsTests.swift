import ConnectwareAPI
import DockerOps
import Foundation
import HTTP
import Migration
import Planner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `wait-healthy` and the available runners on the lab that scripts/test started (at 1.8.0).
/// These tests only look at the lab; they fail, never skip, without it.
@Suite("the steps that look at the lab", .serialized)
struct LabStepsTests {
    struct LabMissing: Error, CustomStringConvertible {
        var description: String {
            "this test needs the lab (DOCKER_HOST, CWMIGRATE_LAB_DIR, CWMIGRATE_URL, CWMIGRATE_PASSWORD, CWMIGRATE_CACERT): "
                + "run it through scripts/test, or export the lines `scripts/lab up` prints"
        }
    }

    struct Lab {
        let directory: String
        let project: String
        let host: ConnectwareHost
        let client: MaintenanceClient
    }

    func lab() throws -> Lab {
        let environment = ProcessInfo.processInfo.environment
        guard let docker = environment["DOCKER_HOST"], let directory = environment["CWMIGRATE_LAB_DIR"],
            docker.hasPrefix("unix://" + directory), let url = environment["CWMIGRATE_URL"],
            let password = environment["CWMIGRATE_PASSWORD"], let ca = environment["CWMIGRATE_CACERT"]
        else { throw LabMissing() }
        let projectDirectory = environment["CWMIGRATE_LAB_PROJECT_DIR"] ?? directory + "/connectware"
        return Lab(
            directory: directory, project: (projectDirectory as NSString).lastPathComponent,
            host: try ConnectwareHost(environment: environment),
            client: try MaintenanceClient(
                baseURL: url, authentication: .basic(user: "admin", password: password),
                transport: TransportOptions(caCertificatePath: ca)))
    }

    func exclusively<T>(_ lab: Lab, _ body: () throws -> T) throws -> T {
        try TestSupport.holdingLabLock(lab.directory, body)
    }

    /// `exclusively`, off the test runner's cooperative threads (see `TestSupport.offThePool`).
    func exclusively<T>(_ lab: Lab, _ body: () throws -> T) async throws -> T {
        try await TestSupport.holdingLabLock(lab.directory, body)
    }

    @Test func waitHealthyHoldsForTheVersionTheLabRunsAndNotForTheOlderOne() async throws {
        let lab = try lab()
        let journal = try Fixtures.journal()
        let waits = journal.steps.filter { $0.kind == .waitHealthy }.map(\.position)
        let step = WaitHealthyStep(host: lab.host, client: lab.client, project: lab.project, seconds: 120)
        try await exclusively(lab) {
            let afterUpgrade = StepContext(journal: journal, position: waits[1], artifactDirectory: "/nonexistent")
            try step.act(afterUpgrade)
            guard case .holds(let message, let artifacts) = try step.verify(afterUpgrade) else {
                Issue.record("the lab at 1.8.0 did not verify as healthy at 1.8.0")
                return
            }
            #expect(message.hasPrefix("Connectware 1.8.0 runs, "))
            #expect(message.hasSuffix("core containers healthy, the maintenance API answers"))
            #expect(artifacts.isEmpty)
            let afterInstall = StepContext(journal: journal, position: waits[0], artifactDirectory: "/nonexistent")
            #expect(try step.verify(afterInstall) == .doesNotHold(reason: "Connectware runs 1.8.0, not 1.7.3"))
        }
    }

    @Test func theComposeRunnersCoverEveryStepOfADowngrade() throws {
        let lab = try lab()
        let target = ComposeTarget(
            project: lab.project, directory: lab.directory + "/connectware", strategy: .installer,
            installerDirectory: lab.directory + "/installers", healthySeconds: 60)
        let runners = StepRunners.compose(
            client: lab.client, host: lab.host, target: target, waits: ServerWaits(operation: .seconds(60)))
        #expect(Set(runners.byKind.keys) == Set(StepKind.allCases))
        #expect(runners.unimplemented(in: try Fixtures.downgradePlan()) == [])
    }
}
