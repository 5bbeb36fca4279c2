import Application
import ArgumentParser

/// `cwmigrate status`: the last backup and restore, readable at a glance.
struct StatusCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show Connectware's last backup and restore, and whether one is running.")

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var json: JSONFlag

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let client = try connection.client(console)
        let status = try client.status()
        console.out(
            lines: json.requested
                ? [StatusReport.json(url: client.baseURL, status: status)]
                : StatusReport.lines(url: client.baseURL, status: status))
        return ExitStatus.ok
    }
}
