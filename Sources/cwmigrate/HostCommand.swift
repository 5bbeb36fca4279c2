import Application
import ArgumentParser
import DockerOps

struct HostCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Show the Connectware installation on this Docker host.",
        discussion: Help.host)

    @OptionGroup var docker: DockerOptions

    @OptionGroup var json: JSONFlag

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        let installation = try ConnectwareHost().discover(project: docker.project, includeSizes: true)
        console.out(lines: json.requested ? [try installation.hostJSON()] : installation.summaryLines)
        if let warning = installation.mixedVersionsWarning { console.warning(warning) }
        return ExitStatus.ok
    }
}
