import Foundation
import TestSupport
import Testing

/// Issue 15, "Decisions an operator can trust": each failure it lists, as a user sees it.
@Suite("decisions an operator can trust")
struct DecisionCLITests {
    /// A state directory of the test's own (the learned compat file lives there).
    let state: URL
    let work: URL

    init() throws {
        state = try TestSupport.temporaryDirectory("cwmigrate-state")
        work = try TestSupport.temporaryDirectory("decision-cli")
    }

    func cwmigrate(_ arguments: [String]) throws -> ProgramResult {
        try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments, environment: ["XDG_STATE_HOME": state.path],
            currentDirectory: work)
    }

    func json(_ result: ProgramResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    func write(_ text: String, to name: String) throws -> String {
        let url = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// A Connectware-shaped backup by GNU tar: metadata first, then a dump of `dumpKiB` random
    /// KiB (so a cut archive still shows its metadata), then `extra` shell commands in its
    /// directory (e.g. a VERSION file).
    func backup(version: String = "1.0.73", dumpKiB: Int = 1, extra: String = "") throws -> String {
        let id = "\(version)_2022-02-16T15:37:19.242Z"
        let name = "connectware-\(version)_2022-02-16T15-37-19.242Z.tgz"
        try TestSupport.shell(
            """
            mkdir -p 'src/\(id)' && printf '{"version":"\(version)","id":"\(id)"}' > 'src/\(id)/metadata.json' \
            && head -c \(dumpKiB * 1024) /dev/urandom > 'src/\(id)/cybus_connectware.dump' \
            && (cd 'src/\(id)' && true \(extra.isEmpty ? "" : "&& " + extra)) \
            && tar -C src -czf '\(name)' '\(id)/metadata.json' '\(id)'
            """, in: work)
        return work.appendingPathComponent(name).path
    }

    // MARK: 1. Illustration data decides no real plan

    @Test func withNoOptionsAnOldBackupIsCompatibilityUnknownNotTheExampleDowngrade() throws {
        let file = try backup()
        let result = try cwmigrate(["plan", "--backup", file, "--running", "1.8.0"])
        #expect(result.status == 4)
        #expect(result.stdout.hasPrefix("Decision: compatibility-unknown\n"))
        #expect(!result.stdout.contains("1.7.3"))
        #expect(!result.stderr.contains("EXAMPLE"))
    }

    @Test func theShippedCompatFileHoldsNoBarrier() throws {
        let shipped = try String(
            contentsOf: TestSupport.packageRoot.appendingPathComponent("playbooks/compat.yml"), encoding: .utf8)
        let data = shipped.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(data.contains("barriers: []"))
        #expect(!data.contains { $0.contains("since:") || $0.contains("example:") })
    }

    // MARK: 2. What the server said wins, and a disagreement is shown with both sources

    @Test func aLearnedRefusalBeatsAnOperatorsFileAndThePlanShowsBothSources() throws {
        let learned = try write(
            """
            schema: 1
            barriers:
              - since: 1.4.3
                refusesBackupsBefore: 1.0.74
                lastRestoringVersion: 1.4.2
                note: "Restore failed: not supported by 1.10.2. The last version that can restore this backup is 1.4.2."
                source: "restore refused by Connectware 1.10.2"
                refusedBy: 1.10.2
                refusedAt: "2026-11-29T10:00:00Z"
            """, to: "learned-compat.yml")
        try FileManager.default.createDirectory(
            at: state.appendingPathComponent("cwmigrate"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(
            atPath: learned, toPath: state.appendingPathComponent("cwmigrate/learned-compat.yml").path)
        let mine = try write(
            "schema: 1\nbarriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n",
            to: "mine.yml")
        let text = try cwmigrate(["plan", "--backup-version", "1.0.73", "--running", "1.10.2", "--compat", mine])
        #expect(text.status == 3, "\(text.stderr)")
        #expect(text.stdout.contains("Restore on: 1.4.2\n"))
        #expect(text.stdout.contains("Disagreements:\n"))
        #expect(text.stdout.contains("\(mine):3 (operator's file) says 1.7.3 is the last version that restores"))
        #expect(text.stdout.contains("Connectware 1.10.2 on 2026-11-29T10:00:00Z"))
        #expect(text.stdout.contains("The plan follows the server's word."))
        #expect(text.stderr.contains("note: the sources of this plan disagree"))

        let object = try json(
            try cwmigrate(["plan", "--backup-version", "1.0.73", "--running", "1.10.2", "--compat", mine, "--json"]))
        #expect(object["restoreVersion"] as? String == "1.4.2")
        let disagreements = try #require(object["disagreements"] as? [[String: Any]])
        #expect(disagreements.count == 1)
        let kept = try #require(disagreements.first?["kept"] as? [String: Any])
        let overruled = try #require(disagreements.first?["overruled"] as? [String: Any])
        #expect((kept["source"] as? [String: Any])?["kind"] as? String == "server")
        #expect((kept["source"] as? [String: Any])?["server"] as? String == "1.10.2")
        #expect((kept["source"] as? [String: Any])?["date"] as? String == "2026-11-29T10:00:00Z")
        #expect((overruled["source"] as? [String: Any])?["kind"] as? String == "operator")
        #expect((overruled["source"] as? [String: Any])?["file"] as? String == mine)
        #expect(disagreements.first?["version"] as? String == "1.7.3")
        let facts = try #require(object["facts"] as? [[String: Any]])
        #expect(facts.contains { ($0["overruled"] as? Bool) == true })
        #expect(facts.allSatisfy { ($0["source"] as? [String: Any])?["text"] is String })
    }

    // MARK: 4 and 7. Upgrade-first plans and the header, for each decision and installation kind

    @Test(arguments: ["docker-compose", "kubernetes"])
    func anUpgradeFirstPlanUpgradesFromTheRunningVersionToTheBackups(installation: String) throws {
        let result = try cwmigrate([
            "plan", "--backup-version", "1.9.0", "--running", "1.8.0", "--installation", installation, "--json",
        ])
        #expect(result.status == 5)
        let steps = try #require(try json(result)["steps"] as? [[String: Any]])
        let upgrade = try #require(steps.first { $0["id"] as? String == "upgrade" })
        #expect(upgrade["title"] as? String == "Upgrade Connectware from 1.8.0 to 1.9.0")
        let lines = (upgrade["commands"] as? [String] ?? []) + (upgrade["verification"] as? [String] ?? [])
        #expect(lines.contains { $0.contains("1.9.0") })
        #expect(!lines.contains { $0.contains(":1.8.0") })
        #expect((upgrade["undo"] as? [String] ?? []).allSatisfy { !$0.contains("1.9.0") })
        if installation == "docker-compose" {
            #expect(lines.contains { $0.hasSuffix("ends in :1.9.0") })
            #expect(upgrade["undo"] as? [String] == ["install 1.8.0 again the same way; the data stays in the volumes"])
        }
    }

    @Test(arguments: [
        // decision, backup version, whether the example barrier is given, the header lines expected
        ("direct-restore", "1.8.0", false, "Restore on: 1.8.0\n", "volumes to remove: none\n"),
        (
            "downgrade-required", "1.0.73", true, "Restore on: 1.7.3\n",
            "volumes to remove: postgresql, service-manager\n"
        ),
        ("upgrade-first", "1.9.0", false, "Restore on: 1.9.0, after upgrading to it\n", "volumes to remove: none\n"),
        (
            "compatibility-unknown", "1.0.73", false,
            "Restore on: 1.8.0, the running version, if it accepts the backup (unknown until it answers)\n",
            "volumes to remove: none\n"
        ),
    ])
    func theHeaderSaysWhereTheBackupIsRestoredAndWhatIsRemoved(
        decision: String, backupVersion: String, example: Bool, restoreOn: String, volumes: String
    ) throws {
        for installation in ["docker-compose", "kubernetes"] {
            var arguments = [
                "plan", "--backup-version", backupVersion, "--running", "1.8.0", "--installation", installation,
            ]
            if example { arguments += ["--compat", TestSupport.exampleCompat] }
            let result = try cwmigrate(arguments)
            #expect(result.stdout.hasPrefix("Decision: \(decision)\n"), "\(installation): \(result.stdout.prefix(200))")
            #expect(result.stdout.contains(restoreOn), "\(installation)")
            #expect(!result.stdout.contains("unknown until the server answers"))
            let kind =
                installation == "kubernetes"
                ? "Installation: kubernetes; " : "Installation: docker-compose (installer); "
            let expectedVolumes =
                installation == "kubernetes" && decision == "downgrade-required"
                ? "volumes to remove: postgresql, service-manager\n" : volumes
            #expect(result.stdout.contains(kind + expectedVolumes), "\(installation): \(result.stdout.prefix(400))")
        }
    }

    // MARK: 5. Decide on the whole archive

    @Test func aTruncatedArchiveIsAnErrorBeforeAnyPlan() throws {
        let file = try backup(dumpKiB: 256)
        try TestSupport.shell("head -c $(( $(stat -c %s '\(file)') / 2 )) '\(file)' > cut.tgz", in: work)
        for command in [["plan", "--running", "1.8.0"], ["runbook", "--running", "1.8.0"]] {
            // No progress line: on a loaded machine the verify may last long enough to print one
            // before the error, which is right, but not what this test is about.
            let result = try cwmigrate(
                command + ["--backup", work.appendingPathComponent("cut.tgz").path, "--progress", "none"])
            #expect(result.status == 65, "\(command[0]): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command[0])")
            #expect(result.stderr.hasPrefix("error: "))
        }
    }

    @Test func quickPlansOnAPartialReadAndSaysSo() throws {
        let file = try backup(dumpKiB: 256)
        try TestSupport.shell("head -c $(( $(stat -c %s '\(file)') / 2 )) '\(file)' > cut.tgz", in: work)
        let cut = work.appendingPathComponent("cut.tgz").path
        let result = try cwmigrate(["plan", "--backup", cut, "--running", "1.8.0", "--quick"])
        #expect(result.status == 4)
        #expect(result.stdout.contains("Backup version: 1.0.73 (read from the archive's metadata only, --quick"))
        #expect(result.stdout.contains("Made on a partial read"))
        #expect(result.stderr.contains("note: the plan was made on a partial read of the backup (--quick)"))
        let object = try json(try cwmigrate(["plan", "--backup", cut, "--running", "1.8.0", "--quick", "--json"]))
        #expect(object["partialRead"] as? Bool == true)
        #expect((object["basis"] as? [String: Any])?["backupSHA256"] is NSNull)
        let runbook = try cwmigrate(["runbook", "--backup", cut, "--running", "1.8.0", "--quick"])
        #expect(runbook.status == 0)
        #expect(runbook.stdout.contains("Made on a partial read."))
    }

    @Test func anArchiveWhoseMetadataAndVersionFileDisagreeIsAnErrorBeforeAnyPlan() throws {
        let file = try backup(extra: "printf '1.8.0\\n' > VERSION")
        let result = try cwmigrate(["plan", "--backup", file, "--running", "1.8.0"])
        #expect(result.status == 65, "\(result.stdout)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains("1.8.0") && result.stderr.contains("1.0.73"))
    }

    // MARK: A saved plan

    @Test func aPlanSavedWithOutputIsTheJSONAndNothingOnStdout() throws {
        let file = try backup()
        let result = try cwmigrate([
            "plan", "--backup", file, "--running", "1.8.0", "--compat", TestSupport.exampleCompat, "--json",
            "--output", "plan.json",
        ])
        #expect(result.status == 3)
        #expect(result.stdout.isEmpty)
        let saved = try Data(contentsOf: work.appendingPathComponent("plan.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
        #expect(object["restoreVersion"] as? String == "1.7.3")
        let basis = try #require(object["basis"] as? [String: Any])
        #expect(basis["backupFile"] as? String == file)
        #expect(try cwmigrate(["plan", "--backup", file, "--running", "1.8.0", "--output", "p.json"]).status == 64)
    }

    @Test func migrateRefusesAFileThatIsNotASavedPlanBeforeLookingAtAnythingElse() throws {
        let notJSON = try write("decision: downgrade-required\n", to: "plan.yml")
        let result = try cwmigrate(["migrate", "--plan", notJSON, "--dry-run"])
        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("error: \(notJSON) is not a plan saved by cwmigrate plan --json: it is not JSON\n"))
        let partial = try write("{\"decision\": \"direct-restore\"}", to: "partial.json")
        let missing = try cwmigrate(["migrate", "--plan", partial, "--dry-run"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("it has no backupVersion"))
        #expect(!missing.stderr.contains("Optional(") && !missing.stderr.contains("CodingKeys"))
        #expect(try cwmigrate(["migrate", "--plan", partial, "--resume", "last"]).status == 64)
    }

    // MARK: 8. The fleet playbook ships the reviewed plan and its exact knowledge

    @Test func theAnsiblePlaybookShipsTheReviewedPlanAndTheCompatFilesItWasMadeFrom() throws {
        let file = try backup()
        let mine = try write(
            "schema: 1\nbarriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.4.2\n",
            to: "mine.yml")
        let result = try cwmigrate([
            "runbook", "--backup", file, "--running", "1.8.0", "--format", "ansible", "--compat", mine,
            "--no-example-data", "--output", "fleet",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let fleet = work.appendingPathComponent("fleet")
        let readme = try String(contentsOf: fleet.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("restore on 1.4.2"))
        let plan = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: fleet.appendingPathComponent("plan.json")))
                as? [String: Any])
        #expect(plan["restoreVersion"] as? String == "1.4.2")
        #expect((plan["basis"] as? [String: Any])?["ignoresExampleData"] as? Bool == true)
        let copy = try String(contentsOf: fleet.appendingPathComponent("compat-1-mine.yml"), encoding: .utf8)
        #expect(copy == (try String(contentsOfFile: mine, encoding: .utf8)))
        let site = try String(contentsOf: fleet.appendingPathComponent("site.yml"), encoding: .utf8)
        #expect(site.contains("'migrate', '--plan', cwm_work_dir + '/plan.json'"))
        #expect(site.contains("- !unsafe \"compat-1-mine.yml\""))
        #expect(site.contains("'--compat=' + cwm_work_dir + '/compat/'"))
        #expect(site.components(separatedBy: "'--plan'").count == 3, "the pre-check and the migration run the plan")
    }
}
