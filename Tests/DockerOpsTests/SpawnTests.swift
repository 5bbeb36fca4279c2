@testable import DockerOps
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How the installer and compose are started (posix_spawn, no Foundation `Process`); the
/// parent-death and deadline behaviour built on it is in ChildProgramTests, with the lab.
@Suite("starting a child program")
struct SpawnTests {
    func run(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"], in directory: String? = nil)
        throws -> (status: Int32, output: String)
    {
        let (status, output) = try spawnCollectingOutput(
            ["/bin/sh", "-c", script], environment: environment, directory: directory)
        return (status, String(decoding: output, as: UTF8.self))
    }

    @Test func aChildsStandardOutputAndErrorComeBackTogetherWithItsExitCode() throws {
        let result = try run("echo out; echo err >&2; exit 3")
        #expect(result.status == 3)
        #expect(result.output == "out\nerr\n")
    }

    @Test func aChildRunsInTheGivenDirectoryWithOnlyTheGivenEnvironment() throws {
        let result = try run("pwd; env | sort", environment: ["PATH": "/usr/bin:/bin", "CWM_X": "a b=c"], in: "/tmp")
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("/tmp\n"))
        #expect(result.output.contains("CWM_X=a b=c\n"))
        #expect(!result.output.contains("HOME="))
    }

    @Test func aChildReadsNothingHoldsNoDescriptorOfOursAndBlocksNoSignal() throws {
        // fds in the listing: 0, 1, 2 and the one ls opens for /proc/self/fd itself.
        let result = try run("cat; ls /proc/self/fd | sort -n | tr '\\n' ' '; grep '^SigBlk' /proc/self/status")
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("0 1 2 3 SigBlk:"))
        #expect(result.output.contains("SigBlk:\t0000000000000000"))
    }

    @Test func aChildRunsInAProcessGroupOfItsOwn() throws {
        let result = try run("ps -o pgid= -p $$; echo $$")
        let numbers = result.output.split(whereSeparator: \.isWhitespace)
        #expect(numbers.count == 2)
        #expect(numbers.first == numbers.last)
        #expect(numbers.first != Substring(String(getpgrp())))
    }

    @Test func aChildEndedByASignalReportsTheSignalsNumber() throws {
        #expect(try run("kill -KILL $$").status == SIGKILL)
    }

    @Test func aProgramThatCannotBeStartedIsAnErrorNotACrash() {
        #expect(throws: SpawnFailure.self) {
            try spawnCollectingOutput(["/nonexistent/program"], environment: [:], directory: nil)
        }
    }
}
