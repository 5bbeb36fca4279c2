import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `cwmigrate migrate` and `cwmigrate rollback` end to end on the lab that scripts/test
/// started: a backup made by Connectware 1.6.0 holding known rows and service-manager files,
/// a lab at 1.8.0 that refuses it and names 1.7.3. Every scenario starts from the same data
/// (restored from a 1.8.0 backup) and checks the end state by `scripts/lab check`'s row-by-row
/// checksums. These tests change the lab; they hold its lock and leave it at 1.8.0.
@Suite("migrate end to end in the lab", .serialized)
struct MigrateLabTests {
    /// What every scenario starts from, made once per test process.
    struct Stage: Sendable {
        let directory: String
        /// A backup made by 1.6.0 and the lab's checksums when it was made.
        let oldBackup: String
        let oldCheck: String
        /// A backup of the lab at 1.8.0 with other data, and its checksums: the starting point.
        let startBackup: String
        let startCheck: String
        /// A compat file that knows the lab's barrier.
        let compat: String
    }

    nonisolated(unsafe) static var stage: Stage?

    let labUnderTest: LabUnderTest
    /// The lab's directory.
    var lab: String { labUnderTest.directory }
    var scratch: ScratchDirectory { labUnderTest.scratch }

    init() throws {
        labUnderTest = try LabUnderTest(scratchLabel: "cwmigrate-e2e")
    }

    // MARK: - The lab

    @discardableResult
    func labScript(_ arguments: [String]) throws -> ProgramResult { try labUnderTest.script(arguments) }

    func check() throws -> String { try labUnderTest.check() }

    /// The environment of a cwmigrate run: its own state directory and learned file.
    func environment(state: String) -> [String: String] {
        ["CWMIGRATE_STATE_DIR": state, "XDG_STATE_HOME": state + "-xdg"]
    }

    func cwmigrate(_ arguments: [String], state: String) throws -> ProgramResult {
        try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments + ["--progress", "none"].filter { _ in
                ["migrate", "backup", "restore"].contains(arguments.first ?? "")
            }, environment: environment(state: state))
    }

    func migrateArguments(_ backup: String, extra: [String] = []) -> [String] {
        ["migrate", "--backup", backup, "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"]
            + extra
    }

    /// The version the lab's containers run and whether they all run.
    func labVersion() throws -> (version: String?, allRunning: Bool) {
        let result = try TestSupport.run(TestSupport.product("cwmigrate"), ["host", "--json"])
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { return (nil, false) }
        let containers = object["containers"] as? [[String: Any]] ?? []
        let versions = Set(containers.compactMap { $0["imageVersion"] as? String })
        let running = !containers.isEmpty && containers.allSatisfy { ($0["state"] as? String) == "running" }
        return (versions.count == 1 ? versions.first : nil, running)
    }

    /// SHA-256 over the certs volume's files, as root reads them at the mount point.
    func certsDigest() throws -> String {
        try TestSupport.shell(
            """
            mp="$(docker volume inspect connectware_certs --format '{{.Mountpoint}}')"
            cd "$mp" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum | sha256sum | cut -d' ' -f1
            """
        ).stdout
    }

    func psql(_ sql: String) throws {
        try TestSupport.shell(
            """
            port="$(sed -n 's/^CYBUS_LAB_POSTGRES_PORT=//p' '\(lab)/connectware/.env')"
            /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U cybus-admin \
              -d cybus_connectware -c "\(sql)"
            """)
    }

    func writeServiceFile(_ name: String, _ text: String) throws {
        try TestSupport.shell(
            """
            mp="$(docker volume inspect connectware_service-manager --format '{{.Mountpoint}}')"
            mkdir -p "$mp/services" && printf '%s\\n' '\(text)' > "$mp/services/\(name)"
            """)
    }

    /// The stage, made on first use: a 1.6.0 backup with known data, then the lab back at
    /// 1.8.0 with different data and a backup of that as the starting point.
    func prepared() throws -> Stage {
        if let stage = Self.stage { return stage }
        let directory = try TestSupport.temporaryDirectory("cwmigrate-e2e-stage").path
        let state = directory + "/state"
        try bringTo180()
        try labUnderTest.install("1.6.0")
        try labScript(["seed"])
        try psql("INSERT INTO roles (name, description) VALUES ('made-by-1.6.0', 'in the old backup') ON CONFLICT (name) DO NOTHING")
        try writeServiceFile("old-flow.json", "{\"made\": \"by 1.6.0\"}")
        let oldCheck = try check()
        let old = directory + "/connectware-1.6.0.tgz"
        let made = try cwmigrate(["backup", "--output", old], state: state)
        guard made.status == 0 else { throw LabSetupFailed(description: "backup at 1.6.0: \(made.stderr)") }
        try labUnderTest.install("1.8.0")
        try psql("INSERT INTO roles (name, description) VALUES ('current-at-1.8.0', 'only at the start') ON CONFLICT (name) DO NOTHING")
        try psql("DELETE FROM users WHERE username = 'lab-user-3'")
        try writeServiceFile("current-flow.json", "{\"made\": \"at 1.8.0\"}")
        let startCheck = try check()
        let start = directory + "/starting-point.tgz"
        let startMade = try cwmigrate(["backup", "--output", start], state: state)
        guard startMade.status == 0 else { throw LabSetupFailed(description: "backup at 1.8.0: \(startMade.stderr)") }
        let compat = directory + "/lab-compat.yml"
        try """
        schema: 1
        barriers:
          - since: 1.8.0
            refusesBackupsBefore: 1.7.3
            lastRestoringVersion: 1.7.3
            note: "the lab's barrier, for backups made before 1.7.3 (the lab refuses 1.7.3's own too)"
            source: "scripts/lab.d/README.md"
        upgradeStops: []

        """.write(toFile: compat, atomically: true, encoding: .utf8)
        #expect(oldCheck != startCheck, "the old backup's data must differ from the starting data")
        let stage = Stage(
            directory: directory, oldBackup: old, oldCheck: oldCheck, startBackup: start, startCheck: startCheck,
            compat: compat)
        Self.stage = stage
        return stage
    }

    /// Connectware 1.8.0 installed and running, whatever a scenario left.
    func bringTo180() throws {
        let found = try labVersion()
        if found.version == "1.8.0" && found.allRunning { return }
        try labUnderTest.install("1.8.0")
    }

    /// Back to the starting data at 1.8.0; a scenario's state directory.
    func reset(_ stage: Stage) throws -> String {
        try bringTo180()
        let state = scratch.path + "/state-\(UUID().uuidString.prefix(6))"
        let restored = try cwmigrate(["restore", stage.startBackup, "--yes"], state: state + "-reset")
        guard restored.status == 0 else { throw LabSetupFailed(description: "resetting the lab: \(restored.stderr)") }
        try #require(try check() == stage.startCheck, "the lab did not go back to its starting data")
        return state
    }

    func scenario(_ body: (Stage) throws -> Void) throws {
        try labUnderTest.exclusively {
            let stage = try prepared()
            defer { try? bringTo180() }
            try body(stage)
        }
    }

    /// `scenario`, off the test runner's cooperative threads (see `TestSupport.offThePool`).
    func scenario(_ body: (Stage) throws -> Void) async throws {
        try await TestSupport.offThePool { try scenario(body) }
    }

    // MARK: - Runs in the background, killed on cue

    /// A cwmigrate process whose output goes to files, to be killed with SIGKILL.
    final class Background {
        let process = Process()
        let output: URL
        private var reaped: Int32?

        init(_ arguments: [String], environment: [String: String], output: URL) throws {
            self.output = output
            process.executableURL = TestSupport.product("cwmigrate")
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                .merging(["NO_COLOR": "1"]) { $1 }
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// The exit status once it has exited (128+signal when killed), else nil. Foundation
        /// may reap the child itself (ECHILD here); then its own record has the status.
        func poll() -> Int32? {
            if let reaped { return reaped }
            var status: Int32 = 0
            let pid = waitpid(process.processIdentifier, &status, WNOHANG)
            if pid == process.processIdentifier {
                reaped = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            } else if pid == -1 && errno == ECHILD {
                while process.isRunning { usleep(1_000) }
                reaped =
                    process.terminationReason == .uncaughtSignal
                    ? 128 + process.terminationStatus : process.terminationStatus
            }
            return reaped
        }

        func killHard() -> Int32 {
            if let done = poll() { return done }
            kill(process.processIdentifier, SIGKILL)
            while true {
                if let done = poll() { return done }
                usleep(1_000)
            }
        }

        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    }

    /// The run's journal as JSON (the state directory holds one run).
    func journal(_ state: String) -> [String: Any]? {
        let runs = state + "/runs"
        guard let name = try? FileManager.default.contentsOfDirectory(atPath: runs)
            .first(where: { $0.hasSuffix(".json") && !$0.contains(".report.") && !$0.hasPrefix(".") }),
            let data = FileManager.default.contents(atPath: runs + "/" + name)
        else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    func steps(_ state: String) -> [(kind: String, state: String)] {
        (journal(state)?["steps"] as? [[String: Any]] ?? []).map {
            ($0["kind"] as? String ?? "", $0["state"] as? String ?? "")
        }
    }

    /// Runs cwmigrate in the background and kills it once `cue` holds for the journal's steps
    /// (or lets it finish); returns the exit status (137 when killed) and what it printed.
    func run(
        _ arguments: [String], state: String, label: String, killWhen cue: ([(kind: String, state: String)]) -> Bool,
        after delay: Double = 0, extraEnvironment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let background = try Background(
            arguments, environment: environment(state: state).merging(extraEnvironment) { $1 },
            output: scratch.appendingPathComponent(label + ".log"))
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            if let status = background.poll() { return (status, background.text) }
            if cue(steps(state)) {
                if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
                return (background.killHard(), background.text)
            }
            usleep(10_000)
        }
        return (background.killHard(), background.text + "\n(the test stopped it after 300 s)")
    }

    func report(_ state: String) throws -> [String: Any] {
        let runs = state + "/runs"
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.hasSuffix(".report.json") })
        let data = try #require(FileManager.default.contents(atPath: runs + "/" + name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func lastLine(_ text: String) -> String { text.split(separator: "\n").last.map(String.init) ?? "" }

    /// The state every successful migration ends in: the old backup's data at 1.8.0, a
    /// verified re-backup of 1.8.0, the certs untouched, a completed report.
    func expectMigrated(_ stage: Stage, state: String, certs: String) throws {
        #expect(try check() == stage.oldCheck)
        let found = try labVersion()
        #expect(found.version == "1.8.0" && found.allRunning)
        #expect(try certsDigest() == certs)
        let report = try report(state)
        #expect(report["outcome"] as? String == "completed")
        #expect((report["downtimeSeconds"] as? Double ?? 0) > 0)
        let artifacts = report["artifacts"] as? [[String: Any]] ?? []
        let rebackup = try #require(artifacts.first { $0["kind"] as? String == "re-backup" }?["path"] as? String)
        let inspected = try cwmigrate(["inspect", "--verify", "--json", rebackup], state: state)
        #expect(inspected.status == 0)
        #expect(inspected.stdout.contains("\"version\":\"1.8.0\""))
        #expect(Set(artifacts.compactMap { $0["detail"] as? String }).isSuperset(of: [
            "connectware_postgresql", "connectware_service-manager",
        ]))
        try expectNoKeepTags()
    }

    /// A finished run (completed or rolled back) leaves none of cwmigrate's keep tags.
    func expectNoKeepTags() throws {
        let kept = try TestSupport.shell("docker images --format '{{.Repository}}:{{.Tag}}' | grep '^cwmigrate-keep/' || true").stdout
        #expect(kept.isEmpty, "keep tags left by a finished run: \(kept)")
    }

    // MARK: - Scenarios

    @Test func aKnownBarrierIsMigratedUnattendedToTheBackupsDataAtTheRunningVersion() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let result = try cwmigrate(
                migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data", "--verbose"]),
                state: state)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("Run ") && result.stdout.contains(": downgrade-required"))
            // --verbose: each call to Connectware, Docker and the installer, never a secret.
            let license = try TestSupport.shell("sed -n 's/^CYBUS_REGISTRY_PASS=//p' '\(lab)/connectware/.env'").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let secret = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            #expect(!license.isEmpty && !result.stderr.contains(license), "the license key reached the call log")
            #expect(!result.stderr.contains(secret), "the password reached the call log")
            let calls = result.stderr.split(separator: "\n")
            #expect(calls.contains { $0.hasPrefix("http: POST ") && $0.contains("/api/maintenance/db/restore -> 2") })
            #expect(calls.contains { $0.hasPrefix("docker: DELETE /v1.41/volumes/connectware_postgresql") })
            #expect(calls.contains { $0.hasPrefix("run: ") && $0.contains("connectware-online-installer.sh -s -d ") })
            #expect(lastLine(result.stdout).hasPrefix("report: " + state + "/runs/"))
            #expect(result.stdout.contains("Migration completed."))
            try expectMigrated(stage, state: state, certs: certs)
            #expect((try report(state)["replacedPlans"] as? [Any])?.isEmpty == true)
            let mode = try FileManager.default.attributesOfItem(
                atPath: String(lastLine(result.stdout).dropFirst("report: ".count)))[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let password = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            let everything = try TestSupport.shell("cat '\(state)'/runs/*").stdout
            #expect(!everything.contains(password), "a secret reached the journal or the report")
            try expectReportPage(state: state)
        }
    }

    /// `cwmigrate report` renders the run just made: every step, each measured apart into
    /// cwmigrate's own work and waiting, every artifact's SHA-256, the downtime.
    func expectReportPage(state: String) throws {
        let page = scratch.appendingPathComponent("report-\(UUID().uuidString.prefix(6)).html")
        let made = try cwmigrate(["report", "last", "--output", page.path], state: state)
        #expect(made.status == 0, "\(made.stderr)")
        let html = try String(contentsOf: page, encoding: .utf8)
        let report = try report(state)
        for step in report["steps"] as? [[String: Any]] ?? [] {
            #expect(html.contains("\(step["position"] as? Int ?? 0). \(step["kind"] as? String ?? "?")</text>"))
            #expect(step["cpuSeconds"] is Double && step["waitSeconds"] is Double, "step \(step["kind"] ?? "?") not measured")
        }
        for artifact in report["artifacts"] as? [[String: Any]] ?? [] {
            #expect(html.contains(artifact["sha256"] as? String ?? "no sha256"))
        }
        #expect(html.contains(">downtime ") && !html.contains("src=") && !html.contains("href="))
    }

    @Test func anUnknownBarrierIsLearnedFromTheRefusalAndTheRunCarriesOnWithTheDowngrade() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let result = try cwmigrate(migrateArguments(stage.oldBackup, extra: ["--no-example-data"]), state: state)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("Connectware 1.8.0 refused the restore: "))
            #expect(result.stdout.contains("The run carries on with the plan this refusal gives:"))
            try expectMigrated(stage, state: state, certs: certs)
            let replaced = try report(state)["replacedPlans"] as? [String] ?? []
            #expect(replaced.count == 1)
            #expect(replaced.first?.hasPrefix("compatibility-unknown at ") == true)
            let learned = try String(
                contentsOfFile: state + "-xdg/cwmigrate/learned-compat.yml", encoding: .utf8)
            #expect(learned.contains("lastRestoringVersion: 1.7.3"))
            // The first plan installed nothing; the new one's images were made ready before its
            // shutdown, under the kept fresh-backup step, not inside the window.
            let before = try report(state)["beforeDowntime"] as? [String] ?? []
            #expect(before.count == 1, "\(before)")
            #expect(before.first?.contains("for the new plan: saved the images of Connectware 1.8.0") == true, "\(before)")
            #expect(before.first?.contains("pulled the 6 images of Connectware 1.7.3") == true, "\(before)")
            let saved = (journal(state)?["artifacts"] as? [[String: Any]] ?? []).filter {
                $0["kind"] as? String == "saved-images"
            }
            #expect(saved.count == 1 && saved.first?["step"] as? Int == 0, "\(saved)")
        }
    }

    @Test func aRunKilledAtEveryStepBoundaryIsResumedToTheSameEndState() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let resume = [
                "migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120",
            ]
            var kills = 0
            var boundary = 1
            var last: (status: Int32, output: String) = (-1, "")
            // Boundaries 1 to 10: after the last step there is nothing left to resume.
            while boundary <= 10 {
                let wanted = boundary
                last = try run(
                    kills == 0 ? arguments : resume, state: state, label: "boundary-\(boundary)",
                    killWhen: { steps in steps.filter { $0.state == "done" }.count >= wanted })
                if last.status == 137 { kills += 1 } else { break }
                boundary += 1
            }
            if last.status == 137 && (journal(state)?["outcome"] as? String) != "completed" {
                last = try run(resume, state: state, label: "boundary-final", killWhen: { _ in false })
                #expect(last.status == 0, "\(last.output)")
            } else if last.status != 137 {
                #expect(last.status == 0, "\(last.output)")
            }
            // The tenth kill can come too late when the last step is quick: the run has ended.
            #expect(kills >= 9, "the run was killed \(kills) times")
            try expectMigrated(stage, state: state, certs: certs)
        }
    }

    @Test func aRunKilledInTheMiddleOfEachLongStepIsResumedToTheSameEndState() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let resume = [
                "migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120",
            ]
            let long: [(kind: String, delay: Double)] = [
                ("fresh-backup", 0.1), ("snapshot-volumes", 0.15), ("install-older", 3), ("restore", 0.1),
                ("upgrade", 1), ("re-backup", 0.1),
            ]
            var killed: [String] = []
            var first = true
            for (kind, delay) in long {
                let outcome = try run(
                    first ? arguments : resume, state: state, label: "mid-\(kind)",
                    killWhen: { steps in steps.contains { $0.kind == kind && $0.state == "running" } }, after: delay)
                first = false
                if outcome.status == 137 { killed.append(kind) }
                // 69: a resumed step met what the kill left and stopped with its error line; the next resume goes on.
                #expect([137, 0, 69].contains(outcome.status), "\(outcome.output)")
                if outcome.status == 69 { #expect(outcome.output.contains("error: step ")) }
            }
            let final = try run(resume, state: state, label: "mid-final", killWhen: { _ in false })
            #expect(final.status == 0, "\(final.output)")
            #expect(killed.count >= 5, "killed in: \(killed)")
            try expectMigrated(stage, state: state, certs: certs)
        }
    }

    /// Posts a fault switch to the lab's cwsim (behind the admin credentials, sent on stdin).
    func fault(_ json: String) throws {
        let environment = ProcessInfo.processInfo.environment
        let url = environment["CWMIGRATE_URL"] ?? ""
        let config = """
            user = "admin:\(environment["CWMIGRATE_PASSWORD"] ?? "")"
            cacert = "\(environment["CWMIGRATE_CACERT"] ?? "")"
            """
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-fsS", "-K", "-", "-X", "POST", "-H", "Content-Type: application/json", "-d", json, url + "/sim/faults"],
            stdin: Data(config.utf8))
        try #require(result.status == 0, "setting a fault: \(result.stderr)")
    }

    @Test func serverFaultsBeforeTheShutdownStopTheRunWithNothingChangedAndResumeCompletesIt() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let resume = [
                "migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120",
            ]

            // Connectware answers 500 when the run's prechecks first ask for its status: it stops before step 1.
            try fault("{\"failNext\": 1}")
            let failed = try cwmigrate(arguments, state: state)
            #expect(failed.status == 69)
            #expect(failed.stderr.hasPrefix("error: run "))
            #expect(
                failed.stderr.contains(
                    " stopped before its first destructive step: connectware api: Connectware failed (HTTP 500)"))
            #expect(steps(state).allSatisfy { $0.state == "pending" })
            #expect(failed.stderr.contains("hint: nothing of the installation was changed"))
            #expect(try check() == stage.startCheck)
            #expect(try labVersion().allRunning)

            // The download is cut half-way and the next answer stalls: the step tries again and the run goes on.
            try fault("{\"cutDownloadAfterBytes\": 1000, \"stallSeconds\": 2}")
            let survived = try cwmigrate(resume, state: state)
            #expect(survived.status == 0, "\(survived.stdout)\n\(survived.stderr)")
            let fresh = try #require(
                (try report(state)["artifacts"] as? [[String: Any]])?.first { $0["kind"] as? String == "fresh-backup" })
            #expect(FileManager.default.fileExists(atPath: fresh["path"] as? String ?? "/nonexistent"))
            try expectMigrated(stage, state: state, certs: certs)
        }
    }

    @Test func aRestartOfTheAPIContainerDuringTheBackupIsSurvivedOrStopsTheRunBeforeTheShutdown() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let background = try Background(
                arguments, environment: environment(state: state),
                output: scratch.appendingPathComponent("restart-api.log"))
            while background.poll() == nil && !steps(state).contains(where: { $0.kind == "fresh-backup" }) {
                usleep(5_000)
            }
            try TestSupport.shell("docker restart -t 5 connectware_system-control-server_1 >/dev/null")
            var status: Int32?
            let deadline = Date().addingTimeInterval(300)
            while status == nil && Date() < deadline {
                status = background.poll()
                usleep(50_000)
            }
            let first = status ?? background.killHard()
            if first != 0 {
                #expect(first == 69, "\(background.text)")
                #expect(steps(state).first { $0.kind == "shutdown" }?.state == "pending")
                #expect(try check() == stage.startCheck)
                let resumed = try cwmigrate(
                    ["migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers"], state: state)
                #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
            }
            try expectMigrated(stage, state: state, certs: certs)
        }
    }

    @Test(arguments: ["shutdown", "remove-volumes", "install-older", "restore", "upgrade"])
    func aRunStoppedAfterADestructiveStepIsRolledBackToItsStartingData(_ kind: String) async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let stopped = try run(
                arguments, state: state, label: "rollback-\(kind)",
                killWhen: { steps in steps.contains { $0.kind == kind && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"], state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(rolled.stdout.contains("rolled back: Connectware 1.8.0 runs with the data the run found"))
            #expect(try check() == stage.startCheck)
            let found = try labVersion()
            #expect(found.version == "1.8.0" && found.allRunning)
            #expect(try certsDigest() == certs)
            #expect(try report(state)["outcome"] as? String == "rolled-back")
            try expectNoKeepTags()
            let again = try cwmigrate(["rollback", "--yes"], state: state)
            #expect(again.status == 66 || again.status == 65, "\(again.stderr)")
        }
    }

    /// What an install may do beyond the plan's volumes, done by hand at the boundary after
    /// install-older: a file in `certs`, and a new volume of the project with a file in it.
    @Test func aRollbackPutsBackAVolumeTheInstallChangedAndRemovesOneItMade() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let stopped = try run(
                arguments, state: state, label: "rollback-third-volume",
                killWhen: { steps in steps.contains { $0.kind == "install-older" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            try TestSupport.shell(
                """
                mp="$(docker volume inspect connectware_certs --format '{{.Mountpoint}}')"
                printf 'written by the install\\n' > "$mp/install-marker.txt"
                docker volume create --label com.docker.compose.project=connectware \
                  --label com.docker.compose.volume=brokerData connectware_brokerData >/dev/null
                mp="$(docker volume inspect connectware_brokerData --format '{{.Mountpoint}}')"
                printf 'broker state\\n' > "$mp/broker.db"
                """)
            #expect(try certsDigest() != certs)
            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"], state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(rolled.stdout.contains("restored connectware_certs from"), "\(rolled.stdout)")
            #expect(try certsDigest() == certs)
            let volumes = try TestSupport.shell("docker volume ls --format '{{.Name}}'").stdout
            #expect(!volumes.split(separator: "\n").contains("connectware_brokerData"), "\(volumes)")
            #expect(try check() == stage.startCheck)
            let found = try labVersion()
            #expect(found.version == "1.8.0" && found.allRunning)
            // What the volume the install made held is kept beside the run's files, not lost.
            let artifacts = try FileManager.default.contentsOfDirectory(atPath: state + "/artifacts")
            let kept = try artifacts.flatMap { run in
                try FileManager.default.contentsOfDirectory(atPath: state + "/artifacts/" + run)
            }
            #expect(kept.contains("rollback-1-made-connectware_brokerData.tar.zst"), "\(kept)")
            #expect(try report(state)["outcome"] as? String == "rolled-back")
        }
    }
}
