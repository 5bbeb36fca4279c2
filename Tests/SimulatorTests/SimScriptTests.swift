import Foundation
import TestSupport
import Testing

@Suite("scripts/sim")
struct SimScriptTests {
    @Test("scripts/sim prints ready-to-export lines, says when it is already running, and stop removes everything")
    func startTwiceAndStop() throws {
        let state = try TestSupport.temporaryDirectory("cwsim-script").appendingPathComponent("state")
        let script = TestSupport.packageRoot.appendingPathComponent("scripts/sim")
        let environment = [
            "CWMIGRATE_SIM_STATE": state.path, "CWSIM_BIN": TestSupport.product("cwsim").path,
        ]
        defer {
            _ = try? TestSupport.run(script, ["stop"], environment: environment)
            try? FileManager.default.removeItem(at: state.deletingLastPathComponent())
        }

        let started = try TestSupport.run(script, ["1.7.3"], environment: environment)
        #expect(started.status == 0, "scripts/sim failed: \(started.stderr)")
        var exported: [String: String] = [:]
        for line in started.stdout.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { exported[pair[0]] = pair[1] }
        }
        let url = try #require(exported["CWMIGRATE_URL"])
        let password = try #require(exported["CWMIGRATE_PASSWORD"])
        let caFile = try #require(exported["CWMIGRATE_CACERT"])
        #expect(url.hasPrefix("https://127.0.0.1:"))
        #expect(!password.isEmpty)

        let status = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-s", "--cacert", caFile, "-u", "admin:\(password)", url + "/api/maintenance/db"])
        #expect(status.status == 0)
        #expect(status.stdout == #"{"running":false}"#)

        let again = try TestSupport.run(script, [], environment: environment)
        #expect(again.stderr.contains("already running"))
        #expect(again.stdout == started.stdout)

        let stopped = try TestSupport.run(script, ["stop"], environment: environment)
        #expect(stopped.status == 0)
        #expect(!FileManager.default.fileExists(atPath: state.path))
        let gone = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "--max-time", "5", "--cacert", caFile, url])
        #expect(gone.status == 7)  // CURLE_COULDNT_CONNECT: nothing listens any more
    }
}
