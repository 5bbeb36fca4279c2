import Foundation
import TestSupport
import Testing

private let cwmigrate = TestSupport.product("cwmigrate")

/// What an operator sees when a command line is wrong: the tool's own `error:` and `hint:`
/// lines and exit 64, never ArgumentParser's `Error:` with a usage dump.
@Suite("The command line as operators expect it")
struct CommandLineTests {
    private func run(_ arguments: [String]) throws -> ProgramResult {
        try TestSupport.run(cwmigrate, arguments, environment: ["CWMIGRATE_PASSWORD": "unused"])
    }

    @Test("an unknown option is one error line in the tool's form, exit 64")
    func unknownOption() throws {
        let result = try run(["-v"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: unknown option '-v'\n"))
        #expect(!result.stderr.contains("Error:"))
        #expect(!result.stderr.contains("Usage:"))
    }

    @Test("--quiet says only the final result: no note, no diagnostics, the same exit code")
    func quietSaysOnlyTheResult() throws {
        let plan = ["plan", "--backup-version", "1.0.73", "--running", "1.8.0", "--compat", TestSupport.exampleCompat]
        let loud = try run(plan)
        #expect(loud.status == 3)
        #expect(loud.stderr.contains("note: an EXAMPLE barrier"))
        let quiet = try run(plan + ["--quiet"])
        #expect(quiet.status == 3)
        #expect(quiet.stderr == "")
        #expect(quiet.stdout.hasPrefix("Decision: downgrade-required\n"))
        let example = TestSupport.packageRoot.appendingPathComponent(
            "examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
        let inspected = try run(["inspect", example.path, "-q"])
        #expect(inspected.status == 0)
        #expect(inspected.stdout == "verified:  no (use --verify)\n")
        #expect(inspected.stderr == "")
    }

    @Test("--quiet still says an error and its hint")
    func quietStillSaysErrors() throws {
        let result = try run(["inspect", "/nonexistent/backup.tgz", "--quiet"])
        #expect(result.status == 66)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("error: /nonexistent/backup.tgz"))
    }

    @Test("--quiet and --verbose together are a usage error")
    func quietAndVerboseTogether() throws {
        let result = try run(["inspect", "backup.tgz", "--quiet", "--verbose"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: give --quiet or --verbose, not both\n"))
    }

    @Test("a mistyped command names the command that was probably meant")
    func mistypedCommand() throws {
        let result = try run(["inpsect", "backup.tgz"])
        #expect(result.status == 64)
        #expect(result.stderr == "error: 'inpsect' is not a command of cwmigrate\nhint: did you mean 'cwmigrate inspect'?\n")
    }

    @Test("a mistyped subcommand of volumes is found among the subcommands of volumes")
    func mistypedNestedCommand() throws {
        let result = try run(["volumes", "snapshott", "postgresql"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("hint: did you mean 'cwmigrate volumes snapshot'?"))
    }

    @Test("a mistyped option is reported as itself, not as the option it failed to give")
    func mistypedOption() throws {
        let result = try run(["plan", "--backup-version", "1.0.73", "--runing", "1.8.0"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: unknown option '--runing'\n"))
        #expect(result.stderr.contains("hint: did you mean '--running'?"))
        #expect(!result.stderr.contains("missing"))
    }

    @Test("a missing option is named, with the command's help as the hint")
    func missingOption() throws {
        let result = try run(["plan", "--backup-version", "1.0.73"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: missing expected argument '--running <running>'\n"))
        #expect(result.stderr.contains("hint: see 'cwmigrate plan --help'"))
    }

    @Test("a value that is not a version is a usage error in the same form")
    func badValue() throws {
        let result = try run(["plan", "--backup-version", "1.0", "--running", "1.8.0"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: --backup-version: '1.0' is not a version"))
    }

    @Test("help for a command that does not exist is an error, exit 64")
    func helpForUnknownCommand() throws {
        let result = try run(["help", "nonexist"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: 'nonexist' is not a command of cwmigrate\n"))
        #expect(result.stdout.isEmpty)
    }

    @Test("help for a command that exists prints its help on stdout and exits 0")
    func helpForACommand() throws {
        let result = try run(["help", "volumes", "snapshot"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: cwmigrate volumes snapshot"))
        let version = try run(["--version"])
        #expect(version.status == 0)
        #expect(!version.stdout.isEmpty)
    }

    @Test(
        "help texts wrap as whole paragraphs, with no line cut to a word or two",
        arguments: ["plan", "restore", "migrate", "rollback", "runbook", "backup", "runs"])
    func helpWrapsWholeParagraphs(command: String) throws {
        let result = try TestSupport.run(cwmigrate, ["help", command], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        let discussion = result.stdout.components(separatedBy: "USAGE:").first ?? ""
        let paragraphs = discussion.components(separatedBy: "\n\n")
        for paragraph in paragraphs {
            let lines = paragraph.split(separator: "\n")
            // Only a paragraph's last line may be short.
            for line in lines.dropLast() {
                #expect(line.count > 50, "a line cut short in `cwmigrate help \(command)`: \(line)")
            }
        }
    }

    /// Asks the bash completion script cwmigrate generates for the words that complete `line`,
    /// in a directory holding a backup, a text file and a folder.
    private func bashCompletions(_ words: [String]) throws -> [String] {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = try run(["--generate-completion-script", "bash"])
        try script.stdout.write(to: directory.appendingPathComponent("cwmigrate.bash"), atomically: true, encoding: .utf8)
        for name in ["backup-1.0.73.tgz", "notes.txt", "compat.yml"] {
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data())
        }
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let result = try TestSupport.shell(
            """
            source ./cwmigrate.bash
            COMP_WORDS=(\(quoted) ''); COMP_CWORD=\(words.count)
            COMP_LINE='\(words.joined(separator: " ")) '; COMP_POINT=${#COMP_LINE}
            _cwmigrate cwmigrate '' '\(words.last ?? "")'
            printf '%s\\n' "${COMPREPLY[@]}"
            """, in: directory)
        return result.stdout.split(separator: "\n").map(String.init).sorted()
    }

    @Test("completion offers backup archives for inspect FILE and --backup, and YAML files for --compat")
    func completionOffersFiles() throws {
        #expect(try bashCompletions(["cwmigrate", "inspect"]) == ["backup-1.0.73.tgz"])
        #expect(try bashCompletions(["cwmigrate", "plan", "--backup"]) == ["backup-1.0.73.tgz"])
        #expect(try bashCompletions(["cwmigrate", "runbook", "--compat"]) == ["compat.yml"])
    }

    @Test("-y and -o are the short forms of --yes and --output")
    func shortFlags() throws {
        for command in [["migrate"], ["restore"], ["rollback"], ["volumes", "restore"], ["volumes", "remove"]] {
            let help = try run(["help"] + command)
            #expect(help.stdout.contains("-y, --yes"), "cwmigrate \(command.joined(separator: " ")) has no -y")
        }
        for command in [["backup"], ["runbook"], ["volumes", "snapshot"]] {
            let help = try run(["help"] + command)
            #expect(help.stdout.contains("-o, --output"), "cwmigrate \(command.joined(separator: " ")) has no -o")
        }
    }

    @Test("a host name that does not resolve is named as curl names it, not as a bad libcurl argument")
    func unresolvableHost() throws {
        // A private resolver on loopback with nothing behind it, in a mount namespace of the test's
        // own, so the lookup fails here and no query leaves the machine.
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let resolver = directory.appendingPathComponent("resolv.conf")
        try "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".write(to: resolver, atomically: true, encoding: .utf8)
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/unshare"),
            [
                "-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" status --url https://connectware.plant.invalid",
                resolver.path, cwmigrate.path,
            ],
            environment: ["CWMIGRATE_PASSWORD": "unused", "CWMIGRATE_TOKEN": ""])
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.contains("error: could not resolve the host of https://connectware.plant.invalid"))
        #expect(result.stderr.contains("connectware.plant.invalid"))
        #expect(!result.stderr.contains("bad argument"))
        #expect(!result.stderr.contains("curl error 43"))
    }

    @Test("rollback does not accept --initial-password-file, which only migrate uses")
    func rollbackRefusesTheInitialPasswordOption() throws {
        let result = try run(["rollback", "--initial-password-file", "x", "--yes"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: unknown option '--initial-password-file'\n"))
        #expect(!result.stderr.contains("Error:"))
        let migrate = try run(["migrate", "--help"])
        #expect(migrate.stdout.contains("--initial-password-file"))
        let rollback = try run(["rollback", "--help"])
        #expect(rollback.stdout.contains("--backup-password-file"))
    }

    @Test("every option is declared once: the shared ones read the same in each command's help")
    func sharedOptionsReadTheSameEverywhere() throws {
        let plan = try run(["plan", "--help"]).stdout
        let runbook = try run(["runbook", "--help"]).stdout
        let restore = try run(["restore", "--help"]).stdout
        let line = "The version of the running Connectware, e.g. 1.8.0."
        #expect(plan.contains(line) && runbook.contains(line) && restore.contains(line))
        // Help wraps long texts: compared with the blanks and line breaks made one.
        func flat(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        let migrate = try run(["migrate", "--help"]).stdout
        let backup = "The backup archive (.tgz) to restore (migrate: not needed with --resume or --plan)."
        #expect(flat(plan).contains(backup) && flat(runbook).contains(backup) && flat(migrate).contains(backup))
        let snapshot = try run(["volumes", "snapshot", "--help"]).stdout
        let restoreVolume = try run(["volumes", "restore", "--help"]).stdout
        let access = "How the volume's files are read or written: automatic, mountpoint or helper-container."
        #expect(flat(snapshot).contains(access) && flat(restoreVolume).contains(access))
        #expect(runbook.contains("markdown, html or ansible."))
        #expect(try run(["report", "--help"]).stdout.contains("html, markdown or json."))
    }

    @Test("runbook without --backup names the missing option, exit 64")
    func runbookNeedsItsBackup() throws {
        let result = try run(["runbook", "--running", "1.8.0"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: missing expected argument '--backup <backup>'\n"))
        #expect(result.stderr.contains("hint: see 'cwmigrate runbook --help'"))
    }

    @Test("a number of seconds that is not positive is named with its option, exit 64, nothing asked")
    func secondsMustBePositive() throws {
        let cases: [([String], String)] = [
            (["backup", "--timeout", "0"], "--timeout"),
            (["restore", "b.tgz", "--unanswered-timeout", "0"], "--unanswered-timeout"),
            (["migrate", "--backup", "b.tgz", "--stop-timeout", "0"], "--stop-timeout"),
            (["rollback", "--healthy-timeout", "0"], "--healthy-timeout"),
            (["backup", "--wait-running", "0"], "--wait-running"),
        ]
        for (arguments, option) in cases {
            let result = try run(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.hasPrefix("error: \(option) must be a positive number of seconds\n"), "\(arguments)")
        }
    }

    @Test("--docker-host takes what DOCKER_HOST takes: a unix socket by its absolute path; anything else is exit 64")
    func dockerHostIsAnAbsoluteUnixSocket() throws {
        for value in ["tcp://127.0.0.1:2375", "unix://docker.sock", "unix://", "/var/run/docker.sock"] {
            for command in [["rollback"], ["migrate", "--backup", "b.tgz"]] {
                let result = try run(command + ["--docker-host", value])
                #expect(result.status == 64, "\(command) \(value)")
                #expect(
                    result.stderr.hasPrefix("error: --docker-host must be unix:///path/to/docker.sock, not \(value)\n"),
                    "\(command) \(value): \(result.stderr)")
            }
        }
    }

    @Test("volumes snapshot without --output names the missing option, exit 64")
    func snapshotNeedsItsOutput() throws {
        let result = try run(["volumes", "snapshot", "postgresql"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: missing expected argument '--output <path>'\n"))
    }
}
