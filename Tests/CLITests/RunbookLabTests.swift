import Foundation
import TestSupport
import Testing

/// What the Docker lab's environment gives (scripts/test exports it from `scripts/lab up`).
private struct Lab {
    let directory: String
    let environment: [String: String]
    var projectDirectory: String { directory + "/connectware" }

    static func current() throws -> Lab {
        let env = ProcessInfo.processInfo.environment
        let names = ["CWMIGRATE_LAB_DIR", "DOCKER_HOST", "CWMIGRATE_URL", "CWMIGRATE_PASSWORD", "CWMIGRATE_CACERT"]
        guard names.allSatisfy({ !(env[$0] ?? "").isEmpty }), let directory = env["CWMIGRATE_LAB_DIR"],
            env["DOCKER_HOST"]?.hasPrefix("unix://" + directory) == true
        else { throw RunbookLabRequired() }
        return Lab(directory: directory, environment: env.filter { names.contains($0.key) })
    }

    /// Runs `scripts/lab ARGS`; a failure ends the test with the lab's own message.
    @discardableResult
    func lab(_ arguments: [String]) throws -> String {
        let result = try TestSupport.run(
            TestSupport.packageRoot.appendingPathComponent("scripts/lab"), arguments,
            environment: ["CWMIGRATE_LAB_DIR": directory])
        guard result.status == 0 else {
            throw LabCommandFailed(command: "scripts/lab " + arguments.joined(separator: " "), output: result.stderr)
        }
        return result.stdout
    }

    /// The checksum lines of the lab's database tables (`scripts/lab check`).
    func tableChecksums() throws -> [String] {
        try lab(["check"]).split(separator: "\n").filter { $0.hasPrefix("table ") }.map(String.init)
    }

    func cwmigrate(_ arguments: [String], in directory: URL? = nil) throws -> ProgramResult {
        let state = directory?.appendingPathComponent("xdg-state").path ?? NSTemporaryDirectory()
        return try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments, environment: ["XDG_STATE_HOME": state],
            currentDirectory: directory)
    }

    /// Adds a row the backup does not have, so only a real restore brings the checksums back.
    func changeDataAfterTheBackup() throws {
        let env = try String(contentsOfFile: projectDirectory + "/.env", encoding: .utf8)
        let port =
            env.split(separator: "\n").last { $0.hasPrefix("CYBUS_LAB_POSTGRES_PORT=") }
            .map { String($0.dropFirst("CYBUS_LAB_POSTGRES_PORT=".count)) } ?? ""
        try TestSupport.shell(
            "psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p '\(port)' -U cybus-admin -d cybus_connectware "
                + "-c \"INSERT INTO roles (name) VALUES ('added-after-the-backup-\(UUID().uuidString.prefix(6))')\"")
    }
}

private struct RunbookLabRequired: Error, CustomStringConvertible {
    var description: String {
        "this test needs the Docker lab (CWMIGRATE_LAB_DIR, DOCKER_HOST, CWMIGRATE_URL, CWMIGRATE_PASSWORD, "
            + "CWMIGRATE_CACERT): run it through scripts/test, or export the lines `scripts/lab up` prints"
    }
}

private struct LabCommandFailed: Error, CustomStringConvertible {
    let command: String
    let output: String
    var description: String { "\(command) failed: \(output)" }
}

/// The lab's barrier, as an operator's compat file: 1.8.0 refuses 1.7.3 backups, 1.7.3 restores them.
private let labCompat = """
    schema: 1
    barriers:
      - since: 1.8.0
        refusesBackupsBefore: 1.7.4
        lastRestoringVersion: 1.7.3
    """

/// The ```sh blocks of a Markdown runbook, concatenated in order.
private func runbookCommands(_ markdown: String) -> [String] {
    var lines: [String] = []
    var inside = false
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if !inside, line == "```sh" {
            inside = true
        } else if inside, line == "```" {
            inside = false
        } else if inside {
            lines.append(line)
        }
    }
    return lines
}

@Suite("Runbooks against the Docker lab", .serialized)
struct RunbookLabTests {
    @Test func theComposeRunbooksCommandsRunInOrderBringTheLabToTheBackupsData() async throws {
        let lab = try Lab.current()
        let work = try TestSupport.temporaryDirectory("runbook-lab")
        defer { try? FileManager.default.removeItem(at: work) }
        try await TestSupport.holdingLabLock(lab.directory) {
            var finished = false
            defer {
                // Whatever happened, leave the lab at 1.8.0 and running for the next test.
                if !finished {
                    _ = try? lab.lab(["install", "1.8.0", "-s", "-S"])
                    _ = try? lab.lab(["wait"])
                }
            }
            // A 1.7.3 backup of seeded data, the checksums at backup time, then the lab back at 1.8.0.
            try lab.lab(["install", "1.7.3", "-s", "-S"])
            try lab.lab(["wait"])
            try lab.lab(["seed"])
            let backup = work.appendingPathComponent("connectware-1.7.3.tgz")
            let made = try lab.cwmigrate(["backup", "--output", backup.path], in: work)
            #expect(made.status == 0, "\(made.stderr)")
            let atBackup = try lab.tableChecksums()
            try lab.lab(["install", "1.8.0", "-s", "-S"])
            try lab.lab(["wait"])
            try lab.changeDataAfterTheBackup()
            #expect(try lab.tableChecksums() != atBackup)

            let compat = work.appendingPathComponent("lab-compat.yml")
            try labCompat.write(to: compat, atomically: true, encoding: .utf8)
            let snapshots = work.appendingPathComponent("snapshots")
            let runbook = try lab.cwmigrate(
                [
                    "runbook", "--backup", backup.path, "--running", "1.8.0", "--compat", compat.path,
                    "--project", "connectware", "--directory", lab.projectDirectory, "--installer-dir",
                    lab.directory + "/installers", "--snapshot-dir", snapshots.path,
                ], in: work)
            #expect(runbook.status == 0, "\(runbook.stderr)")
            #expect(runbook.stdout.contains("- **Decision:** downgrade-required"))
            let commands = runbookCommands(runbook.stdout)
            #expect(commands.contains("docker volume rm connectware_postgresql"))
            #expect(!commands.joined().contains("<"), "no placeholder left in a runbook for the lab")

            // Containers by label, the compose command the host has, no image pulled.
            #expect(!commands.contains { $0.contains("busybox") || $0.contains("admin-web-app-1") })
            #expect(!commands.contains { $0.hasPrefix("docker compose") || $0.contains("&& docker compose") })
            let imagesBefore = try TestSupport.shell("docker images --format '{{.Repository}}:{{.Tag}}' | sort").stdout
            let bin = TestSupport.product("cwmigrate").deletingLastPathComponent().path
            // The script stands in for the person: it types the commands in order, stops at the
            // first failure, and answers restore's confirmation with yes. The lab has Compose v1
            // only (docker-compose 1.29, no `docker compose`): the commands find and use it.
            let script = """
                set -euo pipefail
                export PATH='\(bin)':"$PATH"
                cwmigrate() {
                  if [ "$1" = restore ]; then shift; command cwmigrate restore --yes "$@"; else command cwmigrate "$@"; fi
                }
                set -x

                """ + commands.joined(separator: "\n") + "\n"
            let scriptFile = work.appendingPathComponent("runbook.sh")
            try script.write(to: scriptFile, atomically: true, encoding: .utf8)
            let ran = try TestSupport.run(
                URL(fileURLWithPath: "/usr/bin/timeout"), ["-s", "KILL", "900", "/bin/bash", scriptFile.path],
                environment: ["XDG_STATE_HOME": work.appendingPathComponent("xdg-state").path], currentDirectory: work)
            #expect(ran.status == 0, "the runbook's commands failed:\n\(ran.stderr.suffix(3000))")
            finished = ran.status == 0
            #expect(ran.stderr.contains("docker-compose -p connectware up -d"), "Compose v1 ran the project")
            let imagesAfter = try TestSupport.shell("docker images --format '{{.Repository}}:{{.Tag}}' | sort").stdout
            let new = Set(imagesAfter.split(separator: "\n")).subtracting(imagesBefore.split(separator: "\n"))
            #expect(new.allSatisfy { $0.contains("/cybus/") }, "only the installers brought images: \(new)")

            #expect(try lab.tableChecksums() == atBackup, "the data is the backup's again")
            let after = try lab.cwmigrate(
                ["inspect", snapshots.appendingPathComponent("connectware-after-migration-1.8.0.tgz").path], in: work)
            #expect(after.status == 0)
            #expect(after.stdout.contains("1.8.0"))
            let copies = try TestSupport.shell(
                "tar -tzf connectware_service-manager.tgz | grep -c . ; tar -tzf connectware_postgresql.tgz | grep -c PG_VERSION",
                in: snapshots)
            #expect(copies.stdout.split(separator: "\n").count == 2)
            let images = try TestSupport.shell(
                "docker ps --filter label=io.cybus.connectware=core --format '{{.Image}}' | sed 's/.*://' | sort -u")
            #expect(images.stdout == "1.8.0\n", "the lab runs 1.8.0 again")
        }
    }

    @Test func theFleetPlaybookPreChecksTheLabHostAndStopsThere() async throws {
        let lab = try Lab.current()
        let work = try TestSupport.temporaryDirectory("runbook-ansible")
        defer { try? FileManager.default.removeItem(at: work) }
        try await TestSupport.holdingLabLock(lab.directory) {
            let backup = work.appendingPathComponent("connectware-lab.tgz")
            #expect(try lab.cwmigrate(["backup", "--output", backup.path], in: work).status == 0)

            // Without --running, the version comes from Connectware itself.
            let read = try lab.cwmigrate(["runbook", "--backup", backup.path], in: work)
            #expect(read.status == 0, "\(read.stderr)")
            #expect(read.stdout.contains("- **Running version:** 1.8.0\n"))
            #expect(read.stdout.contains("- **Instance:** \(lab.environment["CWMIGRATE_URL"] ?? "?")"))
            #expect(read.stderr.contains("note: running version 1.8.0 taken from the id of Connectware's last backup"))

            let result = try runFleetPlaybook(lab, backup: backup, work: work, arguments: ["--tags", "precheck"])
            #expect(result.status == 0, "\(result.stdout.suffix(3000))")
            #expect(result.stdout.contains("pass  docker "))
            #expect(result.stdout.contains("pass  connectware api "))
            #expect(result.stdout.range(of: #"All \d+ checks passed\."#, options: .regularExpression) != nil)
            #expect(result.stdout.contains("pre-check passed on localhost"))
            #expect(result.stdout.contains("localhost: pre-check passed, migration not run"))
            #expect(!result.stdout.contains(lab.environment["CWMIGRATE_PASSWORD"] ?? "?"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("state/runs").path))
        }
    }

    @Test func theFleetPlaybookRefusesAHostWhereTheReviewedPlanDoesNotHold() async throws {
        // Issue 15, 8: each host runs the reviewed plan, or nothing.
        let lab = try Lab.current()
        let work = try TestSupport.temporaryDirectory("runbook-ansible")
        defer { try? FileManager.default.removeItem(at: work) }
        try await TestSupport.holdingLabLock(lab.directory) {
            let backup = work.appendingPathComponent("connectware-lab.tgz")
            #expect(try lab.cwmigrate(["backup", "--output", backup.path], in: work).status == 0)
            // Reviewed for a host running 1.7.3; the lab host runs 1.8.0.
            let result = try runFleetPlaybook(lab, backup: backup, work: work, arguments: [], running: "1.7.3")
            #expect(result.status != 0)
            #expect(result.stdout.contains("Connectware 1.8.0 runs here, the plan was made for 1.7.3"))
            #expect(result.stdout.contains("pre-check failed on localhost"))
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("state/runs").path))
        }
    }

    @Test("The fleet playbook migrates the lab host and fetches its report")
    func theFleetPlaybookMigratesTheLabHostAndFetchesItsReport() async throws {
        let lab = try Lab.current()
        let work = try TestSupport.temporaryDirectory("runbook-ansible")
        defer { try? FileManager.default.removeItem(at: work) }
        try await TestSupport.holdingLabLock(lab.directory) {
            try lab.lab(["seed"])
            let backup = work.appendingPathComponent("connectware-lab.tgz")
            #expect(try lab.cwmigrate(["backup", "--output", backup.path], in: work).status == 0)
            let atBackup = try lab.tableChecksums()
            try lab.changeDataAfterTheBackup()

            let result = try runFleetPlaybook(lab, backup: backup, work: work, arguments: [])
            #expect(result.status == 0, "\(result.stdout.suffix(3000))")
            #expect(result.stdout.contains("migrated localhost"))
            #expect(result.stdout.contains("localhost: pre-check passed, migration succeeded"))
            #expect(try lab.tableChecksums() == atBackup)
            let fetched = try FileManager.default.contentsOfDirectory(
                atPath: work.appendingPathComponent("fleet/reports/localhost").path)
            #expect(fetched.contains { $0.hasSuffix(".report.md") })
            #expect(fetched.contains { $0.hasSuffix(".report.json") })
        }
    }
}

/// Writes the fleet playbook for `backup`, an inventory naming this machine (connection local)
/// with the lab's address, and runs ansible-playbook; the password reaches it only through
/// the environment the test runs in.
private func runFleetPlaybook(
    _ lab: Lab, backup: URL, work: URL, arguments: [String], running: String = "1.8.0"
) throws -> ProgramResult {
    let venv = ProcessInfo.processInfo.environment["CWMIGRATE_ANSIBLE_VENV"] ?? "/var/tmp/cwmigrate-venv"
    let ansible = URL(fileURLWithPath: venv + "/bin/ansible-playbook")
    guard FileManager.default.isExecutableFile(atPath: ansible.path) else {
        throw LabCommandFailed(command: ansible.path, output: "missing: run scripts/setup")
    }
    let fleet = work.appendingPathComponent("fleet")
    let made = try lab.cwmigrate(
        [
            "runbook", "--backup", backup.path, "--running", running, "--format", "ansible", "--output", fleet.path,
            "--installer-dir", lab.directory + "/installers",
        ], in: work)
    guard made.status == 0 else { throw LabCommandFailed(command: "cwmigrate runbook", output: made.stderr) }
    let env = lab.environment
    let inventory = """
        [connectware]
        localhost ansible_connection=local ansible_python_interpreter=\(venv)/bin/python

        [connectware:vars]
        cwmigrate_url=\(env["CWMIGRATE_URL"] ?? "")
        cwmigrate_cacert=\(env["CWMIGRATE_CACERT"] ?? "")
        cwmigrate_docker_host=\(env["DOCKER_HOST"] ?? "")
        cwmigrate_state_dir=\(work.path)/state
        cwmigrate_work_dir=\(work.path)/host

        """
    let inventoryFile = fleet.appendingPathComponent("inventory.ini")
    try inventory.write(to: inventoryFile, atomically: true, encoding: .utf8)
    return try TestSupport.run(
        URL(fileURLWithPath: "/usr/bin/timeout"),
        ["-s", "KILL", "900", ansible.path, "-i", inventoryFile.path, fleet.appendingPathComponent("site.yml").path]
            + arguments,
        environment: [
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": work.path + "/ansible-local",
            "ANSIBLE_REMOTE_TEMP": work.path + "/ansible-remote", "ANSIBLE_HOST_KEY_CHECKING": "False",
        ], currentDirectory: work)
}
