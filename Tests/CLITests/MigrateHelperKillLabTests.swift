import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `migrate` killed with SIGKILL while it snapshots a volume through a helper container (the
/// lab's service-manager volume made a local volume with `o=bind`, whose files only a container
/// sees) is resumed, or rolled back, with no manual step: the orphaned helper does not block the
/// volume, the staged tar in the run's directory is cleared, and $TMPDIR is never used.
extension MigrateLabTests {
    var helperLabel: String { "io.cybus.cwmigrate" }

    func helperContainers() throws -> [String] {
        try TestSupport.shell("docker ps -aq --no-trunc --filter label=\(helperLabel)").stdout
            .split(separator: "\n").map(String.init)
    }

    /// The staged files of the run in `state` (its `artifacts/ID/staging` directory).
    func stagedFiles(_ state: String) -> [String] {
        let artifacts = state + "/artifacts"
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: artifacts)) ?? []
        return runs.flatMap { run in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(artifacts)/\(run)/staging")) ?? []).map {
                "\(artifacts)/\(run)/staging/\($0)"
            }
        }
    }

    /// A compose override that declares service-manager's driver options, so compose accepts the
    /// bound volume; `DOCKER_COMPOSE` with it is what an operator with such a volume runs.
    func composeWithBind(_ source: String) throws -> String {
        let override = source + ".override.yml"
        try """
        version: "2.0"
        volumes:
          service-manager:
            driver_opts: {type: none, o: bind, device: "\(source)"}

        """.write(toFile: override, atomically: true, encoding: .utf8)
        return "docker-compose -f \(lab)/connectware/docker-compose.yml -f \(override)"
    }

    /// Makes the lab's service-manager volume a local volume bound to `source` (`o=bind`) with
    /// the same files and labels, and starts 1.8.0 on it through `compose`.
    func bindServiceManager(to source: String, compose: String) throws {
        try TestSupport.shell(
            """
            set -e
            ids="$(docker ps -aq --filter label=io.cybus.connectware=core)"
            [ -z "$ids" ] || docker rm -f $ids >/dev/null
            v=connectware_service-manager
            mkdir -p '\(source)'
            cp -a "$(docker volume inspect $v --format '{{.Mountpoint}}')/." '\(source)/'
            docker volume rm $v >/dev/null
            docker volume create --driver local -o type=none -o o=bind -o device='\(source)' \
              --label com.docker.compose.project=connectware --label com.docker.compose.volume=service-manager \
              --label com.docker.compose.version=1.29.2 $v >/dev/null
            cd '\(lab)/connectware' && \(compose) -p connectware up -d 2>&1
            """)
        try labScript(["wait", "120"])
    }

    /// Puts a bound service-manager back as a plain local volume with its files (a resumed run
    /// has made it plain already: then nothing is done).
    func unbindServiceManager(from source: String) throws {
        let bound = try TestSupport.shell(
            "docker volume inspect -f '{{.Options.o}}' connectware_service-manager 2>/dev/null || true"
        ).stdout.contains("bind")
        guard bound else { return }
        try TestSupport.shell(
            """
            set -e
            ids="$(docker ps -aq --filter label=io.cybus.connectware=core)"
            [ -z "$ids" ] || docker rm -f $ids >/dev/null
            v=connectware_service-manager
            docker volume rm $v >/dev/null
            docker volume create --label com.docker.compose.project=connectware \
              --label com.docker.compose.volume=service-manager --label com.docker.compose.version=1.29.2 $v >/dev/null
            cp -a '\(source)/.' "$(docker volume inspect $v --format '{{.Mountpoint}}')/"
            """)
        try labScript(["install", "1.8.0", "-s", "-S"])
        try labScript(["wait", "120"])
    }

    /// A scenario on the lab with service-manager bound to a directory; the run is killed once
    /// it stages the volume's tar; `body` gets the state directory and the empty TMPDIR.
    func killedDuringAHelperSnapshot(
        _ body: (_ stage: Stage, _ state: String, _ environment: [String: String], _ certs: String) throws -> Void
    )
        async throws
    {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let source = lab + "/bind-sm-\(UUID().uuidString.prefix(6))"
            defer {
                _ = try? unbindServiceManager(from: source)
                _ = try? TestSupport.shell("rm -rf '\(source)' '\(source).override.yml'")
            }
            let compose = try composeWithBind(source)
            try bindServiceManager(to: source, compose: compose)
            #expect(
                try TestSupport.shell("docker volume inspect -f '{{.Options.o}}' connectware_service-manager").stdout
                    == "bind\n")
            let temporary = scratch.path + "/tmpdir-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            let tmp = ["TMPDIR": temporary]
            let bound = tmp.merging(["DOCKER_COMPOSE": compose]) { $1 }
            let background = try Background(
                migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--progress", "none"]),
                environment: environment(state: state).merging(tmp) { $1 },
                output: scratch.appendingPathComponent("killed-helper.log"))
            var killed: Int32?
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, background.poll() == nil {
                if stagedFiles(state).contains(where: { $0.hasSuffix(".tar.part") || $0.hasSuffix(".tar") }) {
                    killed = background.killHard()
                    break
                }
                usleep(2_000)
            }
            if killed == nil { _ = background.killHard() }
            try #require(killed == 137, "the run was not killed while it staged a tar: \(background.text)")
            #expect(steps(state).contains { $0.kind == "snapshot-volumes" && $0.state == "running" })
            #expect(!stagedFiles(state).isEmpty, "the killed run's staged tar is in the run's directory")
            #expect(!(try helperContainers()).isEmpty, "the killed run's helper container is left")
            #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
            try body(stage, state, bound, certs)
            #expect(try helperContainers().isEmpty)
            #expect(stagedFiles(state).isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty, "TMPDIR stays empty")
        }
    }

    @Test func aRunKilledDuringAHelperContainerSnapshotIsResumedWithNoManualStep() async throws {
        try await killedDuringAHelperSnapshot { stage, state, tmp, certs in
            // The vendor's installer writes a compose file without the override: the volume it
            // makes after remove-volumes is a plain one.
            let tmp = tmp.filter { $0.key == "TMPDIR" }
            let resumed = try TestSupport.run(
                TestSupport.product("cwmigrate"),
                ["migrate", "--resume", "last", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout",
                 "120", "--progress", "none"],
                environment: environment(state: state).merging(tmp) { $1 })
            #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
            #expect(resumed.stderr.contains("note: removed helper container cwmigrate-volume-"))
            #expect(resumed.stderr.contains("note: removed staged file \(state)/artifacts/"))
            try expectMigrated(stage, state: state, certs: certs)
        }
    }

    @Test func aRunKilledDuringAHelperContainerSnapshotIsRolledBackWithNoManualStep() async throws {
        try await killedDuringAHelperSnapshot { stage, state, tmp, certs in
            let rolledBack = try TestSupport.run(
                TestSupport.product("cwmigrate"),
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"],
                environment: environment(state: state).merging(tmp) { $1 })
            #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
            #expect(rolledBack.stderr.contains("note: removed helper container cwmigrate-volume-"))
            #expect(try check() == stage.startCheck)
            #expect(try certsDigest() == certs)
            let found = try labVersion()
            #expect(found.version == "1.8.0" && found.allRunning)
        }
    }

    /// remove-volumes empties the directory of a bound volume (its files are in the verified
    /// snapshot), so the rollback's restore into the volume made again there finds it empty.
    @Test func aRemovedBindVolumeLeavesItsDirectoryEmptyAndTheRollbackPutsItsFilesBack() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let certs = try certsDigest()
            let source = lab + "/bind-sm-\(UUID().uuidString.prefix(6))"
            defer {
                _ = try? unbindServiceManager(from: source)
                _ = try? TestSupport.shell("rm -rf '\(source)' '\(source).override.yml'")
            }
            let compose = try composeWithBind(source)
            try bindServiceManager(to: source, compose: compose)
            let files = try TestSupport.shell("cd '\(source)' && find . | LC_ALL=C sort").stdout
            #expect(files.split(separator: "\n").count > 1, "\(files)")
            let stopped = try run(
                migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]),
                state: state, label: "bind-removed",
                killWhen: { steps in steps.contains { $0.kind == "remove-volumes" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: source).isEmpty)
            let rolledBack = try TestSupport.run(
                TestSupport.product("cwmigrate"),
                ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"],
                environment: environment(state: state).merging(["DOCKER_COMPOSE": compose]) { $1 })
            #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
            #expect(try TestSupport.shell("cd '\(source)' && find . | LC_ALL=C sort").stdout == files)
            #expect(
                try TestSupport.shell("docker volume inspect -f '{{.Options.o}}' connectware_service-manager").stdout
                    == "bind\n")
            #expect(try check() == stage.startCheck)
            #expect(try certsDigest() == certs)
        }
    }
}
