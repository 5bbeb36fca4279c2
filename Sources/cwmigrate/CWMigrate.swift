import Application
import ArgumentParser
import Foundation

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
            Terminal().report(failure)
            Foundation.exit(failure.exitCode)
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let failure = CommandLineCheck(root: self).failure(
                for: message(for: error), exitCode: exitCode(for: error).rawValue, arguments: arguments)
            Terminal().report(failure)
            Foundation.exit(failure.exitCode)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
