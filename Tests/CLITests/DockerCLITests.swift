import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `cwmigrate host` and `cwmigrate volumes`, run as the operator runs them. Tests that need
/// Docker use the lab's daemon that scripts/test started, and fail without it.
@Suite("cwmigrate host and volumes", .serialized)
struct DockerCLITests {
    let dir: URL
    init() throws { dir = try TestSupport.temporaryDirectory("cwmigrate-docker-cli") }

    struct LabEnvironment {
        let directory: String
        let project: String
    }

    func lab() throws -> LabEnvironment {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["DOCKER_HOST"], let directory = environment["CWMIGRATE_LAB_DIR"],
            host.hasPrefix("unix://" + directory)
        else {
            throw LabRequired()
        }
        let projectDirectory = environment["CWMIGRATE_LAB_PROJECT_DIR"] ?? directory + "/connectware"
        return LabEnvironment(directory: directory, project: (projectDirectory as NSString).lastPathComponent)
    }

    /// One test at a time on the lab, across suites and processes (the lab's test.lock).
    func exclusively<T>(_ lab: LabEnvironment, _ body: () throws -> T) throws -> T {
        try TestSupport.holdingLabLock(lab.directory, body)
    }

    /// `exclusively`, off the test runner's cooperative threads (see `TestSupport.offThePool`).
    func exclusively<T>(_ lab: LabEnvironment, _ body: () throws -> T) async throws -> T {
        try await TestSupport.holdingLabLock(lab.directory, body)
    }

    func cwmigrate(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
        try TestSupport.run(
            TestSupport.product("cwmigrate"), arguments, environment: environment, currentDirectory: dir)
    }

    func sh(_ script: String) throws -> String {
        try TestSupport.shell("set -euo pipefail\n" + script, in: dir).stdout
    }

    /// A snapshot file claiming to be of `volume`, made from a small directory.
    func snapshot(of volume: String, named name: String) throws -> String {
        _ = try sh("mkdir -p src-\(name)/sub && printf 'state' > src-\(name)/sub/state.json")
        let result = try cwmigrate([
            "volumes", "snapshot", volume, "--directory", dir.path + "/src-\(name)", "--output", name,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        return dir.path + "/" + name
    }

    @Test func hostPrintsTheLabsProjectDirectoryVersionServicesAndVolumes() async throws {
        let lab = try lab()
        let result = try await exclusively(lab) { try cwmigrate(["host"]) }
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("project:   \(lab.project)"))
        #expect(lines.contains { $0.hasPrefix("directory: /") && $0.hasSuffix("/\(lab.project)") })
        let version = try #require(lines.first { $0.hasPrefix("version:") }).split(separator: " ").last.map(String.init)
        #expect(version.flatMap { Int($0.prefix(1)) } != nil)
        #expect(lines.contains { $0.contains("postgresql") && $0.contains("running") })
        #expect(lines.contains { $0.contains("\(lab.project)_certs") })
    }

    @Test func hostJSONCarriesTheSameFacts() async throws {
        let lab = try lab()
        let result = try await exclusively(lab) { try cwmigrate(["host", "--json"]) }
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["project"] as? String == lab.project)
        // The one version the services agree on, the same the image tags carry.
        let version = try #require(object["version"] as? String)
        let tags = try #require(object["imageVersions"] as? [String: Any])
        #expect(Array(tags.keys) == [version])
        let containers = try #require(object["containers"] as? [[String: Any]])
        #expect(containers.contains { $0["service"] as? String == "postgresql" })
        let volumes = try #require(object["volumes"] as? [[String: Any]])
        #expect(volumes.contains { $0["name"] as? String == "\(lab.project)_postgresql" && $0["sizeBytes"] is Int })
    }

    @Test func hostWithoutADaemonExits69WithOneErrorLineAndAHint() throws {
        let result = try cwmigrate(["host"], environment: ["DOCKER_HOST": "unix://\(dir.path)/nobody.sock"])
        #expect(result.status == 69)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("error: the Docker Engine does not answer on \(dir.path)/nobody.sock") == true)
        #expect(lines.last?.hasPrefix("hint: ") == true)
        #expect(result.stdout.isEmpty)
    }

    @Test(.timeLimit(.minutes(5)))
    func aDaemonThatAcceptsAndNeverAnswersEndsHostWithinItsDeadlineWithOneErrorLineNamingTheCall() async throws {
        let socket = dir.appendingPathComponent("silent.sock").path
        let server = try SilentSocketServer(socket: socket, log: dir.appendingPathComponent("silent.log"))
        defer { server.stop() }
        // Timed on the thread that waits: resuming the test may wait for a cooperative thread.
        let (result, took) = try await TestSupport.offThePool {
            let started = Date()
            let result = try cwmigrate(["host"], environment: ["DOCKER_HOST": "unix://\(socket)"])
            return (result, Date().timeIntervalSince(started))
        }
        #expect(result.status == 69)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "error: the Docker Engine on \(socket) did not answer GET /version within 30 s")
        #expect(lines.last?.hasPrefix("hint: ") == true)
        #expect(took >= 29 && took < 60)
    }

    @Test func hostWithATCPDockerHostSaysItIsNotSupportedYet() throws {
        let result = try cwmigrate(["host"], environment: ["DOCKER_HOST": "tcp://127.0.0.1:2375"])
        #expect(result.status == 78)
        #expect(result.stderr.hasPrefix("error: DOCKER_HOST=tcp://127.0.0.1:2375 is not supported yet"))
    }

    @Test func aDirectorySnapshotIsReadBackByInspectWithItsVersionAndChecksum() throws {
        _ = try sh("mkdir -p data/base && head -c 2000000 /dev/urandom > data/base/1 && ln -s base/1 data/link")
        let result = try cwmigrate([
            "volumes", "snapshot", "connectware_postgresql", "--directory", dir.path + "/data", "--output",
            "pg.tar.zst",
            "--connectware-version", "1.7.3",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let sha = try sh("cut -d' ' -f1 pg.tar.zst.sha256").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stdout.contains("sha256:    \(sha)"))
        #expect(try sh("sha256sum pg.tar.zst | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines) == sha)
        let inspect = try cwmigrate(["inspect", "--verify", "--json", "pg.tar.zst"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(facts["version"] as? String == "1.7.3")
        #expect(facts["sha256"] as? String == sha)
    }

    @Test func aSnapshotNeverOverwritesAFileAndExits73() throws {
        _ = try sh("mkdir -p data && echo x > data/x && echo keep > taken.tar.zst")
        let result = try cwmigrate([
            "volumes", "snapshot", "v", "--directory", dir.path + "/data", "--output", "taken.tar.zst",
        ])
        #expect(result.status == 73)
        #expect(result.stderr.hasPrefix("error: taken.tar.zst already exists"))
        #expect(try sh("cat taken.tar.zst") == "keep\n")
    }

    @Test func restoreOffATerminalWithoutYesAsksForItAndTouchesNothing() async throws {
        let lab = try lab()
        let file = try snapshot(of: "\(lab.project)_service-manager", named: "sm.tar.zst")
        let result = try await exclusively(lab) { try cwmigrate(["volumes", "restore", "service-manager", "--from", file]) }
        #expect(result.status == 64)
        #expect(result.stderr.contains("hint: pass --yes"))
    }

    @Test func aRestoreReportsTheSnapshotVerifiedThenTheFilesWritten() async throws {
        let lab = try lab()
        _ = try sh("mkdir -p big/sub && head -c 20000000 /dev/urandom > big/sub/blob && printf x > big/small")
        let made = try cwmigrate([
            "volumes", "snapshot", "cwmigrate-progress-test", "--directory", dir.path + "/big", "--output",
            "big.tar.zst", "--progress", "none",
        ])
        #expect(made.status == 0, "\(made.stderr)")
        let result = try await exclusively(lab) { () throws -> ProgramResult in
            defer { _ = try? sh("docker volume rm cwmigrate-progress-test >/dev/null 2>&1 || true") }
            return try cwmigrate([
                "volumes", "restore", "cwmigrate-progress-test", "--from", "big.tar.zst", "--yes", "--progress", "json",
            ])
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("restored:  cwmigrate-progress-test from big.tar.zst\n"))
        let done = result.stderr.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["event"] as? String == "done" }
        #expect(done.map { $0["direction"] as? String } == ["verify", "restore-volume"])
        let archive = try FileManager.default.attributesOfItem(atPath: dir.path + "/big.tar.zst")[.size] as? Int
        #expect(done.first?["bytes"] as? Int == archive)
        #expect(done.last?["bytes"] as? Int == 20_000_001 && done.last?["total"] as? Int == 20_000_001)
    }

    @Test func restoreIntoAVolumeInUseExits75() async throws {
        let lab = try lab()
        let file = try snapshot(of: "\(lab.project)_service-manager", named: "sm.tar.zst")
        let result = try await exclusively(lab) {
            // No progress lines: the snapshot verifies, and then the one error line is all there is.
            try cwmigrate(["volumes", "restore", "service-manager", "--from", file, "--yes", "--progress", "none"])
        }
        #expect(result.status == 75)
        #expect(
            result.stderr.hasPrefix("error: refusing to touch volume \(lab.project)_service-manager: it is used by"))
    }

    @Test func aDamagedSnapshotIsRefusedWith65() async throws {
        let lab = try lab()
        let file = try snapshot(of: "\(lab.project)_service-manager", named: "sm.tar.zst")
        _ = try sh("printf 'XXXX' | dd of='\(file)' bs=1 seek=100 conv=notrunc status=none")
        let result = try await exclusively(lab) {
            try cwmigrate(["volumes", "restore", "service-manager", "--from", file, "--yes"])
        }
        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("error: refusing to rely on the snapshot \(file)"))
    }

    @Test func removingCertsIsRefusedWith77AndCertsStays() async throws {
        let lab = try lab()
        let file = try snapshot(of: "\(lab.project)_certs", named: "certs.tar.zst")
        let result = try await exclusively(lab) {
            try cwmigrate([
                "volumes", "remove", "certs", "--snapshot", file, "--removable", "certs,postgresql", "--yes",
            ])
        }
        #expect(result.status == 77)
        #expect(
            result.stderr.hasPrefix(
                "error: refusing to remove volume \(lab.project)_certs: it is not in the removable set"))
        let list = try await exclusively(lab) { try cwmigrate(["volumes", "list"]) }
        #expect(list.stdout.contains("\(lab.project)_certs"))
    }

    @Test func volumesListShowsTheProjectsVolumesAndTheirUsers() async throws {
        let lab = try lab()
        let result = try await exclusively(lab) { try cwmigrate(["volumes", "list"]) }
        #expect(result.status == 0, "\(result.stderr)")
        for short in ["postgresql", "service-manager", "certs"] {
            #expect(result.stdout.contains("\(lab.project)_\(short)"))
        }
        #expect(result.stdout.contains("used by"))
    }
}

struct LabRequired: Error, CustomStringConvertible {
    var description: String {
        "this test needs the lab's Docker daemon (DOCKER_HOST and CWMIGRATE_LAB_DIR): run it through scripts/test, "
            + "or export the lines `scripts/lab up` prints"
    }
}
