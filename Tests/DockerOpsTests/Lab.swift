import DockerOps
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The lab that `scripts/test` started (`scripts/lab up`), described by the lines it printed.
/// Tests that need Docker fail, never skip, when it is absent: they must not fall back to
/// any other daemon.
struct Lab {
    let dockerHost: String
    let directory: String
    let projectDirectory: String
    var project: String { (projectDirectory as NSString).lastPathComponent }

    static func require() throws -> Lab {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["DOCKER_HOST"], host.hasPrefix("unix://"),
            let directory = environment["CWMIGRATE_LAB_DIR"], !directory.isEmpty
        else {
            throw LabMissing()
        }
        let project = environment["CWMIGRATE_LAB_PROJECT_DIR"] ?? directory + "/connectware"
        // Only the lab's own daemon: its socket lives in the lab's directory.
        guard host.hasPrefix("unix://" + directory) else {
            throw LabMissing(detail: "DOCKER_HOST \(host) is not the lab's socket")
        }
        return Lab(dockerHost: host, directory: directory, projectDirectory: project)
    }

    func host() throws -> ConnectwareHost {
        try ConnectwareHost(environment: ProcessInfo.processInfo.environment)
    }

    /// `scripts/lab` of this package (or CWMIGRATE_LAB_SCRIPT).
    var script: URL {
        if let path = ProcessInfo.processInfo.environment["CWMIGRATE_LAB_SCRIPT"] { return URL(fileURLWithPath: path) }
        return TestSupport.packageRoot.appendingPathComponent("scripts/lab")
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> ProgramResult {
        let result = try TestSupport.run(script, arguments)
        guard result.status == 0 else {
            throw LabMissing(
                detail: "scripts/lab \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result
    }

    /// The version in the compose file's image tags, read without DockerOps.
    func composeVersion() throws -> String {
        let text = try String(contentsOfFile: projectDirectory + "/docker-compose.yml", encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.contains("/cybus/postgresql:") && $0.contains("image: ") }
        return line.map { String($0.split(separator: ":").last ?? "") } ?? ""
    }

    /// A digest of a directory tree made by GNU find and sha256sum: names, types, modes,
    /// owners, sizes, symlink targets, mtimes of non-directories (to the second: tar's ustar
    /// headers keep whole seconds), and every file's bytes.
    static func treeDigest(_ directory: String) throws -> String {
        let script = """
            cd '\(directory)' && { find . -printf '%p %y %m %U %G %s %l\\n' | LC_ALL=C sort; \
            find . ! -type d -printf '%p %Ts\\n' | LC_ALL=C sort; \
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum; } | sha256sum | cut -d' ' -f1
            """
        return try TestSupport.shell(script).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func mountpoint(_ volume: String) throws -> String {
        try TestSupport.shell("DOCKER_HOST='\(dockerHost)' docker volume inspect -f '{{.Mountpoint}}' '\(volume)'")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func volumeExists(_ volume: String) throws -> Bool {
        try TestSupport.shell("DOCKER_HOST='\(dockerHost)' docker volume ls -q").stdout
            .split(separator: "\n").contains { $0 == volume }
    }

    /// Brings Connectware back up and waits for the maintenance API, for the next test.
    func startAgain(_ host: ConnectwareHost) throws {
        try host.start(project: project, directory: projectDirectory)
        try host.waitUntilHealthy(project: project, within: 180) {
            (try? TestSupport.run(script, ["wait", "2"]))?.status == 0
        }
    }

    /// Holds the lab for one test across suites and test processes (flock on a file in the lab).
    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try TestSupport.holdingLabLock(directory, body)
    }

    /// `exclusively`, off the test runner's cooperative threads (see `TestSupport.offThePool`).
    func exclusively<T>(_ body: () throws -> T) async throws -> T {
        try await TestSupport.holdingLabLock(directory, body)
    }
}

struct LabMissing: Error, CustomStringConvertible {
    var detail = "DOCKER_HOST and CWMIGRATE_LAB_DIR are not set"
    var description: String {
        "this test needs the lab's Docker daemon (\(detail)): run it through scripts/test, "
            + "or export the lines `scripts/lab up` prints"
    }
}
