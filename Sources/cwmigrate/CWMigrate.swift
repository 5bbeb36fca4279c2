import Application
import ArgumentParser
import FoundationEssentials
import Glibc
import Planner

@main
struct CWMigrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cwmigrate",
        abstract: "Bring a Connectware backup back when a newer Connectware refuses it.",
        discussion: Help.root,
        version: BuildInfo.version,
        subcommands: [
            Inspect.self, PlanCommand.self, StatusCommand.self, BackupCommand.self, RestoreCommand.self,
            HostCommand.self, VolumesCommand.self, MigrateCommand.self, RollbackCommand.self, RunbookCommand.self,
            RunsCommand.self, ReportCommand.self, VersionCommand.self,
        ])

    /// ArgumentParser's own `main`, except that a command line it cannot parse ends like every
    /// other error of cwmigrate: one `error:` line, a `hint:` (a suggestion for a mistyped command
    /// or option), exit 64.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let failure = CommandLineCheck(root: self).helpRequestFailure(arguments) {
            Console(environment: processEnvironment).report(failure)
            Glibc.exit(failure.exitCode)
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let failure = CommandLineCheck(root: self).failure(
                for: message(for: error), exitCode: exitCode(for: error).rawValue, arguments: arguments)
            Console(environment: processEnvironment).report(failure)
            Glibc.exit(failure.exitCode)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// The environment cwmigrate was started with.
var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

/// A command whose body runs on the console `--quiet` and `--verbose` ask for.
protocol ConsoleCommand: ParsableCommand {
    var global: GlobalOptions { get }

    /// The command's body; a non-zero result is its exit code.
    func run(on console: Console) throws -> Int32
}

extension ConsoleCommand {
    /// Runs the body on the console `--quiet` and `--verbose` ask for; every error ends in one
    /// `error:` line (plus a `hint:`) and its documented exit code.
    func run() throws {
        let console = Console(verbosity: global.verbosity, environment: processEnvironment)
        if console.verbosity == .verbose {
            CallLog.bootstrap { line in StandardIO().write(line + "\n", to: .errors) }
        }
        let code = console.exitCode(running: run(on:))
        if code != 0 { throw ExitCode(code) }
    }
}
