import ArgumentParser

@main
struct CWMigrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cwmigrate",
        abstract: "Bring a Connectware backup back when a newer Connectware refuses it.",
        discussion: """
            Inspects backup archives, decides whether the running Connectware can restore
            them, and prints the vendor's cross-version procedure as a step plan.
            Exit codes are listed in the README.
            """,
        version: BuildInfo.version,
        subcommands: [
            Inspect.self, PlanCommand.self, StatusCommand.self, BackupCommand.self, RestoreCommand.self,
            HostCommand.self, VolumesCommand.self, MigrateCommand.self, RollbackCommand.self, RunbookCommand.self,
            RunsCommand.self, VersionCommand.self,
        ])
}
