import Foundation
import TestSupport
import Testing

/// Connectware's users live in the database the migration replaces: the production admin
/// until the volumes are removed, the initial admin of `.env` on the fresh install of the
/// older version, the backup's after the restore. These runs use the lab of MigrateLabTests.
extension MigrateLabTests {
    /// `CYBUS_INITIAL_ADMIN_USER_PASSWORD` of the lab's `.env` set to `value` (nil: removed)
    /// for the body, and put back afterwards; the installer keeps it for the fresh install.
    func withInitialAdminSetting(_ value: String?, _ body: () throws -> Void) throws {
        let env = lab + "/connectware/.env"
        let original = try String(contentsOfFile: env, encoding: .utf8)
        defer { try? original.write(toFile: env, atomically: true, encoding: .utf8) }
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("CYBUS_INITIAL_ADMIN_USER_PASSWORD=") }
        if let value { lines.insert("CYBUS_INITIAL_ADMIN_USER_PASSWORD=" + value, at: 0) }
        try lines.joined(separator: "\n").write(toFile: env, atomically: true, encoding: .utf8)
        try body()
    }

    /// The HTTP status of the maintenance API's status to admin with `password`, through the ingress.
    func statusCode(password: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let url = environment["CWMIGRATE_URL"] ?? ""
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-", "--cacert",
                environment["CWMIGRATE_CACERT"] ?? "", url + "/api/maintenance/db",
            ], stdin: Data("user = \"admin:\(password)\"\n".utf8))
        return result.stdout
    }

    func runSteps(_ state: String) -> [[String: Any]] { journal(state)?["steps"] as? [[String: Any]] ?? [] }

    @Test func aMigrationMeetsTheInitialAdminOfEnvAfterTheVolumesAndEndsWithTheProductionPasswordWorking() throws {
        try scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let initial = "initial-\(UUID().uuidString.prefix(8))"
            let production = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            try withInitialAdminSetting(Data(initial.utf8).base64EncodedString()) {
                let result = try cwmigrate(
                    migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]),
                    state: state)
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                #expect(result.stdout.contains("credentials"))
                #expect(result.stdout.contains("the initial admin password from CYBUS_INITIAL_ADMIN_USER_PASSWORD in"))
                try expectMigrated(stage, state: state, certs: certs)
                // The users are the backup's again: the production password works, the initial one not.
                #expect(try statusCode(password: production) == "200")
                #expect(try statusCode(password: initial) == "401")
                let everything = try TestSupport.shell("cat '\(state)'/runs/* '\(state)'/runs/*/*.json 2>/dev/null || true")
                    .stdout + result.stdout + result.stderr
                #expect(!everything.contains(initial), "the initial admin password reached the run's files or output")
                #expect(!everything.contains(production), "the production password reached the run's files or output")
            }
        }
    }

    @Test func aRunWhoseInitialPasswordIsMissingOrDoesNotDecodeStopsInThePrechecksWithNothingChanged() throws {
        try scenario { stage in
            let state = try reset(stage)
            for (label, value) in [("missing", nil), ("not Base64", "%%not-base64%%")] as [(String, String?)] {
                try withInitialAdminSetting(value) {
                    let runState = state + "-" + label.replacingOccurrences(of: " ", with: "-")
                    let result = try cwmigrate(
                        migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]),
                        state: runState)
                    #expect(result.status == 69, "\(label): \(result.stdout)\n\(result.stderr)")
                    #expect(result.stdout.contains("credentials"), "\(label)")
                    let expected =
                        value == nil ? "has no CYBUS_INITIAL_ADMIN_USER_PASSWORD" : "CYBUS_INITIAL_ADMIN_USER_PASSWORD in"
                    #expect(result.stderr.contains("error: run ") && result.stderr.contains(expected), "\(label)")
                    #expect(result.stderr.contains("--initial-password-file"), "\(label)")
                    let begun = runSteps(runState).filter { ($0["attempts"] as? Int ?? 0) > 0 }.map {
                        $0["kind"] as? String ?? ""
                    }
                    #expect(begun.allSatisfy { !["shutdown", "remove-volumes", "install-older"].contains($0) }, "\(label): \(begun)")
                    let found = try labVersion()
                    #expect(found.version == "1.8.0" && found.allRunning)
                    #expect(try check() == stage.startCheck)
                }
            }
        }
    }

    /// The journal, the report and `runs` say the run is paused (not failed) at install-older.
    func expectPausedAtInstallOlder(_ state: String) throws {
        let recorded = try #require(journal(state))
        #expect(recorded["outcome"] as? String == "in-progress")
        #expect((recorded["outcomeMessage"] as? String ?? "").hasPrefix("the run is paused at step 5 install-older"))
        let stepStates = steps(state)
        #expect(stepStates.first { $0.kind == "install-older" }?.state == "paused", "\(stepStates)")
        #expect(!stepStates.contains { $0.state == "failed" }, "\(stepStates)")
        let report = try report(state)
        #expect(report["outcome"] as? String == "in-progress")
        let reported = report["steps"] as? [[String: Any]] ?? []
        #expect(reported.first { $0["kind"] as? String == "install-older" }?["state"] as? String == "paused")
        let runs = try cwmigrate(["runs"], state: state)
        #expect(runs.status == 0 && runs.stdout.contains("install-older (paused)"), "\(runs.stdout)")
    }

    /// A run of the old backup with `--initial-password-file` of a wrong password: paused at install-older.
    func pausedAtTheFreshInstall(_ stage: Stage, state: String) throws {
        let wrong = scratch.appendingPathComponent("wrong-initial").path
        try "not-the-initial-one\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let paused = try cwmigrate(
            migrateArguments(
                stage.oldBackup,
                extra: ["--compat", stage.compat, "--no-example-data", "--initial-password-file", wrong]),
            state: state)
        #expect(paused.status == 10, "\(paused.stdout)\n\(paused.stderr)")
        #expect(paused.stdout.contains("install-older PAUSED"), "\(paused.stdout)")
        try expectPausedAtInstallOlder(state)
    }

    @Test func aRunPausedAtTheFreshInstallIsRolledBackWithTheProductionPasswordWorkingAgain() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let initial = "initial-\(UUID().uuidString.prefix(8))"
            try withInitialAdminSetting(Data(initial.utf8).base64EncodedString()) {
                try pausedAtTheFreshInstall(stage, state: state)
                // Connectware knows only the initial admin now; the rollback brings back the
                // snapshots, whose users are the production ones, and logs in as those.
                #expect(try statusCode(password: initial) == "200")
                let rolled = try cwmigrate(
                    ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"],
                    state: state)
                #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
                #expect(try check() == stage.startCheck)
                #expect(try certsDigest() == certs)
                let production = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
                #expect(try statusCode(password: production) == "200")
                #expect(try statusCode(password: initial) == "401")
                #expect(try report(state)["outcome"] as? String == "rolled-back")
            }
        }
    }

    @Test func aRollbackRefusedTheProductionPasswordPausesAndRunAgainWithTheRightOneFinishes() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let stopped = try run(
                arguments, state: state, label: "rollback-refused",
                killWhen: { steps in steps.contains { $0.kind == "shutdown" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            let rollback = ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"]
            let paused = try TestSupport.run(
                TestSupport.product("cwmigrate"), rollback,
                environment: environment(state: state).merging(["CWMIGRATE_PASSWORD": "not-the-production-one"]) { $1 })
            #expect(paused.status == 10, "\(paused.stdout)\n\(paused.stderr)")
            #expect(
                paused.stderr.contains(
                    "is paused: Connectware refused the production admin password (user admin)"), "\(paused.stderr)")
            #expect(paused.stderr.contains("hint: ") && paused.stderr.contains("--password-file FILE"))
            #expect(paused.stderr.contains("then run `cwmigrate rollback "))
            #expect(!(paused.stdout + paused.stderr).contains("not-the-production-one"))
            let record = try #require(journal(state)?["rollback"] as? [String: Any])
            #expect(record["paused"] as? Bool == true && record["succeeded"] == nil, "\(record)")
            #expect((try report(state)["rollback"] as? String ?? "").hasPrefix("paused (1 attempt)"))

            let rolled = try cwmigrate(rollback, state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(try check() == stage.startCheck)
            let production = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            #expect(try statusCode(password: production) == "200")
            #expect(try report(state)["outcome"] as? String == "rolled-back")
        }
    }

    /// Sets admin's password on the running Connectware (`PUT /api/users/admin`, as an admin
    /// with `current`), through the ingress; the passwords go in a curl config on stdin.
    func setAdminPassword(from current: String, to new: String) throws {
        let environment = ProcessInfo.processInfo.environment
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-", "--cacert",
                environment["CWMIGRATE_CACERT"] ?? "", "-X", "PUT", "-H", "Content-Type: application/json",
                (environment["CWMIGRATE_URL"] ?? "") + "/api/users/admin",
            ],
            stdin: Data("user = \"admin:\(current)\"\ndata = \"{\\\"password\\\":\\\"\(new)\\\"}\"\n".utf8))
        guard result.stdout.hasPrefix("2") else {
            throw LabSetupFailed(description: "PUT /api/users/admin answered \(result.stdout): \(result.stderr)")
        }
    }

    @Test func aRollbackAfterTheRestoreOfABackupWithAnOlderPasswordUsesEachStatesCredentialAndEndsWithTodaysWorking()
        async throws
    {
        try await scenario { stage in
            let state = try reset(stage)
            // The backup was made while admin's password was the lab's production one; it has
            // changed since: today's is another.
            let backupPassword = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            let today = "today-\(UUID().uuidString.prefix(8))"
            try setAdminPassword(from: backupPassword, to: today)
            defer { _ = try? setAdminPassword(from: today, to: backupPassword) }
            #expect(try statusCode(password: today) == "200")
            #expect(try statusCode(password: backupPassword) == "401")
            // The data the run finds: the starting rows, admin's password hash today's.
            let found = try check()
            let certs = try certsDigest()
            let backupFile = scratch.appendingPathComponent("backup-password").path
            try (backupPassword + "\n").write(toFile: backupFile, atomically: true, encoding: .utf8)
            let todays = ["CWMIGRATE_PASSWORD": today]
            // Killed once the restore is done: Connectware (1.7.3) knows only the backup's users now.
            let stopped = try run(
                migrateArguments(
                    stage.oldBackup,
                    extra: ["--compat", stage.compat, "--no-example-data", "--backup-password-file", backupFile]),
                state: state, label: "rollback-backup-password",
                killWhen: { steps in steps.contains { $0.kind == "restore" && $0.state == "done" } },
                extraEnvironment: todays)
            #expect(stopped.status == 137, "\(stopped.output)")
            #expect(try statusCode(password: backupPassword) == "200")
            #expect(try statusCode(password: today) == "401")

            let rolled = try TestSupport.run(
                TestSupport.product("cwmigrate"),
                [
                    "rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120",
                    "--backup-password-file", backupFile,
                ],
                environment: environment(state: state).merging(todays) { $1 })
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            // The volumes the run found are back: today's password works, the backup's does not.
            #expect(try check() == found)
            #expect(try certsDigest() == certs)
            #expect(try statusCode(password: today) == "200")
            #expect(try statusCode(password: backupPassword) == "401")
            let running = try labVersion()
            #expect(running.version == "1.8.0" && running.allRunning)
            #expect(try report(state)["outcome"] as? String == "rolled-back")
            let everything = try TestSupport.shell("cat '\(state)'/runs/* '\(state)'/runs/*/*.json 2>/dev/null || true")
                .stdout + stopped.output + rolled.stdout + rolled.stderr
            #expect(!everything.contains(today), "today's password reached the run's files or output")
            #expect(!everything.contains(backupPassword), "the backup's password reached the run's files or output")
        }
    }

    @Test func aWrongInitialPasswordPausesTheRunAtTheFreshInstallAndResumeWithTheRightOneCompletes() throws {
        try scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let initial = "initial-\(UUID().uuidString.prefix(8))"
            let wrong = scratch.appendingPathComponent("wrong-initial").path
            let right = scratch.appendingPathComponent("right-initial").path
            try "not-the-initial-one\n".write(toFile: wrong, atomically: true, encoding: .utf8)
            try (initial + "\n").write(toFile: right, atomically: true, encoding: .utf8)
            try withInitialAdminSetting(Data(initial.utf8).base64EncodedString()) {
                let paused = try cwmigrate(
                    migrateArguments(
                        stage.oldBackup,
                        extra: ["--compat", stage.compat, "--no-example-data", "--initial-password-file", wrong]),
                    state: state)
                #expect(paused.status == 10, "\(paused.stdout)\n\(paused.stderr)")
                #expect(
                    paused.stderr.contains(
                        "error: the run is paused at step 5 install-older: Connectware refused the initial admin password (user admin)"
                    ), "\(paused.stderr)")
                #expect(paused.stderr.contains("hint: ") && paused.stderr.contains("--initial-password-file FILE"))
                #expect(paused.stderr.contains("then carry on with `cwmigrate migrate --resume "))
                #expect(!paused.stderr.contains("rollback"))
                #expect(!(paused.stdout + paused.stderr).contains("not-the-initial-one"))
                try expectPausedAtInstallOlder(state)

                let resumed = try cwmigrate(
                    [
                        "migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers",
                        "--healthy-timeout", "120", "--initial-password-file", right,
                    ], state: state)
                #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
                try expectMigrated(stage, state: state, certs: certs)
                let production = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
                #expect(try statusCode(password: production) == "200")
            }
        }
    }
}
