import Foundation
import TestSupport
import Testing

// cwmigrate opens libcurl at its first request (CCurl's loader). CWMIGRATE_LIBCURL names the
// file it opens instead of libcurl.so.4; pointed at a file that does not exist, the binary
// meets a host without libcurl. (PackageTests does the same with the artifact in a root that
// lacks the library.)

private let cwmigrate = TestSupport.product("cwmigrate")
private let example = TestSupport.packageRoot
    .appendingPathComponent("examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz").path

@Suite("cwmigrate on a host without libcurl")
struct LibcurlCLITests {
    let missing: [String: String] = ["CWMIGRATE_LIBCURL": "/nonexistent/libcurl.so.4", "NO_COLOR": "1"]

    /// The one `error:` line and one `hint:` line naming the package, and nothing of a crash.
    func expectLibcurlMissing(_ result: ProgramResult) {
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(result.status == 69, "\(result.stderr)")
        #expect(lines.count == 2, "\(result.stderr)")
        #expect(
            lines.first == "error: libcurl cannot be loaded: /nonexistent/libcurl.so.4: "
                + "cannot open shared object file: No such file or directory")
        #expect(lines.last == "hint: install libcurl4 (Ubuntu 24.04: libcurl4t64) on Debian/Ubuntu, libcurl on RHEL")
        #expect(result.stdout.isEmpty)
    }

    @Test("status says libcurl cannot be loaded, names the package and exits 69")
    func statusWithoutLibcurl() throws {
        // Nothing listens at port 9 (discard): were a request sent, the error would be another.
        let result = try TestSupport.run(
            cwmigrate, ["status", "--url", "https://127.0.0.1:9"],
            environment: missing.merging(["CWMIGRATE_PASSWORD": "unused", "CWMIGRATE_TOKEN": ""]) { $1 })
        expectLibcurlMissing(result)
    }

    @Test("a Docker command says the same, not that dockerd is down")
    func dockerWithoutLibcurl() throws {
        let result = try TestSupport.run(
            cwmigrate, ["volumes", "list"],
            environment: missing.merging(["DOCKER_HOST": "unix:///nonexistent/docker.sock"]) { $1 })
        expectLibcurlMissing(result)
    }

    @Test("inspect, plan and version need no libcurl")
    func offlineCommandsWithoutLibcurl() throws {
        let inspect = try TestSupport.run(cwmigrate, ["inspect", example], environment: missing)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("version:   1.0.73"))

        let plan = try TestSupport.run(
            cwmigrate, ["plan", "--backup", example, "--running", "1.8.0"], environment: missing)
        #expect([0, 3, 4].contains(plan.status), "\(plan.stderr)")
        #expect(plan.stdout.hasPrefix("Decision: "))

        let version = try TestSupport.run(cwmigrate, ["version", "--json"], environment: missing)
        #expect(version.status == 0, "\(version.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: Any])
        let curl = try #require(report["libcurl"] as? [String: Any])
        #expect(curl["version"] as? String == "not loaded")
        #expect((curl["unavailable"] as? String)?.hasPrefix("/nonexistent/libcurl.so.4: cannot open") == true)
    }

    @Test("with libcurl, version names its version and no reason")
    func versionWithLibcurl() throws {
        let version = try TestSupport.run(cwmigrate, ["version", "--json"])
        #expect(version.status == 0, "\(version.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: Any])
        let curl = try #require(report["libcurl"] as? [String: Any])
        #expect((curl["version"] as? String)?.first?.isNumber == true)
        #expect(curl["unavailable"] == nil)
    }
}
