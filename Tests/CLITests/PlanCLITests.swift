import Foundation
import TestSupport
import Testing

/// Runs `cwmigrate plan` with a private state directory, so a learned compat file
/// of the machine's user never changes the outcome.
private func plan(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
    let state = try TestSupport.temporaryDirectory("cwmigrate-state")
    defer { try? FileManager.default.removeItem(at: state) }
    var env = ["XDG_STATE_HOME": state.path]
    for (k, v) in environment { env[k] = v }
    return try TestSupport.run(TestSupport.product("cwmigrate"), ["plan"] + arguments, environment: env)
}

/// A backup shaped like Connectware's: an id directory with a metadata file and a dump,
/// packed by GNU tar under the name operators give it.
private func exampleBackup(version: String = "1.0.73") throws -> (file: URL, directory: URL) {
    let dir = try TestSupport.temporaryDirectory()
    let id = "\(version)_2022-02-16T15:37:19.242Z"
    let name = "connectware-\(version)_2022-02-16T15-37-19.242Z.tgz"
    try TestSupport.shell(
        """
        mkdir -p 'src/\(id)' && printf '{"version":"\(version)","id":"\(id)"}' > 'src/\(id)/metadata.json' \
        && printf 'PGDMP' > 'src/\(id)/cybus_connectware.dump' && tar -C src -czf '\(name)' '\(id)'
        """, in: dir)
    return (dir.appendingPathComponent(name), dir)
}

private let exampleCompat = TestSupport.exampleCompat

private func write(_ text: String, to name: String, in dir: URL) throws -> URL {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

@Test func aBackupBehindTheExampleBarrierGivenWithCompatExitsThreeWithTheFullDowngradePlan() throws {
    let backup = try exampleBackup()
    defer { try? FileManager.default.removeItem(at: backup.directory) }
    let result = try plan(["--backup", backup.file.path, "--running", "1.8.0", "--compat", exampleCompat])
    #expect(result.status == 3)
    #expect(result.stdout.hasPrefix("Decision: downgrade-required\n"))
    #expect(result.stdout.contains("Restore on: 1.7.3"))
    #expect(result.stdout.contains("     docker volume rm connectware_postgresql\n"))
    #expect(result.stdout.contains("[DESTROYS DATA]"))
    #expect(result.stderr.contains("note: an EXAMPLE barrier"))
}

@Test func aBackupOfTheRunningVersionExitsZero() throws {
    let result = try plan(["--backup-version", "1.8.0", "--running", "1.8.0"])
    #expect(result.status == 0)
    #expect(result.stdout.hasPrefix("Decision: direct-restore\n"))
    #expect(!result.stderr.contains("EXAMPLE"))
}

@Test func nothingKnownExitsFour() throws {
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0"])
    #expect(result.status == 4)
    #expect(result.stdout.hasPrefix("Decision: compatibility-unknown\n"))
    #expect(result.stdout.contains("--refusal"))
}

@Test func aProjectOrDirectoryTheCommandsCannotCarryIsAUsageError() throws {
    let project = try plan(["--backup-version", "1.7.3", "--running", "1.8.0", "--project", "Plant 7"])
    #expect(project.status == 64)
    #expect(project.stderr.hasPrefix("error: --project 'Plant 7': a Compose project name has lowercase letters"))
    #expect(project.stdout.isEmpty)
    let directory = try plan(["--backup-version", "1.7.3", "--running", "1.8.0", "--directory", "/opt/cw;reboot"])
    #expect(directory.status == 64)
    #expect(
        directory.stderr.hasPrefix("error: --directory '/opt/cw;reboot': the commands use the directory unquoted, and it holds `;`\n"))
    let fine = try plan(["--backup-version", "1.7.3", "--running", "1.8.0", "--project", "plant7", "--directory", "/opt/cw"])
    #expect(fine.status == 4)
    #expect(fine.stdout.contains("cd /opt/cw && "))
}

@Test func aRefusalNamingNoVersionIsAUsageError() throws {
    let result = try plan(["--backup-version", "1.2.0", "--running", "1.8.0", "--refusal", "incompatible database schema"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("error: --refusal: the message names no version that restores the backup"))
    #expect(result.stdout.isEmpty)
}

@Test func aFailedRestoreGivenAsARefusalIsAUsageErrorAndNoDowngrade() throws {
    // Issue 15, 3: a restore that failed is not a refusal; it must not become a downgrade.
    let result = try plan([
        "--backup-version", "1.0.73", "--running", "1.8.0", "--compat", exampleCompat,
        "--refusal", "Error: restore failed: disk full",
    ])
    #expect(result.status == 64)
    #expect(result.stderr.contains("error: --refusal: the message does not read as a refusal"))
    #expect(result.stdout.isEmpty)
    let named = try plan([
        "--backup-version", "1.0.73", "--running", "1.8.0", "--refusal", "restore failed after upgrade to 1.8.0: disk full",
    ])
    #expect(named.status == 64)
    #expect(named.stdout.isEmpty)
}

@Test(arguments: [
    "Restore refused: the last version that restores this backup is 1.9.0",
    "Restore refused: last compatible version is 1.8.0",
])
func aRefusalNamingAVersionNotOlderThanTheRunningOneGivesNoPlan(message: String) throws {
    // Issue 15, 6: restoring on the running version again would go in a circle.
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--refusal", message, "--json"])
    #expect(result.status == 4)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["decision"] as? String == "compatibility-unknown")
    #expect((object["steps"] as? [Any])?.isEmpty == true)
    #expect(object["restoreVersion"] is NSNull)
    #expect((object["reason"] as? String)?.contains("go in a circle, so there is no plan") == true)
    let text = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--refusal", message])
    #expect(text.stdout.contains("No plan: nothing can be carried out"))
    #expect(!text.stdout.contains("If Connectware refused the restore"))
    #expect(!text.stdout.contains("[restore]"))
}

@Test func aRefusalNamingAVersionDecidesTheDowngrade() throws {
    let result = try plan([
        "--backup-version", "1.0.73", "--running", "1.8.0", "--no-example-data", "--json",
        "--refusal", "Restore failed: backup 1.0.73 is not compatible. Last compatible version: 1.0.91",
    ])
    #expect(result.status == 3)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["restoreVersion"] as? String == "1.0.91")
}

@Test func aBackupNewerThanTheRunningVersionExitsFive() throws {
    let result = try plan(["--backup-version", "1.9.0", "--running", "1.8.0"])
    #expect(result.status == 5)
    #expect(result.stdout.hasPrefix("Decision: upgrade-first\n"))
}

@Test func jsonHasTheDocumentedKeys() throws {
    let backup = try exampleBackup()
    defer { try? FileManager.default.removeItem(at: backup.directory) }
    let result = try plan(["--backup", backup.file.path, "--running", "1.8.0", "--json", "--compat", exampleCompat])
    #expect(result.status == 3)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["decision"] as? String == "downgrade-required")
    #expect(object["backupVersion"] as? String == "1.0.73")
    #expect(object["runningVersion"] as? String == "1.8.0")
    #expect(object["restoreVersion"] as? String == "1.7.3")
    #expect(object["installation"] as? String == "docker-compose")
    #expect(object["volumes"] as? [String] == ["postgresql", "service-manager"])
    let steps = try #require(object["steps"] as? [[String: Any]])
    #expect(
        steps.map { $0["id"] as? String } == [
            "fresh-backup", "shutdown", "snapshot-volumes", "remove-volumes", "install-older", "wait-healthy",
            "restore", "verify-restore", "upgrade", "wait-healthy", "re-backup",
        ])
    for step in steps {
        #expect(step["title"] is String)
        #expect(step["destructive"] is Bool)
        #expect(step["commands"] is [String])
    }
    let facts = try #require(object["facts"] as? [[String: Any]])
    let source = try #require(facts.first?["source"] as? [String: Any])
    #expect(source["kind"] as? String == "operator")
    #expect(source["file"] as? String == exampleCompat)
    #expect(source["line"] as? Int == 7)
    #expect(object["disagreements"] as? [Any] != nil)
    #expect(object["partialRead"] as? Bool == false)
    let basis = try #require(object["basis"] as? [String: Any])
    let sha = try TestSupport.shell("sha256sum '\(backup.file.path)' | cut -d' ' -f1").stdout
        .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(basis["backupSHA256"] as? String == sha)
    let knowledge = try #require(basis["knowledge"] as? [[String: Any]])
    #expect(knowledge.map { $0["authority"] as? String } == ["shipped", "operator"])
}

@Test func jsonOfAnUnknownPlanHasANullRestoreVersion() throws {
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--no-example-data", "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["restoreVersion"] is NSNull)
}

@Test func colourAppearsOnATerminalOnlyWithoutNoColor() throws {
    let binary = TestSupport.product("cwmigrate").path
    let command = "\(binary) plan --backup-version 1.0.73 --running 1.8.0 --compat \(exampleCompat)"
    let state = try TestSupport.temporaryDirectory("cwmigrate-state")
    defer { try? FileManager.default.removeItem(at: state) }
    // `script` gives the program a pseudo-terminal, where colour would be allowed.
    let withNoColor = try TestSupport.run(
        URL(fileURLWithPath: "/bin/bash"),
        ["-c", "TERM=xterm XDG_STATE_HOME=\(state.path) NO_COLOR=1 script -qec '\(command)' /dev/null"])
    #expect(withNoColor.stdout.contains("Decision: downgrade-required"))
    #expect(!withNoColor.stdout.contains("\u{1B}["))
    let onTerminal = try TestSupport.run(
        URL(fileURLWithPath: "/bin/bash"),
        ["-c", "unset NO_COLOR; TERM=xterm XDG_STATE_HOME=\(state.path) script -qec '\(command)' /dev/null"])
    #expect(onTerminal.stdout.contains("\u{1B}[31;1m[DESTROYS DATA]"))
}

@Test func pipedOutputHasNoEscapeCodes() throws {
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0"], environment: ["TERM": "xterm"])
    #expect(!result.stdout.contains("\u{1B}["))
    #expect(!result.stderr.contains("\u{1B}["))
}

@Test func aBadCompatFileExitsSixtyFiveWithFileAndLine() throws {
    let dir = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let compat = try write(
        """
        barriers:
          - since: 1.9.0
            refusesBackupsBefore: 1.x
            lastRestoringVersion: 1.8.0
        """, to: "site-compat.yml", in: dir)
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--compat", compat.path])
    #expect(result.status == 65)
    #expect(result.stderr.contains("error: \(compat.path):3: refusesBackupsBefore: '1.x' is not a version"))
    #expect(result.stdout.isEmpty)
}

@Test func anOperatorsCompatFileAddsItsBarriers() throws {
    let dir = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let compat = try write(
        """
        barriers:
          - since: 1.10.0
            refusesBackupsBefore: 1.8.0
            lastRestoringVersion: 1.9.0
        upgradeStops: [1.9.0]
        """, to: "site.yml", in: dir)
    let result = try plan(["--backup-version", "1.7.2", "--running", "1.11.0", "--compat", compat.path, "--json"])
    #expect(result.status == 3)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["restoreVersion"] as? String == "1.9.0")
    #expect(!result.stderr.contains("EXAMPLE"))
}

@Test func aLearnedCompatFileInTheStateDirectoryIsRead() throws {
    let state = try TestSupport.temporaryDirectory("cwmigrate-state")
    defer { try? FileManager.default.removeItem(at: state) }
    try FileManager.default.createDirectory(
        at: state.appendingPathComponent("cwmigrate"), withIntermediateDirectories: true)
    _ = try write(
        "barriers:\n  - since: 1.11.0\n    refusesBackupsBefore: 1.10.3\n    lastRestoringVersion: 1.10.2\n",
        to: "cwmigrate/learned-compat.yml", in: state)
    let result = try TestSupport.run(
        TestSupport.product("cwmigrate"), ["plan", "--backup-version", "1.10.2", "--running", "1.11.0"],
        environment: ["XDG_STATE_HOME": state.path])
    #expect(result.status == 3)
    #expect(result.stdout.contains("Restore on: 1.10.2"))
}

@Test func aBadRunningVersionIsAUsageErrorShowingTheValue() throws {
    let result = try plan(["--backup-version", "1.0.73", "--running", "latest"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("'latest' is not a version"))
}

@Test func neitherBackupNorItsVersionIsAUsageError() throws {
    let result = try plan(["--running", "1.8.0"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("--backup"))
}

@Test func aMissingBackupFileExitsSixtySix() throws {
    let result = try plan([
        "--backup", "/nonexistent/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz", "--running", "1.8.0",
    ])
    #expect(result.status == 66)
    #expect(result.stderr.contains("error: "))
    #expect(result.stderr.contains("/nonexistent/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz"))
}

@Test func aMissingCompatFileExitsSixtySix() throws {
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--compat", "/nonexistent/compat.yml"])
    #expect(result.status == 66)
    #expect(result.stderr.contains("error: /nonexistent/compat.yml does not exist"))
}

@Test func aPlaybookThatRemovesCertsExitsSixtyFive() throws {
    let dir = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try String(
        contentsOf: TestSupport.packageRoot.appendingPathComponent("playbooks/docker-compose.yml"), encoding: .utf8)
    let edited = original.replacingOccurrences(of: "  - service-manager\n", with: "  - service-manager\n  - certs\n")
    #expect(edited != original)
    let playbook = try write(edited, to: "compose.yml", in: dir)
    let result = try plan(["--backup-version", "1.0.73", "--running", "1.8.0", "--playbook", playbook.path])
    #expect(result.status == 65)
    #expect(result.stderr.contains("error: \(playbook.path):"))
    #expect(result.stderr.contains("'certs' must never be removed"))
}

@Test func anOperatorsPlaybookMayNameOnlyPostgresql() throws {
    let dir = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try String(
        contentsOf: TestSupport.packageRoot.appendingPathComponent("playbooks/docker-compose.yml"), encoding: .utf8)
    let playbook = try write(
        original.replacingOccurrences(of: "  - service-manager\n", with: ""), to: "compose.yml", in: dir)
    let result = try plan([
        "--backup-version", "1.0.73", "--running", "1.8.0", "--playbook", playbook.path, "--json", "--compat",
        exampleCompat,
    ])
    #expect(result.status == 3)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let steps = try #require(object["steps"] as? [[String: Any]])
    let remove = try #require(steps.first { $0["id"] as? String == "remove-volumes" })
    #expect(remove["commands"] as? [String] == ["docker volume rm connectware_postgresql"])
}

@Test func theKubernetesInstallationUsesItsPlaybook() throws {
    let result = try plan([
        "--backup-version", "1.0.73", "--running", "1.8.0", "--installation", "kubernetes", "--compat", exampleCompat,
    ])
    #expect(result.status == 3)
    #expect(result.stdout.contains("helm upgrade <RELEASE> <CHART> --version 1.7.3 -n <NAMESPACE> --reuse-values"))
}

@Test func aDataDirectoryWithoutPlaybooksIsAClearError() throws {
    let dir = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try plan(
        ["--backup-version", "1.0.73", "--running", "1.8.0"], environment: ["CWMIGRATE_DATA_DIR": dir.path])
    #expect(result.status == 66)
    #expect(result.stderr.contains("error: cannot find cwmigrate's playbooks directory"))
    #expect(result.stderr.contains("hint: CWMIGRATE_DATA_DIR"))
}
