import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `cwmigrate migrate` and `cwmigrate runs` as the operator runs them. The Docker tests use
/// the lab that scripts/test started and fail without it; they only look, never change it.
@Suite("cwmigrate migrate and runs", .serialized)
struct MigrateCLITests {
    let dir: URL
    var stateDir: String { dir.path + "/state" }

    init() throws { dir = try TestSupport.temporaryDirectory("cwmigrate-migrate-cli") }

    struct LabMissingForMigrate: Error, CustomStringConvertible {
        var description: String {
            "this test needs the lab's Docker daemon and Connectware (DOCKER_HOST, CWMIGRATE_LAB_DIR, CWMIGRATE_URL): "
                + "run it through scripts/test, or export the lines `scripts/lab up` prints"
        }
    }

    struct Lab {
        let directory: String
        let project: String
        let projectDirectory: String
    }

    func lab() throws -> Lab {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["DOCKER_HOST"], let directory = environment["CWMIGRATE_LAB_DIR"],
            host.hasPrefix("unix://" + directory), environment["CWMIGRATE_URL"] != nil
        else { throw LabMissingForMigrate() }
        let projectDirectory = environment["CWMIGRATE_LAB_PROJECT_DIR"] ?? directory + "/connectware"
        return Lab(
            directory: directory, project: (projectDirectory as NSString).lastPathComponent,
            projectDirectory: projectDirectory)
    }

    /// One test at a time on the lab, across suites and processes (the lab's test.lock).
    func exclusively<T>(_ lab: Lab, _ body: () throws -> T) throws -> T {
        try TestSupport.holdingLabLock(lab.directory, body)
    }

    /// `exclusively`, off the test runner's cooperative threads (see `TestSupport.offThePool`).
    func exclusively<T>(_ lab: Lab, _ body: () throws -> T) async throws -> T {
        try await TestSupport.holdingLabLock(lab.directory, body)
    }

    func cwmigrate(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
        try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments,
            environment: ["XDG_STATE_HOME": dir.path + "/xdg"].merging(environment) { $1 }, currentDirectory: dir)
    }

    /// A backup shaped like Connectware's, of `version`, packed by GNU tar.
    func backup(version: String = "1.0.73") throws -> String {
        let id = "\(version)_2022-02-16T15:37:19.242Z"
        let name = "connectware-\(version)_2022-02-16T15-37-19.242Z.tgz"
        try TestSupport.shell(
            """
            mkdir -p 'src/\(id)' && printf '{"version":"\(version)","id":"\(id)"}' > 'src/\(id)/metadata.json' \
            && printf 'PGDMP' > 'src/\(id)/cybus_connectware.dump' && tar -C src -czf '\(name)' '\(id)'
            """, in: dir)
        return dir.path + "/" + name
    }

    /// The lock file name cwmigrate uses for a compose installation, computed independently.
    func lockFile(project: String, directory: String) throws -> String {
        let digest = try TestSupport.shell(
            "printf 'docker-compose\\0%s\\0%s' '\(project)' '\(directory)' | sha256sum | cut -c1-12"
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return stateDir + "/locks/docker-compose-\(project)-\(digest).lock"
    }

    /// A journal as a run leaves it, written the way the format reads (the plan from `plan --json`).
    func writeJournal(
        id: String, project: String = "connectware", directory: String = "/opt/connectware",
        outcome: String = "failed", states: [String: String] = ["0": "done", "1": "failed"]
    ) throws {
        let planOutput = try cwmigrate([
            "plan", "--backup-version", "1.0.73", "--running", "1.8.0", "--json", "--compat", TestSupport.exampleCompat,
        ])
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(planOutput.stdout.utf8)) as? [String: Any])
        let steps = try #require(plan["steps"] as? [[String: Any]])
        let journal: [String: Any] = [
            "format": "cwmigrate-journal/1", "id": id, "createdAt": "2026-11-26T22:59:01.000Z",
            "updatedAt": "2026-11-26T23:01:00.000Z",
            "installation": ["kind": "docker-compose", "name": project, "directory": directory],
            "backup": ["path": "/var/backups/b.tgz", "version": "1.0.73"],
            "plan": plan,
            "steps": steps.enumerated().map { position, step in
                [
                    "position": position, "kind": step["id"] ?? "", "state": states["\(position)"] ?? "pending",
                    "attempts": 1,
                ]
            },
            "artifacts": [], "outcome": outcome,
        ]
        try FileManager.default.createDirectory(atPath: stateDir + "/runs", withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: journal).write(
            to: URL(fileURLWithPath: stateDir + "/runs/\(id).json"))
    }

    /// flock(1) holding `path` in another process until the returned process is killed.
    func holdLock(_ path: String) throws -> Process {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["--exclusive", "--no-fork", path, "sleep", "300"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 {
            if try TestSupport.run(URL(fileURLWithPath: "/usr/bin/flock"), ["--nonblock", path, "true"]).status != 0 {
                break
            }
            usleep(50_000)
        }
        return process
    }

    func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    // MARK: - Without Docker

    @Test func migrateWithoutATerminalAndWithoutYesRefusesBeforeTouchingAnything() throws {
        let file = try backup()
        let result = try cwmigrate(
            ["migrate", "--backup", file, "--state-dir", stateDir],
            environment: ["DOCKER_HOST": "unix:///nonexistent.sock", "CWMIGRATE_URL": "https://127.0.0.1:9"])
        #expect(result.status == 64)
        #expect(
            lines(result.stderr).first
                == "error: migrate asks before each step that changes the installation, and stdin is not a terminal")
        #expect(result.stderr.contains("hint: run it on a terminal, or pass --yes to run unattended"))
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: stateDir))
    }

    @Test func migrateWithYesAndNoDockerStopsBeforeARunIsMade() throws {
        let file = try backup()
        let result = try cwmigrate(
            ["migrate", "--backup", file, "--state-dir", stateDir, "--yes"],
            // A password of its own: the test must not depend on one exported by the lab.
            environment: [
                "DOCKER_HOST": "unix:///nonexistent.sock", "CWMIGRATE_URL": "https://127.0.0.1:9",
                "CWMIGRATE_PASSWORD": "unused", "CWMIGRATE_TOKEN": "",
            ])
        #expect(result.status == 69)
        #expect(lines(result.stderr).first?.hasPrefix("error: ") == true)
        #expect(result.stderr.contains("/nonexistent.sock"))
        #expect(!FileManager.default.fileExists(atPath: stateDir + "/runs"))
    }

    @Test func resumeWithoutARunAndWithABadIdAreUsageErrors() throws {
        let bad = try cwmigrate(["migrate", "--resume", "../../etc/passwd", "--state-dir", stateDir, "--yes"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--resume takes a run id"))
        let none = try cwmigrate(["migrate", "--state-dir", stateDir, "--yes"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("give the backup to restore with --backup FILE"))
    }

    @Test func dryRunAndPrecheckOnlyTogetherAreAUsageError() throws {
        let result = try cwmigrate(["migrate", "--backup", try backup(), "--dry-run", "--precheck-only"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("give --dry-run or --precheck-only, not both"))
    }

    @Test func precheckWithoutDockerFailsThatCheckAndSkipsWhatNeedsIt() throws {
        let result = try cwmigrate(
            ["migrate", "--backup", try backup(), "--precheck-only", "--state-dir", stateDir],
            environment: ["DOCKER_HOST": "unix://\(dir.path)/no-docker.sock", "CWMIGRATE_URL": "http://127.0.0.1:9"])
        #expect(result.status == 69)
        let out = lines(result.stdout)
        #expect(out.contains { $0.hasPrefix("pass  backup file") && $0.contains("Connectware 1.0.73") })
        #expect(out.contains { $0.hasPrefix("FAIL  docker") && $0.contains("no-docker.sock") })
        #expect(out.contains { $0.hasPrefix("skip  installation") })
        #expect(out.contains { $0.hasPrefix("FAIL  connectware api") })
        #expect(out.last?.hasSuffix("checks did not pass.") == true)
    }

    @Test func runsOnAStateDirectoryWithoutRunsSaysSoAndCreatesNothing() throws {
        let result = try cwmigrate(["runs", "--state-dir", stateDir])
        #expect(result.status == 0)
        #expect(result.stdout == "No runs in \(stateDir).\n")
        let json = try cwmigrate(["runs", "--json"], environment: ["CWMIGRATE_STATE_DIR": stateDir])
        #expect(json.status == 0)
        #expect(json.stdout == "[]\n")
        #expect(!FileManager.default.fileExists(atPath: stateDir))
    }

    @Test func runsListsEachRunWithItsInstallationDecisionOutcomeAndStep() throws {
        try writeJournal(id: "20261126T225901Z-3fa9c1")
        try writeJournal(id: "20261126T210000Z-000001", outcome: "abandoned", states: ["0": "done"])
        let result = try cwmigrate(["runs", "--state-dir", stateDir])
        #expect(result.status == 0, "\(result.stderr)")
        let out = lines(result.stdout)
        #expect(out.count == 3)
        #expect(out[0].hasPrefix("ID") && out[0].contains("INSTALLATION") && out[0].hasSuffix("STEP"))
        #expect(out[1].hasPrefix("20261126T210000Z-000001") && out[1].contains("abandoned"))
        #expect(out[2].hasPrefix("20261126T225901Z-3fa9c1"))
        #expect(out[2].contains("connectware (/opt/connectware)"))
        #expect(out[2].contains("downgrade-required"))
        #expect(out[2].contains("failed"))
        #expect(out[2].hasSuffix("2/11 shutdown (failed)"))

        let json = try cwmigrate(["runs", "--state-dir", stateDir, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["id"] as? String } == ["20261126T210000Z-000001", "20261126T225901Z-3fa9c1"])
        let step = try #require(rows[1]["currentStep"] as? [String: Any])
        #expect(
            step["position"] as? Int == 2 && step["kind"] as? String == "shutdown"
                && step["state"] as? String == "failed")
        #expect(rows[1]["journal"] as? String == stateDir + "/runs/20261126T225901Z-3fa9c1.json")
    }

    @Test func abandonEndsARunOnceAndSaysWhereItStopped() throws {
        try writeJournal(id: "20261126T225901Z-3fa9c1")
        let result = try cwmigrate(["runs", "abandon", "20261126T225901Z-3fa9c1", "--state-dir", stateDir])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Run 20261126T225901Z-3fa9c1 abandoned"))
        #expect(result.stdout.contains("step 2 shutdown (failed)"))
        let listed = try cwmigrate(["runs", "--state-dir", stateDir])
        #expect(lines(listed.stdout).last?.contains("abandoned") == true)

        let again = try cwmigrate(["runs", "abandon", "20261126T225901Z-3fa9c1", "--state-dir", stateDir])
        #expect(again.status == 65)
        #expect(again.stderr.contains("has ended (abandoned)"))
        let missing = try cwmigrate(["runs", "abandon", "20261126T000000Z-000000", "--state-dir", stateDir])
        #expect(missing.status == 66)
        let bad = try cwmigrate(["runs", "abandon", "../../etc/passwd", "--state-dir", stateDir])
        #expect(bad.status == 64)
    }

    @Test func abandonIsRefusedWhileAnotherProcessHoldsTheInstallationsLock() throws {
        try writeJournal(id: "20261126T225901Z-3fa9c1")
        let holder = try holdLock(try lockFile(project: "connectware", directory: "/opt/connectware"))
        let refused = try cwmigrate(["runs", "abandon", "20261126T225901Z-3fa9c1", "--state-dir", stateDir])
        stop(holder)
        #expect(refused.status == 75)
        #expect(refused.stderr.contains("another cwmigrate run holds the lock of installation connectware"))
        let listed = try cwmigrate(["runs", "--state-dir", stateDir])
        #expect(lines(listed.stdout).last?.contains("abandoned") == false)
        let afterwards = try cwmigrate(["runs", "abandon", "20261126T225901Z-3fa9c1", "--state-dir", stateDir])
        #expect(afterwards.status == 0, "\(afterwards.stderr)")
    }

    // MARK: - Against the lab (looking only)

    /// What the lab looks like from outside: containers and the last backup and restore.
    func labFingerprint() throws -> String {
        let host = try cwmigrate(["host", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(host.stdout.utf8)) as? [String: Any])
        let containers = (object["containers"] as? [[String: Any]] ?? []).map {
            "\($0["name"] ?? "") \($0["id"] ?? "") \($0["state"] ?? "") \($0["image"] ?? "")"
        }
        let volumes = (object["volumes"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "")" }
        let status = try cwmigrate(["status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        return (containers + volumes).sorted().joined(separator: "\n") + "\n" + status.stdout
    }

    @Test func dryRunPlansForTheInstallationDockerShowsAndChangesNothing() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            let before = try labFingerprint()
            let example = ["--compat", TestSupport.exampleCompat]
            let result = try cwmigrate(["migrate", "--backup", file, "--dry-run", "--state-dir", stateDir] + example)
            #expect(result.status == 3, "\(result.stderr)")
            let out = lines(result.stdout)
            #expect(
                out.first?.hasPrefix(
                    "Installation: project \(lab.project) in \(lab.projectDirectory), Connectware 1.8.0")
                    == true)
            #expect(out.contains("Decision: downgrade-required"))
            #expect(out.contains("Restore on: 1.7.3"))
            #expect(result.stdout.contains("docker volume rm \(lab.project)_postgresql"))

            let json = try cwmigrate(
                ["migrate", "--backup", file, "--dry-run", "--json", "--state-dir", stateDir] + example)
            #expect(json.status == 3)
            let plan = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(plan["runningVersion"] as? String == "1.8.0")
            #expect((plan["settings"] as? [String: Any])?["directory"] as? String == lab.projectDirectory)
            #expect(try labFingerprint() == before)
            #expect(!FileManager.default.fileExists(atPath: stateDir))
        }
    }

    @Test func dockerHostOptionOutranksTheEnvironment() async throws {
        let lab = try lab()
        let file = try backup()
        let socket = try #require(ProcessInfo.processInfo.environment["DOCKER_HOST"])
        try await exclusively(lab) {
            let result = try cwmigrate(
                ["migrate", "--backup", file, "--dry-run", "--docker-host", socket, "--compat", TestSupport.exampleCompat],
                environment: ["DOCKER_HOST": "unix://\(dir.path)/no-docker.sock"])
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("Installation: project \(lab.project) "))
        }
        let refused = try cwmigrate(["migrate", "--backup", file, "--dry-run", "--docker-host", "tcp://127.0.0.1:2375"])
        #expect(refused.status == 64)
    }

    @Test func precheckPassesEveryCheckOnTheLabAndChangesNothing() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            let before = try labFingerprint()
            // A downgrade plan (the example barrier): it snapshots volumes, so their checks are listed too.
            let result = try cwmigrate([
                "migrate", "--backup", file, "--precheck-only", "--state-dir", stateDir,
                "--installer-dir", lab.directory + "/installers", "--compat", TestSupport.exampleCompat,
            ])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let out = lines(result.stdout)
            for name in [
                "backup file", "docker", "installation", "plan", "connectware api", "credentials", "install strategy",
                "registry", "free disk", "state directory", "lock", "earlier runs", "bind mounts", "volume access",
                "postgresql data", "volume times", "example data",
            ] {
                #expect(out.contains { $0.hasPrefix("pass  \(name) ") }, "\(name)")
            }
            #expect(out.last == "All 17 checks passed.")
            #expect(try labFingerprint() == before)
            #expect(!FileManager.default.fileExists(atPath: stateDir))
        }
    }

    @Test func exampleDataDoesNotDriveAnUnattendedRunWithoutAnExplicitAcceptance() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            let before = try labFingerprint()
            let arguments = [
                "migrate", "--backup", file, "--precheck-only", "--yes", "--state-dir", stateDir,
                "--installer-dir", lab.directory + "/installers", "--compat", TestSupport.exampleCompat,
            ]
            let refused = try cwmigrate(arguments)
            #expect(refused.status == 69, "\(refused.stdout)\(refused.stderr)")
            #expect(
                lines(refused.stdout).contains {
                    $0.hasPrefix("FAIL  example data ") && $0.contains("unless --accept-example-data says it is meant")
                }, "\(refused.stdout)")
            #expect(lines(refused.stdout).last == "1 of 17 checks did not pass.")
            let accepted = try cwmigrate(arguments + ["--accept-example-data"])
            #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
            #expect(lines(accepted.stdout).contains { $0.hasPrefix("pass  example data ") })
            #expect(try labFingerprint() == before)
        }
    }

    @Test func aSavedPlanIsCarriedOutOnlyWhileTheWorldIsTheOneItWasMadeFor() async throws {
        let lab = try lab()
        let file = try backup()
        let compat = dir.path + "/mine.yml"
        try FileManager.default.copyItem(atPath: TestSupport.exampleCompat, toPath: compat)
        func save(_ name: String, running: String = "1.8.0", backup: String? = nil) throws -> String {
            let path = dir.path + "/" + name
            let made = try cwmigrate([
                "plan", "--backup", backup ?? file, "--running", running, "--compat", compat, "--project", lab.project,
                "--json", "--output", path,
            ])
            #expect(made.stdout.isEmpty, "\(made.stderr)")
            return path
        }
        let plan = try save("plan.json")
        let stale = try save("stale.json", running: "1.7.3")
        try await exclusively(lab) {
            let before = try labFingerprint()
            let dry = try cwmigrate(["migrate", "--plan", plan, "--dry-run", "--state-dir", stateDir])
            #expect(dry.status == 3, "\(dry.stderr)")
            #expect(dry.stdout.contains("Restore on: 1.7.3\n"))
            let precheck = try cwmigrate([
                "migrate", "--plan", plan, "--precheck-only", "--state-dir", stateDir, "--installer-dir",
                lab.directory + "/installers",
            ])
            #expect(lines(precheck.stdout).contains { $0.hasPrefix("pass  plan ") }, "\(precheck.stdout)")

            let otherVersion = try cwmigrate(["migrate", "--plan", stale, "--yes", "--state-dir", stateDir])
            #expect(otherVersion.status == 65)
            #expect(otherVersion.stderr.contains("Connectware 1.8.0 runs here, the plan was made for 1.7.3"))

            try (String(contentsOfFile: compat, encoding: .utf8) + "# edited after the review\n").write(
                toFile: compat, atomically: true, encoding: .utf8)
            let edited = try cwmigrate(["migrate", "--plan", plan, "--yes", "--state-dir", stateDir])
            #expect(edited.status == 65)
            #expect(edited.stderr.contains("error: the saved plan \(plan) is not for this host as it is now"))
            #expect(edited.stderr.contains("the operator's compat files changed"))

            let otherFile = try backup(version: "1.0.74")
            let otherBackup = try cwmigrate(
                ["migrate", "--plan", plan, "--backup", otherFile, "--dry-run", "--state-dir", stateDir])
            #expect(otherBackup.status == 65)
            #expect(otherBackup.stderr.contains("the backup's SHA-256 is"))
            #expect(try labFingerprint() == before)
            #expect(!FileManager.default.fileExists(atPath: stateDir + "/runs"))
        }
    }

    @Test func precheckFailsTheLockCheckWhileAnotherProcessHoldsTheInstallationsLock() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            let holder = try holdLock(try lockFile(project: lab.project, directory: lab.projectDirectory))
            let result = try cwmigrate([
                "migrate", "--backup", file, "--precheck-only", "--state-dir", stateDir, "--json",
                "--installer-dir", lab.directory + "/installers",
            ])
            stop(holder)
            #expect(result.status == 69)
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(report["passed"] as? Bool == false)
            let checks = try #require(report["checks"] as? [[String: Any]])
            let failed = checks.filter { $0["status"] as? String != "pass" }.map { $0["name"] as? String }
            #expect(failed == ["lock"])
        }
    }

    @Test func precheckFailsVolumeTimesWhenAnEntryInAVolumeIsStampedLaterThanNow() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            let mountpoint = try TestSupport.shell(
                "docker volume inspect \(lab.project)_service-manager --format '{{.Mountpoint}}'"
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let future = mountpoint + "/stamped-in-the-future.txt"
            try TestSupport.shell("printf later > '\(future)' && touch -d '+2 hours' '\(future)'")
            defer { unlink(future) }
            let result = try cwmigrate([
                "migrate", "--backup", file, "--precheck-only", "--state-dir", stateDir, "--json",
                "--installer-dir", lab.directory + "/installers", "--compat", TestSupport.exampleCompat,
            ])
            #expect(result.status == 69)
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let checks = try #require(report["checks"] as? [[String: Any]])
            let failed = checks.filter { $0["status"] as? String != "pass" }
            #expect(failed.map { $0["name"] as? String } == ["volume times"])
            let detail = failed.first?["detail"] as? String ?? ""
            #expect(detail.contains("/stamped-in-the-future.txt changed at") && detail.contains("later than now"))
        }
    }

    @Test func precheckCountsTheImagesTheRunMustObtainInTheFreeDiskCheck() async throws {
        let lab = try lab()
        let file = try backup()
        try await exclusively(lab) {
            // The lab's images are named after its registry (127.0.0.1:PORT), as a mirror's are.
            let registry = try #require(
                ProcessInfo.processInfo.environment["CWMIGRATE_LAB_REGISTRY"], "the lab's env lines name its registry")
            let image = registry + "/cybus/postgresql"
            func freeDisk() throws -> String {
                let result = try cwmigrate([
                    "migrate", "--backup", file, "--precheck-only", "--state-dir", stateDir, "--json",
                    "--installer-dir", lab.directory + "/installers", "--compat", TestSupport.exampleCompat,
                ])
                let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                let checks = report?["checks"] as? [[String: Any]] ?? []
                return checks.first { $0["name"] as? String == "free disk" }?["detail"] as? String ?? result.stderr
            }
            // The lab's installer deletes every other version's images: 1.7.3's are pulled by the run.
            // A test before this one may have left the tag (a rollback that started 1.8.0 from saved
            // images prunes nothing): the lab is made so here, not assumed. All lab versions share one
            // image id, so this only untags.
            // Likewise the image's other tags (a rollback to 1.0.91 from saved images leaves
            // them): the image the run finds on the host is then named as 1.8.0's.
            try TestSupport.shell(
                """
                docker images --format '{{.Repository}}:{{.Tag}}' '\(image)' | grep -vx '\(image):1.8.0' \
                  | xargs -r docker rmi >/dev/null
                """)
            let present = try TestSupport.shell("docker image inspect \(image):1.7.3 >/dev/null 2>&1 && echo yes || true")
            try #require(present.stdout.isEmpty, "the lab still holds \(image):1.7.3")
            let missing = try freeDisk()
            #expect(missing.contains("\(image):1.7.3 ("), "\(missing)")
            #expect(missing.contains(", as \(image):1.8.0 here)"), "\(missing)")
            try TestSupport.shell("docker tag \(image):1.8.0 \(image):1.7.3")
            defer { _ = try? TestSupport.shell("docker rmi \(image):1.7.3 >/dev/null") }
            let present173 = try freeDisk()
            #expect(!present173.contains("\(image):1.7.3 ("), "an image on the host needs no room: \(present173)")
        }
    }

    @Test func precheckFailsOnAnUnfinishedRunAndOnRefusedCredentials() async throws {
        let lab = try lab()
        let file = try backup()
        try writeJournal(id: "20261126T225901Z-3fa9c1", project: lab.project, directory: lab.projectDirectory)
        try await exclusively(lab) {
            let result = try cwmigrate(
                [
                    "migrate", "--backup", file, "--precheck-only", "--state-dir", stateDir,
                    "--installer-dir", lab.directory + "/installers",
                ], environment: ["CWMIGRATE_PASSWORD": "not-the-password"])
            #expect(result.status == 69)
            let out = lines(result.stdout)
            #expect(
                out.contains {
                    $0.hasPrefix("FAIL  earlier runs") && $0.contains("run 20261126T225901Z-3fa9c1 is unfinished")
                        && $0.contains("cwmigrate runs abandon 20261126T225901Z-3fa9c1")
                })
            #expect(out.contains { $0.hasPrefix("FAIL  connectware api") && $0.contains("Connectware refused the credentials (HTTP ") })
            #expect(!result.stdout.contains("not-the-password") && !result.stderr.contains("not-the-password"))
        }
    }
}
