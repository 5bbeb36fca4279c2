import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private let cwmigrate = TestSupport.product("cwmigrate")

/// The environment a person would set after `scripts/sim`: address, CA and password,
/// and a state directory of the test's own for the learned compat file.
private func environment(_ sim: SimulatedConnectware, state: URL) -> [String: String] {
    [
        "CWMIGRATE_URL": sim.tlsURL, "CWMIGRATE_CACERT": sim.caFile.path, "CWMIGRATE_PASSWORD": sim.password,
        "XDG_STATE_HOME": state.path, "CWMIGRATE_TOKEN": "",
    ]
}

@Suite("cwmigrate status, backup and restore against cwsim", .serialized)
struct ConnectwareCLITests {
    @Test("status shows that nothing ran yet, in words and as JSON")
    func statusBeforeAnything() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let env = environment(sim, state: sim.directory)
        let human = try TestSupport.run(cwmigrate, ["status"], environment: env)
        #expect(human.status == 0)
        #expect(human.stdout.contains("Last backup:  never ran"))
        let json = try TestSupport.run(cwmigrate, ["status", "--json"], environment: env)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["running"] as? Bool == false)
        #expect(object["backup"] is NSNull)
        #expect(object["restore"] is NSNull)
    }

    @Test("backup saves a verified file of mode 0600 named by the backup id and prints its SHA-256")
    func backupSavesAVerifiedFile() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let result = try TestSupport.run(
            cwmigrate, ["backup", "--json", "--progress", "none"], environment: environment(sim, state: sim.directory),
            currentDirectory: sim.directory)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let file = try #require(object["file"] as? String)
        #expect(file.hasPrefix("connectware-1.8.0_") && !file.contains(":"))
        let path = sim.directory.appendingPathComponent(file).path
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let sha = try TestSupport.shell("sha256sum '\(path)' | cut -d' ' -f1").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(object["sha256"] as? String == sha)
        #expect(object["verified"] as? Bool == true)
    }

    @Test("wrong credentials end in one error line and exit 77")
    func wrongCredentials() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        var env = environment(sim, state: sim.directory)
        env["CWMIGRATE_PASSWORD"] = "wrong"
        let result = try TestSupport.run(cwmigrate, ["status"], environment: env)
        #expect(result.status == 77)
        #expect(result.stderr.hasPrefix("error: Connectware refused the credentials (HTTP 401)"))
        #expect(!result.stderr.contains("Optional("))
    }

    @Test("without the CA the TLS failure is one error line with a hint, exit 69")
    func untrustedCertificate() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        var env = environment(sim, state: sim.directory)
        env["CWMIGRATE_CACERT"] = ""
        let result = try TestSupport.run(cwmigrate, ["status"], environment: env)
        #expect(result.status == 69)
        #expect(result.stderr.contains("error: TLS failure"))
        let insecure = try TestSupport.run(cwmigrate, ["status", "--insecure"], environment: env)
        #expect(insecure.status == 0)
        #expect(insecure.stderr.contains("warning: TLS certificate verification is off"))
    }

    @Test("a refusal the client did not predict is learned, and the next restore predicts it without uploading")
    func refusalIsLearned() throws {
        let old = try SimulatedConnectware(version: "1.6.0")
        defer { old.stop() }
        let made = try TestSupport.run(
            cwmigrate, ["backup", "--output", "old.tgz", "--progress", "none", "--url", old.url],
            environment: ["CWMIGRATE_PASSWORD": old.password, "CWMIGRATE_TOKEN": ""], currentDirectory: old.directory)
        #expect(made.status == 0, "\(made.stderr)")
        let file = old.directory.appendingPathComponent("old.tgz").path

        let new = try SimulatedConnectware(
            version: "1.8.0", arguments: ["--barrier", "before=1.8.0,last=1.7.3"], tls: true)
        defer { new.stop() }
        let env = environment(new, state: new.directory.appendingPathComponent("state"))
        let first = try TestSupport.run(
            cwmigrate, ["restore", file, "--running", "1.8.0", "--yes", "--progress", "none"], environment: env)
        #expect(first.status == 3, "\(first.stderr)")
        #expect(first.stderr.contains("error: Connectware refused the restore"))
        #expect(first.stdout.contains("Decision: downgrade-required (restore on 1.7.3 first"))
        #expect(first.stdout.contains("cwmigrate plan --backup"))
        let learned = new.directory.appendingPathComponent("state/cwmigrate/learned-compat.yml")
        let text = try String(contentsOf: learned, encoding: .utf8)
        #expect(text.contains("since: 1.7.4") && text.contains("lastRestoringVersion: 1.7.3") && text.contains("refusedBy: 1.8.0"))

        let restoresBefore = try new.status()["restore"] as? [String: Any]
        let second = try TestSupport.run(
            cwmigrate, ["restore", file, "--running", "1.8.0", "--yes", "--progress", "none"], environment: env)
        #expect(second.status == 3)
        #expect(second.stdout.contains("predicted, nothing was uploaded"))
        let restoresAfter = try new.status()["restore"] as? [String: Any]
        #expect(restoresAfter?["startDate"] as? String == restoresBefore?["startDate"] as? String)

        let plan = try TestSupport.run(
            cwmigrate, ["plan", "--backup", file, "--running", "1.8.0", "--no-example-data"], environment: env)
        #expect(plan.status == 3)
        #expect(plan.stdout.contains("Restore on: 1.7.3"))
    }

    @Test("restore replaces rows changed after the backup, and off a terminal it needs --yes")
    func restoreRoundTrip() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let env = environment(sim, state: sim.directory)
        try sim.sql("INSERT INTO services (id, name, enabled) VALUES ('opcua-line-1', 'OPC UA line 1', true)")
        let before = try sim.sql("SELECT id || name || enabled FROM services ORDER BY id")
        let backup = try TestSupport.run(
            cwmigrate, ["backup", "--output", "b.tgz", "--progress", "none"], environment: env,
            currentDirectory: sim.directory)
        #expect(backup.status == 0)
        try sim.sql("UPDATE services SET enabled = false; INSERT INTO services (id, name) VALUES ('later', 'x')")

        let file = sim.directory.appendingPathComponent("b.tgz").path
        let unconfirmed = try TestSupport.run(cwmigrate, ["restore", file, "--progress", "none"], environment: env)
        #expect(unconfirmed.status == 64)
        #expect(unconfirmed.stderr.contains("needs confirmation"))
        #expect(try sim.sql("SELECT count(*) FROM services WHERE id = 'later'") == "1")

        let restored = try TestSupport.run(
            cwmigrate, ["restore", file, "--running", "1.8.0", "--yes", "--progress", "none"], environment: env)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("Restored backup 1.8.0_"))
        #expect(try sim.sql("SELECT id || name || enabled FROM services ORDER BY id") == before)
    }

    @Test("restore --yes does not act on a prediction example data made unless --accept-example-data says it is meant")
    func exampleDataDoesNotDriveAnUnattendedRestore() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let env = environment(sim, state: sim.directory)
        let old = TestSupport.packageRoot.appendingPathComponent("examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
        let arguments = [
            "restore", old.path, "--running", "1.8.0", "--yes", "--progress", "none", "--compat", TestSupport.exampleCompat,
        ]
        let refused = try TestSupport.run(cwmigrate, arguments, environment: env)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(
            refused.stderr.contains(
                "error: an EXAMPLE barrier shipped with cwmigrate decided this plan; it is illustration data, not a known Connectware barrier; an unattended restore (--yes) does not act on it unless --accept-example-data says it is meant"
            ))
        #expect(refused.stderr.contains("hint: give --accept-example-data, or --no-example-data to leave it out"))
        #expect(!refused.stdout.contains("Decision:"))
        let accepted = try TestSupport.run(cwmigrate, arguments + ["--accept-example-data"], environment: env)
        #expect(accepted.status == 3, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("Decision: downgrade-required (predicted, nothing was uploaded)"))
        let status = try TestSupport.run(cwmigrate, ["status", "--json"], environment: env)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["restore"] is NSNull, "nothing was uploaded")
    }

    @Test("--verbose names each call to Connectware on stderr, with its answer, and never a secret")
    func verboseNamesEachCallAndNoSecret() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let env = environment(sim, state: sim.directory)
        let result = try TestSupport.run(cwmigrate, ["status", "--login", "--verbose"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let calls = result.stderr.split(separator: "\n").filter { $0.hasPrefix("http: ") }
        #expect(calls.contains { $0.hasPrefix("http: POST \(sim.tlsURL)/api/login -> 200 in ") })
        #expect(calls.contains { $0.hasPrefix("http: GET \(sim.tlsURL)/api/maintenance/db -> 200 in ") })
        #expect(!result.stderr.contains(sim.password))
        #expect(!result.stderr.contains("Bearer") && !result.stderr.contains("Authorization"))
        #expect(result.stdout.contains("Now:"), "the result is unchanged")
        let plain = try TestSupport.run(cwmigrate, ["status", "--login"], environment: env)
        #expect(!plain.stderr.contains("http: "))
    }

    @Test("status shows a backup that is still running as running, in words and as JSON")
    func statusDuringABackup() throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "60"])
        defer { sim.stop() }
        let env = ["CWMIGRATE_URL": sim.url, "CWMIGRATE_PASSWORD": sim.password, "CWMIGRATE_TOKEN": ""]
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 202)
        let human = try TestSupport.run(cwmigrate, ["status"], environment: env)
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("Now:          a backup or restore is running"))
        #expect(human.stdout.contains("Last backup:  running  1.8.0_"), "\(human.stdout)")
        #expect(!human.stdout.contains("FAILED"))
        let json = try TestSupport.run(cwmigrate, ["status", "--json"], environment: env)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let backup = try #require(object["backup"] as? [String: Any])
        #expect(backup["running"] as? Bool == true)
        #expect(backup["succeeded"] is NSNull)
        #expect(backup["endDate"] is NSNull)
    }

    @Test("backup exits 75 while another backup runs, and with --wait-running waits for it, saying so, then takes its own")
    func backupWaitsForARunningOperation() throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "4"])
        defer { sim.stop() }
        let env = ["CWMIGRATE_URL": sim.url, "CWMIGRATE_PASSWORD": sim.password, "CWMIGRATE_TOKEN": ""]
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 202)
        let refused = try TestSupport.run(
            cwmigrate, ["backup", "--progress", "none"], environment: env, currentDirectory: sim.directory)
        #expect(refused.status == 75)
        #expect(refused.stderr.hasPrefix("error: a backup or restore is already running"))

        let waited = try TestSupport.run(
            cwmigrate, ["backup", "--progress", "plain", "--wait-running", "120", "--output", "mine.tgz"],
            environment: env, currentDirectory: sim.directory)
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("a backup (1.8.0_"), "\(waited.stderr)")
        #expect(waited.stderr.contains(") is running on Connectware since "))
        #expect(FileManager.default.fileExists(atPath: sim.directory.appendingPathComponent("mine.tgz").path))
        let started = sim.log.split(separator: "\n").filter { $0.hasSuffix("POST /api/maintenance/db/backup 202") }
        #expect(started.count == 2)
    }

    @Test("a server killed during backup's wait is said after 30 s, and the wait ends with one error naming its last answer")
    func serverKilledDuringTheWait() throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "300"])
        defer { sim.stop() }
        let pid = try #require(sim.processIdentifier)
        let env = ["CWMIGRATE_URL": sim.url, "CWMIGRATE_PASSWORD": sim.password, "CWMIGRATE_TOKEN": ""]
        // Killed once the client has had an answer about the backup it started, not a fixed
        // time after the POST: on a loaded machine the first poll can come later than that. The
        // server logs a request before its answer reaches the client, so one logged poll is not
        // yet an answer the client holds; the client polls one request at a time, so a second
        // logged poll proves it had the first's answer.
        @Sendable func polledAfterTheStart() -> Bool {
            let lines = sim.log.split(separator: "\n")
            guard let posted = lines.firstIndex(where: { $0.hasSuffix("POST /api/maintenance/db/backup 202") })
            else { return false }
            return lines[(posted + 1)...].filter { $0.hasSuffix("GET /api/maintenance/db 200") }.count >= 2
        }
        let killer = Thread {
            for _ in 0..<3000 {
                if polledAfterTheStart() {
                    kill(pid, SIGKILL)
                    return
                }
                usleep(20_000)
            }
        }
        killer.start()
        let began = Date()
        let result = try TestSupport.run(
            cwmigrate, ["backup", "--progress", "plain", "--unanswered-timeout", "40"], environment: env,
            currentDirectory: sim.directory)
        let took = Date().timeIntervalSince(began)
        #expect(result.status == 69, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let said = lines.filter { $0.hasPrefix("Connectware has not answered for 3") && $0.contains("; waiting until ") }
        #expect(said.count == 1, "\(result.stderr)")
        let errors = lines.filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("error: Connectware stopped answering: no status for 4") == true, "\(errors)")
        #expect(errors.first?.contains("its last answer: a backup (1.8.0_") == true)
        #expect(lines.contains { $0.hasPrefix("hint: ") })
        #expect(took < 90)
    }

    @Test("a restore that failed for another reason is not a refusal: its own exit code, no plan, nothing learned")
    func failedRestoreIsNotARefusal() throws {
        // Issue 15, 3: Connectware answers a backup without a dump with a failed restore.
        let sim = try SimulatedConnectware(version: "1.8.0", tls: true)
        defer { sim.stop() }
        let id = "1.8.0_2026-11-30T06:00:00.000Z"
        try TestSupport.shell(
            """
            mkdir -p 'src/\(id)' && printf '{"version":"1.8.0","id":"\(id)"}' > 'src/\(id)/metadata.json' \
            && tar -C src -czf nodump.tgz '\(id)'
            """, in: sim.directory)
        let state = sim.directory.appendingPathComponent("state")
        let result = try TestSupport.run(
            cwmigrate,
            [
                "restore", sim.directory.appendingPathComponent("nodump.tgz").path, "--running", "1.8.0", "--yes",
                "--progress", "none", "--compat", TestSupport.exampleCompat,
            ], environment: environment(sim, state: state))
        #expect(result.status == 12, "\(result.stderr)")
        #expect(result.stderr.contains("error: the restore failed on Connectware: Restore failed: the backup"))
        #expect(result.stderr.contains("hint: this is not a refusal of the backup's version"))
        #expect(!result.stderr.contains("refused"))
        #expect(!result.stdout.contains("Decision:") && !result.stdout.contains("cwmigrate plan"))
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("cwmigrate/learned-compat.yml").path))
    }

    @Test("a refusal names the server's last version: the plan follows it over an operator's file, and it is learned with its date")
    func refusalOutranksAnOperatorsFile() throws {
        // Issue 15, 2: 1.10.2 refuses a 1.0.73-era backup naming 1.4.2; the operator's file says 1.7.3.
        let old = try SimulatedConnectware(version: "1.0.73")
        defer { old.stop() }
        let made = try TestSupport.run(
            cwmigrate, ["backup", "--output", "old.tgz", "--progress", "none", "--url", old.url],
            environment: ["CWMIGRATE_PASSWORD": old.password, "CWMIGRATE_TOKEN": ""], currentDirectory: old.directory)
        #expect(made.status == 0, "\(made.stderr)")
        let file = old.directory.appendingPathComponent("old.tgz").path
        let new = try SimulatedConnectware(
            version: "1.10.2", arguments: ["--barrier", "before=1.5.0,last=1.4.2"], tls: true)
        defer { new.stop() }
        let mine = new.directory.appendingPathComponent("mine.yml")
        try "schema: 1\nbarriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n"
            .write(to: mine, atomically: true, encoding: .utf8)
        let env = environment(new, state: new.directory.appendingPathComponent("state"))
        let restore = try TestSupport.run(
            cwmigrate,
            ["restore", file, "--running", "1.10.2", "--yes", "--progress", "none", "--compat", mine.path, "--no-example-data"],
            environment: env)
        // The operator's file predicts the refusal: nothing is uploaded, the plan says 1.7.3.
        #expect(restore.status == 3, "\(restore.stderr)")
        #expect(restore.stdout.contains("predicted, nothing was uploaded"))
        // Without the file, the server refuses and names 1.4.2; that is learned with its date.
        let refused = try TestSupport.run(
            cwmigrate, ["restore", file, "--running", "1.10.2", "--yes", "--progress", "none"], environment: env)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stdout.contains("Decision: downgrade-required (restore on 1.4.2 first"))
        let learned = try String(
            contentsOf: new.directory.appendingPathComponent("state/cwmigrate/learned-compat.yml"), encoding: .utf8)
        #expect(learned.contains("refusedBy: 1.10.2") && learned.contains("refusedAt: \"20"))
        let plan = try TestSupport.run(
            cwmigrate, ["plan", "--backup", file, "--running", "1.10.2", "--compat", mine.path], environment: env)
        #expect(plan.status == 3, "\(plan.stderr)")
        #expect(plan.stdout.contains("Restore on: 1.4.2\n"))
        #expect(plan.stdout.contains("The plan follows the server's word."))
        #expect(plan.stdout.contains("\(mine.path):3 (operator's file) says 1.7.3"))
    }

}
