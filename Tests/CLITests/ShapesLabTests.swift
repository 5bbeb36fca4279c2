import Foundation
import TestSupport
import Testing

/// Connectware's compose file changes between versions, and the lab's does too
/// (scripts/lab.d/README.md, "Compose shapes"): 1.0.91 has `doc-server`, `broker` with the
/// `brokerEtc` volume and no display-version variable; 1.6.0 and 1.7.3 have `doc-server` and
/// `DISPLAY_VERSION`; 1.8.x and 2.0.6 neither, and `CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION`.
/// cwmigrate follows the installation it finds. These tests change the lab; they hold its
/// lock and leave it at 1.8.0 without the volume only 1.0.91 makes.
@Suite("versions of different compose shapes in the lab", .serialized)
struct ShapesLabTests {
    let lab: LabUnderTest
    var scratch: ScratchDirectory { lab.scratch }

    init() throws {
        lab = try LabUnderTest(scratchLabel: "cwmigrate-shapes")
    }

    func cwmigrate(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
        try TestSupport.run(TestSupport.product("cwmigrate"), arguments, environment: environment)
    }

    /// `cwmigrate host --json` as an object.
    func host() throws -> [String: Any] {
        let result = try cwmigrate(["host", "--json"])
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    func services(_ host: [String: Any]) -> [String] {
        ((host["containers"] as? [[String: Any]]) ?? []).compactMap { $0["service"] as? String }.sorted()
    }

    func volumeExists(_ name: String) throws -> Bool {
        try TestSupport.shell("docker volume ls -q").stdout.split(separator: "\n").contains { $0 == name }
    }

    /// The lab as the other tests expect it: 1.8.0 running, no volume of the 1.0 shape.
    func leaveAsFound() throws {
        let version = try host()["version"] as? String
        if version != "1.8.0" { try lab.install("1.8.0") }
        if try volumeExists("connectware_brokerEtc") { try TestSupport.shell("docker volume rm connectware_brokerEtc") }
    }

    /// The lab's barrier for 1.0.x backups, as an operator's compat file (it says "before
    /// 1.0.91": the lab refuses 1.0.91's own too, and a compat file cannot say so).
    func compat() throws -> String {
        let path = scratch.path + "/lab-compat.yml"
        try """
        schema: 1
        barriers:
          - since: 1.1.0
            refusesBackupsBefore: 1.0.91
            lastRestoringVersion: 1.0.91
            note: "the lab's barrier of the 1.0 shape"
            source: "scripts/lab.d/README.md"
        upgradeStops: []

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func migrateArguments(_ backup: String) throws -> [String] {
        [
            "migrate", "--backup", backup, "--yes", "--installer-dir", lab.directory + "/installers", "--healthy-timeout", "120",
            "--progress", "none", "--no-example-data", "--compat", try compat(),
        ]
    }

    func inTheLab(_ body: () throws -> Void) async throws {
        try await lab.exclusively {
            defer { try? leaveAsFound() }
            try body()
        }
    }

    @Test func hostReportsTheVersionAndServicesOfEachShape() async throws {
        try await inTheLab {
            let common = ["admin-web-app", "connectware", "postgresql", "service-manager", "system-control-server"]
            let shapes: [(version: String, extra: [String], variable: String?)] = [
                ("1.0.91", ["broker", "doc-server"], nil),
                ("1.7.3", ["doc-server"], "DISPLAY_VERSION"),
                ("2.0.6", [], "CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION"),
            ]
            for shape in shapes {
                try lab.install(shape.version)
                let found = try host()
                #expect(found["version"] as? String == shape.version, "\(shape.version)")
                #expect(services(found) == (common + shape.extra).sorted(), "\(shape.version)")
                #expect(found["displayVersionVariable"] as? String == shape.variable, "\(shape.version)")
                #expect(found["displayVersion"] as? String == shape.variable.map { _ in shape.version })
                // brokerEtc is 1.0.91's; the later installs leave it, mounted by nothing.
                let brokerEtc = (found["volumes"] as? [[String: Any]])?.first {
                    $0["shortName"] as? String == "brokerEtc"
                }
                #expect(brokerEtc != nil, "\(shape.version)")
                #expect(((brokerEtc?["usedBy"] as? [String]) ?? []).isEmpty == (shape.version != "1.0.91"))
                // The start order is the compose file's, whatever services it has.
                let order = found["startOrder"] as? [String] ?? []
                #expect(order.first == "postgresql" && order.sorted() == (common + shape.extra).sorted(), "\(order)")
                #expect(found["startOrderSource"] as? String == lab.directory + "/connectware/docker-compose.yml")
            }
        }
    }

    @Test func aMigrationThroughTheOldestShapeEndsWithTheBackupsDataAndTheProductionPassword() async throws {
        try await inTheLab {
            try leaveAsFound()
            let backup = scratch.path + "/connectware-1.0.73.tgz"
            try lab.script(["make-backup", "1.0.73", backup])
            let expected = try String(contentsOfFile: backup + ".check", encoding: .utf8)
            #expect(try lab.check() != expected, "make-backup changed the data after the backup")
            // Only the 1.0.73 install made it; 1.8.0 does not mount it. The run must neither lose
            // nor need it.
            #expect(try volumeExists("connectware_brokerEtc"))

            let state = scratch.path + "/state"
            let result = try cwmigrate(
                try migrateArguments(backup),
                environment: ["CWMIGRATE_STATE_DIR": state, "XDG_STATE_HOME": state + "-xdg"])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("1.0.91"), "\(result.stdout)")

            // The data is the backup's: every row, every service-manager file.
            #expect(try lab.check() == expected)
            // Back at 1.8.0's shape: no doc-server, no broker, the newest variable.
            let found = try host()
            #expect(found["version"] as? String == "1.8.0")
            #expect(!services(found).contains("doc-server") && !services(found).contains("broker"))
            #expect(found["displayVersionVariable"] as? String == "CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION")
            // The production password works again (the restore brought the backup's users).
            let status = try cwmigrate(["status", "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            // The broker's configuration volume is still there, as the vendor's installer leaves it.
            #expect(try volumeExists("connectware_brokerEtc"))
        }
    }

    /// The lab's registry host, `127.0.0.1:PORT` (`CWMIGRATE_LAB_REGISTRY`).
    var registry: String { ProcessInfo.processInfo.environment["CWMIGRATE_LAB_REGISTRY"] ?? "" }

    @Test func aDowngradeToAnOlderShapeWhoseExtraServiceIsMissingFromTheRegistryStopsInThePrechecks() async throws {
        try await inTheLab {
            try #require(!registry.isEmpty, "the lab's env lines name its registry (CWMIGRATE_LAB_REGISTRY)")
            try leaveAsFound()
            let backup = scratch.path + "/connectware-1.0.73-missing.tgz"
            try lab.script(["make-backup", "1.0.73", backup])
            let before = try lab.script(["check"]).stdout
            let volumes = try TestSupport.shell(
                "docker volume inspect connectware_postgresql connectware_service-manager --format '{{.CreatedAt}}'"
            ).stdout
            // doc-server is 1.0.91's own: the running 1.8.0 has none, so only its installer names it.
            try lab.script(["registry", "drop", "doc-server:1.0.91"])
            defer { _ = try? lab.script(["registry", "undrop"]) }
            let state = scratch.path + "/state-missing"
            let result = try cwmigrate(
                try migrateArguments(backup),
                environment: ["CWMIGRATE_STATE_DIR": state, "XDG_STATE_HOME": state + "-xdg"])
            #expect(result.status == 69, "\(result.stdout)\n\(result.stderr)")
            #expect(
                result.stdout.split(separator: "\n").contains {
                    $0.hasPrefix("FAIL  registry") && $0.contains("the registry has no \(registry)/cybus/doc-server:1.0.91")
                }, "\(result.stdout)")
            // Nothing destructive began: the same volumes, the same data, 1.8.0 running.
            #expect(
                try TestSupport.shell(
                    "docker volume inspect connectware_postgresql connectware_service-manager --format '{{.CreatedAt}}'"
                ).stdout == volumes)
            #expect(try lab.script(["check"]).stdout == before)
            #expect(try host()["version"] as? String == "1.8.0")
        }
    }

    @Test func aServiceOnlyTheRunningVersionHasIsNotAskedForInTheRegistry() async throws {
        try await inTheLab {
            try #require(!registry.isEmpty, "the lab's env lines name its registry (CWMIGRATE_LAB_REGISTRY)")
            try leaveAsFound()
            let backup = scratch.path + "/connectware-1.0.73-newer.tgz"
            try lab.script(["make-backup", "1.0.73", backup])
            // A service that 1.8.0 has and no other version: in the running compose file, its
            // image on the host, none of it in the registry.
            let composeFile = lab.directory + "/connectware/docker-compose.yml"
            let original = try String(contentsOfFile: composeFile, encoding: .utf8)
            defer {
                try? original.write(toFile: composeFile, atomically: true, encoding: .utf8)
                _ = try? TestSupport.shell("docker rmi \(registry)/cybus/workbench:1.8.0")
            }
            try TestSupport.shell("docker tag \(registry)/cybus/admin-web-app:1.8.0 \(registry)/cybus/workbench:1.8.0")
            let extra = """
                  workbench:
                    image: \(registry)/cybus/workbench:1.8.0
                    labels:
                      io.cybus.connectware: core
                    network_mode: host
                    restart: unless-stopped

                """
            try original.replacingOccurrences(of: "\nvolumes:\n", with: "\n" + extra + "volumes:\n")
                .write(toFile: composeFile, atomically: true, encoding: .utf8)
            #expect(try String(contentsOfFile: composeFile, encoding: .utf8).contains("cybus/workbench:1.8.0"))
            let state = scratch.path + "/state-newer"
            let result = try cwmigrate(
                try migrateArguments(backup) + ["--precheck-only"],
                environment: ["CWMIGRATE_STATE_DIR": state, "XDG_STATE_HOME": state + "-xdg"])
            let line = result.stdout.split(separator: "\n").first { $0.dropFirst(6).hasPrefix("registry ") } ?? ""
            // 1.0.91's seven images, then 1.8.0's five: workbench is in neither installer.
            #expect(line.hasPrefix("pass  registry"), "\(result.stdout)\n\(result.stderr)")
            #expect(line.contains("has the 12 images of 1.0.91, 1.8.0"), "\(line)")
            #expect(!result.stdout.contains("workbench:1.0.91"), "\(result.stdout)")
        }
    }

    @Test func aRollbackAfterTheOldestShapeWasInstalledSetsAsideTheVolumeItMade() async throws {
        try await inTheLab {
            try leaveAsFound()
            let backup = scratch.path + "/connectware-1.0.73-rollback.tgz"
            try lab.script(["make-backup", "1.0.73", backup])
            // As on a host that never ran 1.0.x: no brokerEtc before the run.
            try TestSupport.shell("docker volume rm connectware_brokerEtc")
            let before = try lab.check()
            // 1.0.91 answers 409 to the restore: the run stops after install-older made brokerEtc.
            try lab.script(["fault", "--at", "1.0.91", #"{"forceConflict":true}"#])
            defer { _ = try? lab.script(["fault", "reset"]) }
            let state = scratch.path + "/state-rollback"
            let environment = ["CWMIGRATE_STATE_DIR": state, "XDG_STATE_HOME": state + "-xdg"]
            let failed = try cwmigrate(
                try migrateArguments(backup), environment: environment)
            #expect(failed.status != 0, "\(failed.stdout)\n\(failed.stderr)")
            #expect(try host()["version"] as? String == "1.0.91")
            #expect(try volumeExists("connectware_brokerEtc"))

            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab.directory + "/installers", "--healthy-timeout", "120"],
                environment: environment)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(rolled.stdout.contains("connectware_brokerEtc"), "\(rolled.stdout)")
            #expect(try volumeExists("connectware_brokerEtc") == false)
            let found = try host()
            #expect(found["version"] as? String == "1.8.0")
            #expect(try lab.check() == before)
        }
    }
}
