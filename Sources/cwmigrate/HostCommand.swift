import Application
import ArgumentParser
import DockerOps
import Foundation
import HTTP

struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Show the Connectware installation on this Docker host.",
        discussion: Help.host)

    @OptionGroup var docker: DockerOptions

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            let host = try ConnectwareHost()
            let installation = try host.discover(project: docker.project, includeSizes: true)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                terminal.out(String(decoding: try encoder.encode(HostJSON(installation: installation)), as: UTF8.self))
            } else {
                for line in installation.summaryLines { terminal.out(line) }
            }
            if installation.hasMixedVersions {
                terminal.warning("the services run different versions: " + installation.versionText)
            }
            return ExitStatus.ok
        }
    }
}

/// `host --json`: the installation as found, plus the one `version` its services agree on
/// (null when they disagree or show none), so a script need not reconcile `imageVersions`.
private struct HostJSON: Encodable {
    let installation: Installation
    private enum Key: String, CodingKey { case version }

    func encode(to encoder: any Encoder) throws {
        try installation.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(installation.version?.description, forKey: .version)
    }
}

extension Installation {
    var summaryLines: [String] {
        func row(_ label: String, _ value: String) -> String {
            label.padding(toLength: 11, withPad: " ", startingAt: 0) + value
        }
        var lines = [
            row("project:", project), row("directory:", workingDirectory ?? "unknown"),
            row("version:", version?.description ?? versionText),
            row("docker:", "Engine \(engineVersion), API \(apiVersion)"),
        ]
        if let unit = systemdUnit {
            lines.append(row("systemd:", "\(unit.path) (stopped and started with systemctl stop/start \(unit.name))"))
        }
        for (index, container) in containers.enumerated() {
            let state = container.state + (container.health.map { " (\($0))" } ?? "")
            lines.append(
                row(
                    index == 0 ? "services:" : "",
                    container.service.padding(toLength: 24, withPad: " ", startingAt: 0)
                        + state.padding(toLength: 20, withPad: " ", startingAt: 0) + container.image))
        }
        if containers.isEmpty { lines.append(row("services:", "none (no core containers)")) }
        for (index, volume) in volumes.enumerated() {
            let size = volume.sizeBytes.map(formatBytes) ?? "size unknown"
            let users = volume.usedBy.isEmpty ? "unused" : "used by " + volume.usedBy.joined(separator: ", ")
            lines.append(
                row(
                    index == 0 ? "volumes:" : "",
                    volume.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                        + size.padding(toLength: 12, withPad: " ", startingAt: 0) + users))
        }
        return lines
    }
}
