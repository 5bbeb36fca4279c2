import Foundation
import TestSupport
import Testing

/// One host of a lab fleet (`scripts/lab fleet up`): a Connectware installation with its own
/// dockerd, data, compose project and ports on its own loopback address.
private struct FleetHost {
    let name: String
    let environment: [String: String]
    var directory: String { environment["CWMIGRATE_LAB_DIR"] ?? "" }

    /// Parses a line `hN KEY=VALUE …` of `scripts/lab fleet up`.
    init?(line: Substring) {
        let words = line.split(separator: " ")
        guard let first = words.first, first.hasPrefix("h") else { return nil }
        name = String(first)
        var environment: [String: String] = [:]
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "=") else { continue }
            environment[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        self.environment = environment
    }

    /// Runs `scripts/lab ARGS` on this host; a failure ends the test with the lab's message.
    @discardableResult
    func lab(_ arguments: [String]) throws -> String {
        try fleetLab(arguments, directory: directory)
    }

    /// `scripts/lab check`: one checksum line per table, one for the service-manager files.
    func check() throws -> String { try lab(["check"]) }

    /// What Docker says of the installation: the version its containers run, and each volume
    /// with its creation time (a volume removed and made again has another).
    func dockerState() throws -> (version: String, volumes: String) {
        let docker = "docker -H '\(environment["DOCKER_HOST"] ?? "")'"
        let version = try TestSupport.shell(
            "\(docker) ps --filter label=io.cybus.connectware=core --format '{{.Image}}' | sed 's/.*://' | sort -u")
        let volumes = try TestSupport.shell(
            "\(docker) volume ls -q | sort | xargs -r \(docker) volume inspect -f '{{.Name}} {{.CreatedAt}}'")
        return (version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), volumes.stdout)
    }
}

private struct FleetLabFailed: Error, CustomStringConvertible {
    let description: String
}

@discardableResult
private func fleetLab(_ arguments: [String], directory: String) throws -> String {
    let result = try TestSupport.run(
        TestSupport.packageRoot.appendingPathComponent("scripts/lab"), arguments,
        environment: ["CWMIGRATE_LAB_DIR": directory, "CWSIM_BIN": TestSupport.product("cwsim").path])
    guard result.status == 0 else {
        throw FleetLabFailed(
            description: "scripts/lab \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
    }
    return result.stdout
}

/// The lab's barrier, as an operator's compat file: 1.8.0 refuses backups before it, 1.7.3 restores them.
private let fleetCompat = """
    schema: 1
    barriers:
      - since: 1.8.0
        refusesBackupsBefore: 1.7.4
        lastRestoringVersion: 1.7.3
    """

@Suite("A fleet of three lab installations through the Ansible playbook", .serialized)
struct FleetLabTests {
    @Test("A three-host rollout stops at the host that fails, leaves the next untouched, and a second run finishes it")
    func aThreeHostRolloutStopsAtTheFailureAndASecondRunFinishesIt() throws {
        let env = ProcessInfo.processInfo.environment
        guard let fleetDirectory = env["CWMIGRATE_FLEET_LAB_DIR"], !fleetDirectory.isEmpty else {
            throw FleetLabFailed(
                description: "this test brings up a fleet of its own: set CWMIGRATE_FLEET_LAB_DIR (scripts/test does)")
        }
        let venv = env["CWMIGRATE_ANSIBLE_VENV"] ?? "/var/tmp/cwmigrate-venv"
        let ansible = URL(fileURLWithPath: venv + "/bin/ansible-playbook")
        guard FileManager.default.isExecutableFile(atPath: ansible.path) else {
            throw FleetLabFailed(description: "\(ansible.path) is missing: run scripts/setup")
        }
        let work = try TestSupport.temporaryDirectory("fleet-lab")
        let started = Date()
        var phases: [String] = []
        func phase(_ name: String) { phases.append("\(name) \(Int(Date().timeIntervalSince(started))) s") }
        defer { print("fleet test: " + phases.joined(separator: ", ")) }
        defer {
            _ = try? fleetLab(["fleet", "down"], directory: fleetDirectory)
            try? FileManager.default.removeItem(at: work)
        }

        // Three installations at 1.8.0, brought up in parallel.
        let up = try fleetLab(["fleet", "up", "1.8.0", "1.8.0", "1.8.0"], directory: fleetDirectory)
        phase("up")
        let hosts = up.split(separator: "\n").compactMap(FleetHost.init(line:))
        try #require(hosts.map(\.name) == ["h1", "h2", "h3"], "\(up)")
        for (index, host) in hosts.enumerated() {
            #expect(host.environment["CWMIGRATE_URL"]?.hasPrefix("https://127.0.0.\(index + 2):") == true)
            #expect(host.environment["DOCKER_HOST"] == "unix://\(fleetDirectory)/\(host.name)/docker.sock")
        }
        #expect(Set(hosts.map { $0.environment["CWMIGRATE_PASSWORD"] ?? "" }).count == 3, "a password per host")

        // The backup: made at 1.6.0 on h1 (which then runs 1.8.0 with other data); h2 and h3 hold
        // data of their own. The same backup goes to every host, as in a plant.
        let backup = work.appendingPathComponent("connectware-1.6.0.tgz")
        try hosts[0].lab(["make-backup", "1.6.0", backup.path])
        let atBackup = try String(contentsOf: URL(fileURLWithPath: backup.path + ".check"), encoding: .utf8)
        try hosts[1].lab(["seed"])
        try hosts[2].lab(["seed"])
        var before: [String] = []
        for host in hosts {
            let check = try host.check()
            #expect(check != atBackup, "\(host.name) holds other data than the backup before the rollout")
            before.append(check)
        }
        let h3Before = try hosts[2].dockerState()
        #expect(h3Before.version == "1.8.0")

        // The reviewed plan as a playbook, and an inventory of the three hosts (connection local,
        // each with its own dockerd socket, URL, CA, installers and password in its host_vars).
        let compat = work.appendingPathComponent("lab-compat.yml")
        try fleetCompat.write(to: compat, atomically: true, encoding: .utf8)
        let fleet = work.appendingPathComponent("fleet")
        let made = try TestSupport.run(
            TestSupport.product("cwmigrate"),
            [
                "runbook", "--backup", backup.path, "--running", "1.8.0", "--compat", compat.path, "--format",
                "ansible", "--output", fleet.path,
            ], environment: ["XDG_STATE_HOME": work.appendingPathComponent("xdg-state").path])
        try #require(made.status == 0, "\(made.stderr)")
        var inventory = "[connectware]\n"
        for host in hosts {
            let e = host.environment
            inventory +=
                "\(host.name) ansible_connection=local ansible_python_interpreter=\(venv)/bin/python "
                + "cwmigrate_url=\(e["CWMIGRATE_URL"] ?? "") cwmigrate_cacert=\(e["CWMIGRATE_CACERT"] ?? "") "
                + "cwmigrate_docker_host=\(e["DOCKER_HOST"] ?? "") cwmigrate_installer_dir=\(host.directory)/installers "
                + "cwmigrate_state_dir=\(work.path)/\(host.name)/state cwmigrate_work_dir=\(work.path)/\(host.name)/work\n"
            let vars = fleet.appendingPathComponent("host_vars/\(host.name)")
            try FileManager.default.createDirectory(at: vars, withIntermediateDirectories: true)
            let vault = vars.appendingPathComponent("vault.yml")
            // After the restore the users are the backup's, made on h1 with h1's password.
            let backupPassword = hosts[0].environment["CWMIGRATE_PASSWORD"] ?? ""
            try ("vault_cwmigrate_password: \"\(e["CWMIGRATE_PASSWORD"] ?? "")\"\n"
                + "vault_cwmigrate_backup_password: \"\(backupPassword)\"\n").write(
                to: vault, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: vault.path)
        }
        let inventoryFile = fleet.appendingPathComponent("inventory.ini")
        try inventory.write(to: inventoryFile, atomically: true, encoding: .utf8)
        func playbook() throws -> ProgramResult {
            try TestSupport.run(
                URL(fileURLWithPath: "/usr/bin/timeout"),
                ["-s", "KILL", "900", ansible.path, "-i", inventoryFile.path, fleet.appendingPathComponent("site.yml").path],
                environment: [
                    "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PIPELINING": "1", "ANSIBLE_LOCAL_TEMP": work.path + "/ansible-local",
                    "ANSIBLE_REMOTE_TEMP": work.path + "/ansible-remote", "CWMIGRATE_PASSWORD": "",
                ], currentDirectory: work)
        }
        func reportJSON(_ host: FleetHost) throws -> [String: Any] {
            let dir = fleet.appendingPathComponent("reports/\(host.name)")
            let name = try #require(
                try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasSuffix(".report.json") })
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let fleetPage = fleet.appendingPathComponent("fleet.html")

        // h2 fails mid-run: its Connectware 1.7.3 (the older version the plan installs) answers
        // 409 to the restore, after its volumes were removed.
        try hosts[1].lab(["fault", "--at", "1.7.3", #"{"forceConflict":true}"#])

        phase("backup and playbook written")
        let first = try playbook()
        phase("first rollout")
        let firstOut = first.stdout
        #expect(first.status != 0, "the rollout stopped at h2:\n\(firstOut.suffix(3000))")
        #expect(firstOut.contains("pre-check passed on h1"))
        #expect(firstOut.contains("pre-check passed on h2"))
        #expect(firstOut.contains("pre-check passed on h3"))
        #expect(firstOut.contains("migrated h1"))
        #expect(firstOut.contains("migration failed on h2 (exit 69)"), "\(firstOut.suffix(3000))")
        #expect(firstOut.contains("h1: pre-check passed, migration succeeded, outcome completed, downtime "))
        #expect(firstOut.contains("h2: pre-check passed, migration FAILED (exit 69), outcome failed, downtime not over"))
        #expect(firstOut.contains("h3: pre-check passed, migration not run, no report"))
        #expect(firstOut.contains("the rollout stopped: migration failed on h2"))
        #expect(firstOut.contains("fleet page: \(fleetPage.path)"))
        for host in hosts {
            #expect(!firstOut.contains(host.environment["CWMIGRATE_PASSWORD"] ?? "?"), "no password in the output")
        }
        // h1 holds the backup's data, at 1.8.0; h2 stopped at the older version with its run failed.
        #expect(try hosts[0].check() == atBackup)
        #expect(try hosts[0].dockerState().version == "1.8.0")
        #expect(try reportJSON(hosts[0])["outcome"] as? String == "completed")
        #expect(try reportJSON(hosts[1])["outcome"] as? String == "failed")
        #expect(try hosts[1].dockerState().version == "1.7.3")
        // h3 was not touched: the same data, version, volumes (same creation times), and no run.
        #expect(try hosts[2].check() == before[2])
        let h3After = try hosts[2].dockerState()
        #expect(h3After.version == h3Before.version)
        #expect(h3After.volumes == h3Before.volumes)
        #expect(!FileManager.default.fileExists(atPath: work.path + "/h3/state/runs"))
        // The fleet page names every host, the failure first.
        let page = try String(contentsOf: fleetPage, encoding: .utf8)
        for name in ["h1", "h2", "h3"] { #expect(page.contains(">\(name)<"), "the fleet page names \(name)") }
        if let h1 = page.range(of: ">h1<"), let h2 = page.range(of: ">h2<") {
            #expect(h2.lowerBound < h1.lowerBound, "the failed host comes first")
        }

        // The cause is fixed; the same command carries on where each host stopped.
        try hosts[1].lab(["fault", "reset"])
        let second = try playbook()
        phase("second rollout")
        let secondOut = second.stdout
        #expect(second.status == 0, "\(secondOut.suffix(3000))")
        #expect(secondOut.range(of: #"h1: pre-check not needed \(run [^)]+ completed\), migration already done, outcome completed"#, options: .regularExpression) != nil, "\(secondOut.suffix(3000))")
        #expect(secondOut.range(of: #"h2: pre-check resumes run [^,]+, passed, migration succeeded, outcome completed, downtime \d+[.]\d s"#, options: .regularExpression) != nil)
        #expect(secondOut.range(of: #"h3: pre-check passed, migration succeeded, outcome completed, downtime \d+[.]\d s"#, options: .regularExpression) != nil)
        for host in hosts {
            #expect(try host.check() == atBackup, "\(host.name) holds the backup's data")
            #expect(try host.dockerState().version == "1.8.0", "\(host.name) runs 1.8.0 again")
            #expect(try reportJSON(host)["outcome"] as? String == "completed")
        }
        // h2's run is the one that stopped, carried on: one run on it, not a second one.
        let h2Runs = try FileManager.default.contentsOfDirectory(atPath: work.path + "/h2/state/runs")
        #expect(h2Runs.filter { $0.hasSuffix(".report.json") }.count == 1)
        let finalPage = try String(contentsOf: fleetPage, encoding: .utf8)
        for name in ["h1", "h2", "h3"] { #expect(finalPage.contains(">\(name)<")) }
    }
}
