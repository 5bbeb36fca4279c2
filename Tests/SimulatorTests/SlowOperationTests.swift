import Foundation
import TestSupport
import Testing

/// The fault switches that make backups and restores slow at run time, so an
/// end-to-end test can break in (restart the API, kill a client) while one runs.
@Suite("cwsim fault switches for slow backups and restores")
struct SlowOperationTests {
    @Test("with backupDelaySeconds set, a backup is still running after the POST, then succeeds; reset clears it")
    func slowBackup() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.setFaults(#"{"backupDelaySeconds":4}"#)
        #expect(try sim.call("GET", "/sim/faults").body.contains(#""backupDelaySeconds":4"#))
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 202)
        #expect(try sim.status()["running"] as? Bool == true)
        let record = try await sim.waitUntilFinished("backup")
        #expect(record["succeded"] as? Bool == true)

        #expect(try sim.call("POST", "/sim/reset").code == 200)
        #expect(try sim.call("GET", "/sim/faults").body.contains(#""backupDelaySeconds":0"#))
    }

    @Test("with restoreDelaySeconds set, a restore is still running after its upload, then succeeds")
    func slowRestore() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)
        try sim.setFaults(#"{"restoreDelaySeconds":4}"#)
        #expect(try sim.upload(file).code == 202)
        let during = try sim.status()
        #expect(during["running"] as? Bool == true)
        #expect((during["restore"] as? [String: Any])?["succeded"] is NSNull)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == true)
    }
}
