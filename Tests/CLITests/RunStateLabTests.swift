import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs whose state must not lie, carried out on the lab: a restore that failed is not a
/// refusal, and an upgrade-first run goes back from its snapshots.
extension MigrateLabTests {
    /// A backup of Connectware 1.8.0 whose database dump pg_restore cannot read.
    func unrestorableBackup() throws -> String {
        let id = "1.8.0_2026-11-30T07:00:00.000Z"
        try TestSupport.shell(
            """
            mkdir -p 'bad/\(id)' && printf '{"version":"1.8.0","id":"\(id)"}' > 'bad/\(id)/metadata.json' \
            && printf 'PGDMP' > 'bad/\(id)/cybus_connectware.dump' && tar -C bad -czf unrestorable.tgz '\(id)'
            """, in: scratch.url)
        return scratch.path + "/unrestorable.tgz"
    }

    @Test func aRestoreThatFailedIsNotARefusalAndTheRollbackPutsTheFreshBackupBack() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let result = try cwmigrate(
                migrateArguments(try unrestorableBackup(), extra: ["--no-example-data"]), state: state)
            #expect(result.status == 69, "\(result.stdout)\n\(result.stderr)")
            let error = result.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? ""
            #expect(error.contains("restore failed: the restore failed on Connectware ("), "\(error)")
            #expect(error.hasSuffix("what the database holds now is unknown"))
            #expect(!result.stdout.contains("the run stopped before anything more was changed"))
            #expect(!result.stderr.contains("the run stopped before anything more was changed"))

            try psql("INSERT INTO roles (name, description) VALUES ('left-by-a-failed-restore', 'x')")
            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"], state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(rolled.stdout.contains("the run's fresh backup is restored"))
            #expect(rolled.stdout.contains("restored the fresh backup "))
            #expect(try check() == stage.startCheck)
            #expect(try report(state)["outcome"] as? String == "rolled-back")
        }
    }

    @Test func anUpgradeFirstRunCopiesTheVolumesBeforeTheUpgradeAndIsRolledBackFromThem() async throws {
        try await scenario { stage in
            let newer = stage.directory + "/connectware-1.8.1.tgz"
            if !FileManager.default.fileExists(atPath: newer) {
                try labScript(["make-backup", "1.8.1", newer])
            }
            let state = try reset(stage)
            let certs = try certsDigest()
            // An operator's note in .env: the installer writes .env anew without it.
            let project = lab + "/connectware"
            try TestSupport.shell("printf '# kept by the operator\\n' >> '\(project)/.env'")
            let envBefore = try Data(contentsOf: URL(fileURLWithPath: project + "/.env"))
            let composeBefore = try Data(contentsOf: URL(fileURLWithPath: project + "/docker-compose.yml"))
            let stopped = try run(
                migrateArguments(newer, extra: ["--no-example-data"]), state: state, label: "upgrade-first",
                killWhen: { steps in steps.contains { $0.kind == "upgrade" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            let kinds = steps(state).map(\.kind)
            #expect(Array(kinds.prefix(4)) == ["fresh-backup", "shutdown", "snapshot-volumes", "upgrade"])
            #expect(try labVersion().version == "1.8.1")
            // What the upgraded database holds now is not what the run found.
            try psql("INSERT INTO roles (name, description) VALUES ('written-by-1.8.1', 'after the upgrade')")
            #expect(try check() != stage.startCheck)

            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"], state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(
                rolled.stdout.contains(
                    "the volumes connectware_postgresql, connectware_service-manager, connectware_certs, connectware_systemControlServerData are put back from the run's snapshots where they changed"
                ), "\(rolled.stdout)")
            #expect(rolled.stdout.contains("kept connectware_certs: nothing in it changed since the run's snapshot"))
            #expect(rolled.stdout.contains("restored connectware_postgresql from "))
            #expect(rolled.stdout.contains("put \(project)/.env back as the run found it"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: project + "/.env")) == envBefore)
            #expect(try Data(contentsOf: URL(fileURLWithPath: project + "/docker-compose.yml")) == composeBefore)
            #expect(
                try FileManager.default.attributesOfItem(atPath: project + "/.env")[.posixPermissions] as? Int == 0o600)
            let copies = (try report(state)["artifacts"] as? [[String: Any]] ?? []).filter {
                $0["kind"] as? String == "installation-file"
            }
            #expect(Set(copies.compactMap { $0["detail"] as? String }) == [".env", "docker-compose.yml"])
            for copy in copies {
                let path = copy["path"] as? String ?? "/nonexistent"
                #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            }
            let password = ProcessInfo.processInfo.environment["CWMIGRATE_PASSWORD"] ?? "unset"
            let license = try TestSupport.shell("sed -n 's/^CYBUS_REGISTRY_PASS=//p' '\(project)/.env'").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let everything = try TestSupport.shell("cat '\(state)'/runs/*").stdout
            #expect(!everything.contains(password))
            #expect(
                license.isEmpty || !everything.contains(license), "the .env's license key reached a journal or report")
            #expect(try check() == stage.startCheck)
            let found = try labVersion()
            #expect(found.version == "1.8.0" && found.allRunning)
            #expect(try certsDigest() == certs)
        }
    }
}

extension MigrateLabTests {
    /// Installers that log each start to `log` before running the lab's own; the one of
    /// `slow` waits first, so a kill can land between two upgrade stops.
    func loggingInstallers(log: String, slow: String) throws -> String {
        let directory = scratch.path + "/logging-installers"
        for version in ["1.6.0", "1.7.3", "1.8.0", "1.8.1"] {
            let script = directory + "/\(version)/connectware-online-installer.sh"
            try FileManager.default.createDirectory(
                atPath: directory + "/\(version)", withIntermediateDirectories: true)
            try """
            #!/usr/bin/env bash
            echo "start \(version)" >> '\(log)'
            \(version == slow ? "sleep 4" : "")
            exec bash '\(lab)/installers/\(version)/connectware-online-installer.sh' "$@"

            """.write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
        }
        return directory
    }

    @Test func aRunKilledBetweenTwoUpgradeStopsResumesAtTheStopItReached() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            try labScript(["install", "1.8.1", "-s", "-S"])
            try labScript(["wait", "120"])
            let compat = scratch.path + "/stops-compat.yml"
            try """
            schema: 1
            barriers:
              - since: 1.8.0
                refusesBackupsBefore: 1.7.3
                lastRestoringVersion: 1.7.3
                note: "the lab's barrier"
                source: "scripts/lab.d/README.md"
            upgradeStops: [1.8.0]

            """.write(toFile: compat, atomically: true, encoding: .utf8)
            let log = scratch.path + "/installs.log"
            let installers = try loggingInstallers(log: log, slow: "1.8.1")
            let arguments = [
                "migrate", "--backup", stage.oldBackup, "--yes", "--installer-dir", installers, "--healthy-timeout",
                "120", "--compat", compat, "--no-example-data",
            ]
            func installs() -> [String] {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            let stopped = try run(
                arguments, state: state, label: "between-stops",
                killWhen: { steps in
                    steps.contains { $0.kind == "upgrade" && $0.state == "running" }
                        && installs().contains("start 1.8.1")
                })
            #expect(stopped.status == 137, "\(stopped.output)")
            #expect(installs() == ["start 1.7.3", "start 1.8.0", "start 1.8.1"])
            #expect(try labVersion().version == "1.8.0")

            let resumed = try cwmigrate(
                ["migrate", "--resume", "last", "--yes", "--installer-dir", installers, "--healthy-timeout", "120"],
                state: state)
            #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
            #expect(installs() == ["start 1.7.3", "start 1.8.0", "start 1.8.1", "start 1.8.1"])
            #expect(try check() == stage.oldCheck)
            #expect(try labVersion().version == "1.8.1")
        }
    }
}

extension MigrateLabTests {
    @Test func snapshotsAreNotTheWayBackOnceConnectwareRanAgainAndTheVolumesStay() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let stopped = try run(
                arguments, state: state, label: "snapshot-then-start",
                killWhen: { steps in steps.contains { $0.kind == "snapshot-volumes" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            // Someone starts Connectware's database by hand, and stops it again.
            try TestSupport.shell(
                "docker start connectware_postgresql_1 >/dev/null && sleep 1 && docker stop -t 5 connectware_postgresql_1 >/dev/null"
            )
            let resumed = try cwmigrate(
                ["migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers"], state: state)
            #expect(resumed.status == 69, "\(resumed.stdout)\n\(resumed.stderr)")
            let error = resumed.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? ""
            #expect(
                error.hasPrefix("error: step 4 remove-volumes cannot start: Connectware was started again at "),
                "\(error)")
            #expect(error.contains("the volumes may hold more than the snapshots, so they are not removed"))
            let volumes = try TestSupport.shell("docker volume ls --format '{{.Name}}'").stdout
            #expect(volumes.contains("connectware_postgresql") && volumes.contains("connectware_service-manager"))
            let rolled = try cwmigrate(
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"], state: state)
            #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
            #expect(try check() == stage.startCheck)
        }
    }
}
