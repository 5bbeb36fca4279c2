import Foundation
import TestSupport
import Testing

/// A host whose Connectware runs under the systemd unit `connectware.service`: cwmigrate
/// finds and reports it, stops and starts Connectware through `systemctl`, and expects the
/// installer to start Connectware itself. systemd cannot run here: the unit file lives in a
/// temporary directory (`CWMIGRATE_SYSTEMD_UNIT`) and `scripts/lab.d/systemctl` stands in for
/// `systemctl` (`CWMIGRATE_SYSTEMCTL`), running the unit's ExecStart/ExecStop against the lab
/// and recording each call. The lab is left at 1.8.0 without the unit.
@Suite("a systemd-managed Connectware in the lab", .serialized)
struct SystemdLabTests {
    let lab: LabUnderTest
    var scratch: ScratchDirectory { lab.scratch }

    init() throws {
        lab = try LabUnderTest(scratchLabel: "cwmigrate-systemd")
    }

    var unitPath: String { scratch.path + "/connectware.service" }
    var logPath: String { scratch.path + "/systemctl.log" }

    /// The unit as the vendor's installer writes it, with the lab's compose file.
    func writeUnit() throws {
        let project = lab.directory + "/connectware"
        try """
        [Unit]
        Description=Cybus Connectware
        After=docker.service

        [Service]
        Type=oneshot
        EnvironmentFile=\(project)/.env
        ExecStart=docker-compose -f \(project)/docker-compose.yml up -d
        ExecStop=docker-compose -f \(project)/docker-compose.yml down

        [Install]
        WantedBy=multi-user.target

        """.write(toFile: unitPath, atomically: true, encoding: .utf8)
    }

    var systemdEnvironment: [String: String] {
        [
            "CWMIGRATE_SYSTEMD_UNIT": unitPath,
            "CWMIGRATE_SYSTEMCTL": TestSupport.packageRoot.appendingPathComponent("scripts/lab.d/systemctl").path,
            "LAB_SYSTEMCTL_LOG": logPath,
        ]
    }

    func cwmigrate(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
        try TestSupport.run(TestSupport.product("cwmigrate"), arguments, environment: environment)
    }

    func calls() -> [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func host(_ environment: [String: String]) throws -> [String: Any] {
        let result = try cwmigrate(["host", "--json"], environment: environment)
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    func inTheLab(_ body: () throws -> Void) async throws {
        try await lab.exclusively {
            defer {
                if (try? host([:]))?["version"] as? String != "1.8.0" {
                    _ = try? lab.install("1.8.0")
                }
            }
            try body()
        }
    }

    @Test func hostReportsTheUnitOnlyWhereItExists() async throws {
        try await inTheLab {
            #expect(try host(systemdEnvironment)["systemdUnit"] == nil)
            try writeUnit()
            let unit = try #require(try host(systemdEnvironment)["systemdUnit"] as? [String: Any])
            #expect(unit["path"] as? String == unitPath)
            #expect(unit["name"] as? String == "connectware")
            #expect(unit["type"] as? String == "oneshot")
            #expect(unit["environmentFile"] as? String == lab.directory + "/connectware/.env")
            #expect((unit["execStop"] as? String)?.hasSuffix("docker-compose.yml down") == true)
            let text = try cwmigrate(["host"], environment: systemdEnvironment)
            #expect(text.stdout.contains("systemd:   \(unitPath)"), "\(text.stdout)")
        }
    }

    @Test func aMigrationStopsAndStartsThroughSystemctlAndLetsTheInstallerStartConnectware() async throws {
        try await inTheLab {
            let backup = scratch.path + "/connectware-1.6.0.tgz"
            try lab.script(["make-backup", "1.6.0", backup])
            let expected = try String(contentsOfFile: backup + ".check", encoding: .utf8)
            try writeUnit()
            let state = scratch.path + "/state"
            var environment = systemdEnvironment
            environment["CWMIGRATE_STATE_DIR"] = state
            environment["XDG_STATE_HOME"] = state + "-xdg"
            let result = try cwmigrate(
                [
                    "migrate", "--backup", backup, "--yes", "--installer-dir", lab.directory + "/installers", "--healthy-timeout",
                    "120", "--progress", "none", "--no-example-data",
                ], environment: environment)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            // Shut down through the unit; each install (1.7.3, then 1.8.0) restarted it by its
            // installer, never by a compose run of cwmigrate's.
            let made = calls()
            #expect(made.first == "stop connectware", "\(made)")
            #expect(made.filter { $0 == "restart connectware" }.count == 2, "\(made)")
            #expect(try lab.check() == expected)
            #expect(try host(systemdEnvironment)["version"] as? String == "1.8.0")
            // The prechecks and the run's report say how the host runs Connectware.
            #expect(result.stdout.contains("run by the systemd unit \(unitPath)"), "\(result.stdout)")
            let runs = state + "/runs"
            let name = try #require(
                try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.hasSuffix(".report.json") })
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runs + "/" + name)))
                    as? [String: Any])
            let steps = report["steps"] as? [[String: Any]] ?? []
            let shutdown = steps.first { $0["kind"] as? String == "shutdown" }
            #expect(
                (shutdown?["message"] as? String)?.hasSuffix(
                    "through the systemd unit \(unitPath) (systemctl stop connectware)") == true)
        }
    }
}
