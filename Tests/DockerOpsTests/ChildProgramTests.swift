@testable import DockerOps
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The installer and compose run as children that never outlive cwmigrate, nor does
/// anything they start; and they have a deadline. Running a program never calls the Engine,
/// so these tests need no Docker daemon (and no lab).
@Suite("installer and compose children", .serialized)
struct ChildProgramTests {
    static let markerVariable = "CWMIGRATE_TEST_GRANDCHILD_FILE"

    /// `runProgram` as an install runs it, with this process's environment.
    static func runProgram(_ arguments: [String], deadline: Int = ConnectwareHost.programDeadlineSeconds) throws {
        try ConnectwareHost.runProgram(
            arguments, in: nil, environment: ProcessInfo.processInfo.environment, deadline: deadline)
    }

    /// The child's part (only when the test below starts it): a program that starts a
    /// grandchild and waits, as an installer waits for `docker compose`.
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment[ChildProgramTests.markerVariable] != nil,
            "the child process of the test below; it runs only when that test starts it"))
    func childRunsAProgramThatStartsAnother() throws {
        let file = try #require(ProcessInfo.processInfo.environment[Self.markerVariable])
        try Self.runProgram(["sh", "-c", "sleep 300 & echo $! > '\(file)'; wait"])
    }

    @Test func whenCwmigrateIsKilledTheProgramsGrandchildrenDieWithIt() throws {
        let directory = try TestSupport.temporaryDirectory("cwmigrate-children")
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("grandchild.pid").path
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "childRunsAProgramThatStartsAnother"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.markerVariable: marker]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer {
            if child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
        }
        var grandchild: Int32?
        for _ in 0..<1200 where grandchild == nil && child.isRunning {
            grandchild = (try? String(contentsOfFile: marker, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            usleep(50_000)
        }
        let pid = try #require(grandchild, "the program never started its grandchild")
        #expect(kill(pid, 0) == 0)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        var gone = false
        for _ in 0..<100 where !gone {
            // Gone, or dead and waiting to be reaped by whoever inherited it.
            gone = (kill(pid, 0) != 0 && errno == ESRCH) || Self.isZombie(pid)
            if !gone { usleep(50_000) }
        }
        #expect(gone, "the grandchild \(pid) outlived the killed process by 5 s")
        if !gone { kill(pid, SIGKILL) }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    @Test func aProgramThatOutlivesItsDeadlineIsStoppedWithOneClearFailure() throws {
        let began = Date()
        #expect {
            try Self.runProgram(["sleep", "60"], deadline: 1)
        } throws: { error in
            guard case DockerOpsError.programFailed("sleep 60", 124, let output) = error else { return false }
            return output == "it did not finish within 1 s and was stopped, with every process it started"
        }
        #expect(Date().timeIntervalSince(began) < 20)
    }
}
