import ArchiveInspect
import DockerOps
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Volumes as Docker really has them, and snapshots that cannot lose data: names of any
/// bytes, volumes with driver options, restore by short name, snapshots older than the
/// volume, PostgreSQL snapshots without a data directory, bind mounts where a volume
/// should be. On the lab's real dockerd; each test leaves Connectware running as it was.
@Suite(.serialized)
struct VolumeSafetyTests {
    func docker(_ lab: Lab, _ command: String) throws -> String {
        try TestSupport.shell("DOCKER_HOST='\(lab.dockerHost)' docker \(command)").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func cwmigrate(_ arguments: [String], in directory: URL) throws -> ProgramResult {
        try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments, environment: ["LANG": "C"], currentDirectory: directory)
    }

    @Test(arguments: [VolumeAccess.mountpoint, .helperContainer])
    func namesOfAnyBytesSurviveSnapshotRemoveAndRestore(access: VolumeAccess) async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            let mountpoint = try lab.mountpoint(name)
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            try TestSupport.shell(
                """
                set -e; cd '\(mountpoint)'
                mkdir -p names/ü-dir && printf 'umlaut' > 'names/name with space ü.txt'
                printf 'not utf-8' > names/$'bad\\xff\\xfename' && ln names/$'bad\\xff\\xfename' names/ü-dir/$'hard\\xfe'
                ln -s $'bad\\xff\\xfename' names/$'link\\xff' && chown -R 4242:4343 names && chmod 640 names/*.txt
                touch -h -d 2021-03-04T05:06:07 names/* names/ü-dir/*
                """)
            defer { _ = try? TestSupport.shell("rm -rf '\(try lab.mountpoint(name))/names'") }
            let digest = try Lab.treeDigest(mountpoint)
            let file = try TestSupport.temporaryDirectory("cwmigrate-names").appendingPathComponent("sm.tar.zst").path
            let manifest = try host.snapshotVolume(name, to: file, connectwareVersion: nil, access: access)
            #expect(manifest.files >= 2)
            try host.removeVolume(name, snapshot: file, policy: .vendorDefault)
            #expect(try lab.volumeExists(name) == false)
            try host.restoreVolume(name, from: file, access: access)
            #expect(try Lab.treeDigest(lab.mountpoint(name)) == digest)
            let listed = try TestSupport.shell("cd '\(try lab.mountpoint(name))/names' && ls | od -An -c").stdout
            #expect(listed.contains("377 376"), "\(listed)")
        }
    }

    /// The case: `volumes restore postgresql --from pg.zst` once the volume is gone,
    /// with no container left to name the project.
    @Test func aRemovedVolumeIsRestoredByItsShortName() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            let digest = try Lab.treeDigest(lab.mountpoint(name))
            try host.stop(installation, timeout: 10)
            let directory = try TestSupport.temporaryDirectory("cwmigrate-short")
            defer { try? FileManager.default.removeItem(at: directory) }
            let snapshot = try cwmigrate(
                ["volumes", "snapshot", "service-manager", "--output", "sm.zst"], in: directory)
            #expect(snapshot.status == 0, "\(snapshot.stderr)")
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let removed = try cwmigrate(
                ["volumes", "remove", "service-manager", "--project", lab.project, "--snapshot", "sm.zst", "--yes"],
                in: directory)
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try lab.volumeExists(name) == false)
            let restored = try cwmigrate(
                ["volumes", "restore", "service-manager", "--from", "sm.zst", "--yes"], in: directory)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(restored.stdout.hasPrefix("restored:  \(name) from sm.zst"), "\(restored.stdout)")
            #expect(try Lab.treeDigest(lab.mountpoint(name)) == digest)
        }
    }

    @Test func aSnapshotOlderThanAChangeInTheVolumeIsNotRemovedWithoutForce() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let installation = try host.discover()
            let name = "\(lab.project)_service-manager"
            try host.stop(installation, timeout: 10)
            try host.removeContainers(installation)
            defer { try? lab.startAgain(host) }
            let directory = try TestSupport.temporaryDirectory("cwmigrate-stale")
            defer { try? FileManager.default.removeItem(at: directory) }
            try host.snapshotVolume(name, to: directory.path + "/sm.zst", connectwareVersion: nil)
            try TestSupport.shell("printf 'written after' > '\(try lab.mountpoint(name))/later.txt'")
            let remove = [
                "volumes", "remove", "service-manager", "--project", lab.project, "--snapshot", "sm.zst", "--yes",
            ]
            let refused = try cwmigrate(remove, in: directory)
            #expect(refused.status == 65, "\(refused.stderr)")
            #expect(
                refused.stderr.hasPrefix(
                    "error: sm.zst is older than what volume \(name) holds now: /later.txt changed at"),
                "\(refused.stderr)")
            #expect(refused.stderr.contains("hint: take a new snapshot now"), "\(refused.stderr)")
            #expect(try lab.volumeExists(name))
            // A run's remove step asks the same library check.
            let volume = try #require(try host.discover(project: lab.project).volume(named: name))
            let manifest = try ConnectwareHost.verifySnapshot(at: directory.path + "/sm.zst", volume: name)
            #expect {
                try host.checkSnapshotHolds(volume, manifest: manifest, snapshot: directory.path + "/sm.zst")
            } throws: { error in
                guard case .snapshotOutdated = error as? DockerOpsError else { return false }
                return true
            }
            let forced = try cwmigrate(remove + ["--force"], in: directory)
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(try lab.volumeExists(name) == false)
            try host.restoreVolume(name, from: directory.path + "/sm.zst")
            try TestSupport.shell("test ! -e '\(try lab.mountpoint(name))/later.txt'")
        }
    }

    /// A local volume with `o=bind` is empty at its mount point while no container uses it;
    /// its files are read through a container, and its options come back on restore.
    @Test func aVolumeWithDriverOptionsIsSnapshotThroughAContainerAndRecreatedWithItsOptions() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let source = lab.directory + "/bind-source-\(UUID().uuidString.prefix(6))"
            let name = "bindcheck_service-manager"
            try TestSupport.shell(
                "mkdir -p '\(source)/sub' && printf 'kept elsewhere' > '\(source)/sub/data.txt' && printf 'PG' > '\(source)/top'"
            )
            defer { _ = try? TestSupport.shell("rm -rf '\(source)'") }
            _ = try docker(
                lab,
                "volume create --driver local -o type=none -o o=bind -o device='\(source)' "
                    + "--label com.docker.compose.project=bindcheck --label com.docker.compose.volume=service-manager \(name)"
            )
            defer { _ = try? docker(lab, "volume rm -f \(name)") }
            let digest = try Lab.treeDigest(source)
            let file = try TestSupport.temporaryDirectory("cwmigrate-bind").appendingPathComponent("b.zst").path
            #expect {
                try host.snapshotVolume(name, to: file, connectwareVersion: nil, access: .mountpoint)
            } throws: { error in
                guard case .mountpointUnreachable(_, _, let message) = error as? DockerOpsError else { return false }
                return message.contains("o=bind")
            }
            let manifest = try host.snapshotVolume(name, to: file, connectwareVersion: nil)
            #expect(manifest.files == 2)
            #expect(manifest.options == ["type": "none", "o": "bind", "device": source])
            try host.removeVolume(name, snapshot: file, policy: VolumePolicy(removable: ["service-manager"]))
            #expect(try lab.volumeExists(name) == false)
            // Its files are in the verified snapshot: the removal empties the directory that
            // kept them, so the restore into the volume made again there finds it empty.
            #expect(try FileManager.default.contentsOfDirectory(atPath: source).isEmpty)
            try host.restoreVolume("service-manager", from: file, project: "bindcheck")
            #expect(try docker(lab, "volume inspect -f '{{json .Options}}' \(name)").contains("\"o\":\"bind\""))
            #expect(try Lab.treeDigest(source) == digest)
        }
    }

    @Test func aPostgreSQLSnapshotWithoutADataDirectoryIsNotValidForRemoval() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let name = "pgcheck_postgresql"
            _ = try docker(
                lab,
                "volume create --label com.docker.compose.project=pgcheck --label com.docker.compose.volume=postgresql \(name)"
            )
            defer { _ = try? docker(lab, "volume rm -f \(name)") }
            try TestSupport.shell("printf 'not a database' > '\(try lab.mountpoint(name))/notes.txt'")
            let file = try TestSupport.temporaryDirectory("cwmigrate-pg").appendingPathComponent("pg.zst").path
            try host.snapshotVolume(name, to: file, connectwareVersion: nil)
            #expect(throws: DockerOpsError.notAPostgreSQLSnapshot(volume: name, path: file)) {
                try host.removeVolume(name, snapshot: file, policy: .vendorDefault)
            }
            #expect(try lab.volumeExists(name))
            try TestSupport.shell("printf '15\\n' > '\(try lab.mountpoint(name))/PG_VERSION'")
            let good = file + ".2"
            try host.snapshotVolume(name, to: good, connectwareVersion: nil)
            try host.removeVolume(name, snapshot: good, policy: .vendorDefault)
            #expect(try lab.volumeExists(name) == false)
        }
    }

    @Test func aBindMountWhereThePlanExpectsAVolumeIsRefusedAndTheLabsOwnVolumesPass() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let source = lab.directory + "/bind-pg-\(UUID().uuidString.prefix(6))"
            try TestSupport.shell("mkdir -p '\(source)'")
            defer { _ = try? TestSupport.shell("rm -rf '\(source)'") }
            let image = try docker(lab, "images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -1")
            let container = "bindproj-postgresql-\(UUID().uuidString.prefix(6).lowercased())"
            _ = try docker(
                lab,
                "create --name \(container) --label io.cybus.connectware=core --label com.docker.compose.project=bindproj "
                    + "--label com.docker.compose.service=postgresql -v '\(source)':/var/lib/postgresql/data '\(image)' true"
            )
            defer { _ = try? docker(lab, "rm -f \(container)") }
            #expect(
                throws: DockerOpsError.bindMountAtVolume(
                    volume: "bindproj_postgresql", container: container, source: source,
                    destination: "/var/lib/postgresql/data")
            ) {
                try host.refuseBindMounts(project: "bindproj", volumes: ["postgresql", "service-manager"])
            }
            try host.refuseBindMounts(project: lab.project, volumes: ["postgresql", "service-manager"])
        }
    }
}
