import DockerOps
import Foundation
import TestSupport
import Testing

/// Every Engine call ends by its deadline, whatever the daemon does.
struct EngineDeadlineTests {
    static let short = EngineDeadlines(
        call: .seconds(2), diskUsage: .seconds(2), stopMargin: .seconds(2), volumeArchive: .seconds(2),
        imageLoad: .seconds(2))

    @Test(.timeLimit(.minutes(5)))
    func aCallToADaemonThatAcceptsAndNeverAnswersEndsAtItsDeadlineNamingTheCallAndTheSocket() async throws {
        let directory = try TestSupport.temporaryDirectory()
        let socket = directory.appendingPathComponent("silent.sock").path
        let server = try SilentSocketServer(socket: socket, log: directory.appendingPathComponent("silent.log"))
        defer { server.stop() }
        // Timed on the thread that waits: resuming the test may wait for a cooperative thread.
        let (outcome, took) = try await TestSupport.offThePool {
            let started = Date()
            let outcome = Result { () throws(DockerOpsError) in
                try Engine(host: DockerHost(socketPath: socket), deadlines: Self.short)
            }
            return (outcome, Date().timeIntervalSince(started))
        }
        #expect(throws: DockerOpsError.engineTimedOut(call: "GET /version", socket: socket, seconds: 2)) {
            try outcome.get()
        }
        #expect(took >= 1.9 && took < 10)
        #expect(
            DockerOpsError.engineTimedOut(call: "GET /version", socket: socket, seconds: 2).description
                == "the Docker Engine on \(socket) did not answer GET /version within 2 s")
    }
}
