import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A run's state as the operator meets it: what can no longer be resumed, what belongs to
/// another host, what blocks a new run, and the prechecks a real run makes. These only look
/// at the lab; nothing here changes it.
extension MigrateCLITests {
    /// Adds `fields` to the journal `writeJournal` wrote.
    func amendJournal(_ id: String, _ fields: [String: Any]) throws {
        let path = stateDir + "/runs/\(id).json"
        var journal = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        for (key, value) in fields { journal[key] = value }
        try JSONSerialization.data(withJSONObject: journal).write(to: URL(fileURLWithPath: path))
    }

    func journalObject(_ id: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: stateDir + "/runs/\(id).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aRunWhoseRollbackBeganIsNeverResumedAndSaysWhatIsLeft() throws {
        let id = "20261126T225901Z-3fa9c1"
        try writeJournal(id: id)
        try amendJournal(
            id,
            [
                "rollback": [
                    "startedAt": "2026-11-26T23:02:00.000Z", "endedAt": "2026-11-26T23:03:00.000Z", "attempts": 1,
                    "actions": ["stopped and removed the core containers of connectware"], "succeeded": false,
                    "message": "the rollback of run \(id) did not finish: installing 1.8.0 failed",
                ]
            ])
        let before = try Data(contentsOf: URL(fileURLWithPath: stateDir + "/runs/\(id).json"))
        let result = try cwmigrate(
            ["migrate", "--resume", id, "--state-dir", stateDir, "--yes"],
            environment: ["DOCKER_HOST": "unix:///nonexistent.sock", "CWMIGRATE_URL": "https://127.0.0.1:9"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(
            lines(result.stderr).first
                == "error: run \(id) cannot be resumed: its rollback began at 2026-11-26T23:02:00.000Z and failed")
        #expect(
            result.stderr.contains(
                "hint: roll it back (again) with `cwmigrate rollback \(id)`, or end it with `cwmigrate runs abandon \(id)`"
            ))
        #expect(try Data(contentsOf: URL(fileURLWithPath: stateDir + "/runs/\(id).json")) == before)
    }

    @Test func aRunWhoseRollbackBeganIsNotResumedAsTheLastRunEither() async throws {
        let lab = try lab()
        let id = "20261126T225901Z-3fa9c1"
        try writeJournal(id: id, project: lab.project, directory: lab.projectDirectory)
        try amendJournal(id, ["rollback": ["startedAt": "2026-11-26T23:02:00.000Z", "attempts": 1, "actions": []]])
        try await exclusively(lab) {
            let before = try labFingerprint()
            let result = try cwmigrate(["migrate", "--resume", "last", "--state-dir", stateDir, "--yes"])
            #expect(result.status == 65, "\(result.stderr)")
            #expect(
                lines(result.stderr).first
                    == "error: run \(id) cannot be resumed: its rollback began at 2026-11-26T23:02:00.000Z and was interrupted"
            )
            #expect(try labFingerprint() == before)
        }
    }

    @Test func aRunThatBeganOnAnotherHostIsNeitherResumedNorRolledBackHere() async throws {
        let lab = try lab()
        let id = "20261126T225901Z-3fa9c1"
        try writeJournal(id: id, project: lab.project, directory: lab.projectDirectory)
        try amendJournal(id, ["host": ["hostName": "other-host", "dockerEngineID": "OTHER:ENGINE:ID"]])
        try await exclusively(lab) {
            let before = try labFingerprint()
            let resumed = try cwmigrate(["migrate", "--resume", id, "--state-dir", stateDir, "--yes"])
            #expect(resumed.status == 65, "\(resumed.stderr)")
            #expect(
                lines(resumed.stderr).first?.hasPrefix(
                    "error: run \(id) began on host other-host, Docker Engine OTHER:ENGINE:ID, not on this machine (host "
                )
                    == true)
            #expect(resumed.stderr.contains("hint: carry the run on where it began (other-host)"))
            let rolled = try cwmigrate(["rollback", id, "--state-dir", stateDir, "--yes"])
            #expect(rolled.status == 65, "\(rolled.stderr)")
            #expect(lines(rolled.stderr).first?.hasPrefix("error: run \(id) began on host other-host") == true)
            #expect(try labFingerprint() == before)
            #expect(try journalObject(id)["rollback"] == nil)
        }
    }

    @Test func aJournalThatCannotBeReadBlocksANewRunWithItsPath() async throws {
        let lab = try lab()
        let file = try backup()
        try FileManager.default.createDirectory(atPath: stateDir + "/runs", withIntermediateDirectories: true)
        let broken = stateDir + "/runs/20261126T225901Z-0badcf.json"
        try Data("{\"format\": \"cwmigrate-journal/1\", \"id\": ".utf8).write(to: URL(fileURLWithPath: broken))
        try await exclusively(lab) {
            let before = try labFingerprint()
            let result = try cwmigrate([
                "migrate", "--backup", file, "--state-dir", stateDir, "--yes", "--installer-dir",
                lab.directory + "/installers",
            ])
            #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
            #expect(
                lines(result.stderr).first?.hasPrefix("error: \(broken) is not a readable cwmigrate journal") == true)
            #expect(result.stderr.contains("it may be an unfinished run, so no new run starts"))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: stateDir + "/runs") == [
                    "20261126T225901Z-0badcf.json"
                ])
            #expect(try labFingerprint() == before)
        }
    }

    @Test func theLockIsTakenBeforeUnfinishedRunsAreLookedFor() async throws {
        let lab = try lab()
        let file = try backup()
        try writeJournal(id: "20261126T225901Z-3fa9c1", project: lab.project, directory: lab.projectDirectory)
        try await exclusively(lab) {
            let holder = try holdLock(try lockFile(project: lab.project, directory: lab.projectDirectory))
            let result = try cwmigrate(["migrate", "--backup", file, "--state-dir", stateDir, "--yes"])
            stop(holder)
            #expect(result.status == 75)
            #expect(lines(result.stderr).first?.hasPrefix("error: another cwmigrate run holds the lock") == true)
        }
    }

    @Test func aRealRunMakesThePrechecksBeforeItChangesAnythingAndStopsWhenOneFails() async throws {
        let lab = try lab()
        let file = try backup()
        let installers = dir.path + "/installers"
        // Only the older version's installer: the way back (1.8.0) has none.
        try FileManager.default.createDirectory(atPath: installers + "/1.7.3", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: lab.directory + "/installers/1.7.3/connectware-online-installer.sh",
            toPath: installers + "/1.7.3/connectware-online-installer.sh")
        try await exclusively(lab) {
            let before = try labFingerprint()
            let result = try cwmigrate([
                "migrate", "--backup", file, "--state-dir", stateDir, "--yes", "--installer-dir", installers, "--compat",
                TestSupport.exampleCompat, "--accept-example-data",
            ])
            #expect(result.status == 69, "\(result.stdout)\(result.stderr)")
            let out = lines(result.stdout)
            #expect(out.contains("Prechecks before anything is changed:"))
            for name in [
                "installation", "connectware api", "free disk", "state directory", "earlier runs", "bind mounts",
                "volume access", "postgresql data", "volume times", "example data",
            ] {
                #expect(out.contains { $0.hasPrefix("pass  \(name) ") }, "\(name)")
            }
            #expect(
                out.contains {
                    $0.hasPrefix("FAIL  install strategy") && $0.contains("1.8.0 (the version a rollback installs): ")
                })
            let error = lines(result.stderr).first { $0.hasPrefix("error: ") }
            #expect(error?.contains("stopped before its first destructive step: install strategy: ") == true)
            #expect(result.stderr.contains("hint: nothing of the installation was changed"))
            #expect(try labFingerprint() == before)

            let runs = try FileManager.default.contentsOfDirectory(atPath: stateDir + "/runs")
            let id = try #require(runs.first { $0.hasSuffix(".json") && !$0.contains(".report.") })
                .replacingOccurrences(of: ".json", with: "")
            let journal = try journalObject(id)
            #expect(journal["outcome"] as? String == "failed")
            #expect((journal["steps"] as? [[String: Any]] ?? []).allSatisfy { $0["attempts"] as? Int == 0 })
            // The run restores its own copy of the backup, hashed as it was written.
            let backup = try #require(journal["backup"] as? [String: Any])
            let copy = try #require(backup["path"] as? String)
            #expect(copy.hasPrefix(stateDir + "/artifacts/\(id)/"))
            #expect(backup["original"] as? String == file)
            let digest = try TestSupport.shell("sha256sum '\(file)' | cut -d' ' -f1").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(backup["sha256"] as? String == digest)
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: file)))
            let host = try #require(journal["host"] as? [String: Any])
            let hostName = try TestSupport.shell("hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(host["hostName"] as? String == hostName)
            #expect((host["dockerEngineID"] as? String)?.isEmpty == false)
        }
    }
}
