import Application
import ArgumentParser
import DockerOps
import Foundation
import HTTP

struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumes",
        abstract: "List, snapshot, restore or remove Connectware's Docker volumes, one step at a time.",
        discussion: Help.volumes,
        subcommands: [List.self, Snapshot.self, Restore.self, Remove.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the compose project's volumes.")

        @OptionGroup var docker: DockerOptions

        @OptionGroup var jsonFlag: JSONFlag
        var json: Bool { jsonFlag.json }

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try guarded(global) { terminal in
                let installation = try ConnectwareHost().discover(project: docker.project, includeSizes: true)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    terminal.out(String(decoding: try encoder.encode(installation.volumes), as: UTF8.self))
                    return ExitStatus.ok
                }
                for volume in installation.volumes {
                    let size = volume.sizeBytes.map(formatBytes) ?? "?"
                    let users = volume.usedBy.isEmpty ? "unused" : "used by " + volume.usedBy.joined(separator: ", ")
                    terminal.out(
                        volume.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                            + size.padding(toLength: 12, withPad: " ", startingAt: 0) + users)
                }
                return ExitStatus.ok
            }
        }
    }

    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a volume's files to a verified, zstd-compressed snapshot.",
            discussion: Help.volumesSnapshot)

        @OptionGroup var docker: DockerOptions

        @Argument(help: "The volume (connectware_postgresql or postgresql).")
        var volume: String

        @OptionGroup var outputOption: OutputOption
        var output: String { outputOption.output ?? "" }

        @Option(help: ArgumentHelp("zstd level, 1 (fast) to 19.", valueName: "n"))
        var level = 1

        @Option(help: ArgumentHelp("How the volume's files are read: automatic, mountpoint or helper-container.", valueName: "how"))
        var access: VolumeAccess = .automatic

        @OptionGroup var progress: ProgressOption

        @Option(help: .hidden)
        var directory: String?

        @Option(help: .hidden)
        var connectwareVersion: String?

        func validate() throws {
            guard outputOption.output != nil else { throw ValidationError("missing expected argument '--output <output>'") }
            guard (1...19).contains(level) else { throw ValidationError("--level must be between 1 and 19") }
        }

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try guarded(global) { terminal in
                let manifest: SnapshotManifest
                if let directory {
                    // For benchmarks and tests: any directory, without Docker.
                    manifest = try ConnectwareHost.snapshotDirectory(
                        directory, volume: volume, to: output, connectwareVersion: connectwareVersion, level: level,
                        progress: progress.reporter(terminal))
                } else {
                    let host = try ConnectwareHost()
                    let target = try host.findVolume(volume, project: docker.project)
                    let version =
                        connectwareVersion ?? (try? host.discover(project: docker.project))?.version?.description
                    if version == nil {
                        terminal.warning("the running Connectware version is unknown; the snapshot will not name one")
                    }
                    manifest = try host.snapshotVolume(
                        target.name, to: output, connectwareVersion: version, level: level, access: access,
                        progress: progress.reporter(terminal))
                }
                for line in manifest.summaryLines(file: output) { terminal.out(line) }
                for path in manifest.skipped { terminal.warning("left out \(path): tar cannot hold a socket") }
                return ExitStatus.ok
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a volume from its snapshot.",
            discussion: Help.volumesRestore)

        @OptionGroup var docker: DockerOptions

        @Argument(help: "The volume (connectware_postgresql or postgresql).")
        var volume: String

        @Option(name: .customLong("from"), help: ArgumentHelp("The snapshot file.", valueName: "file"), completion: .file())
        var snapshot: String

        @Option(help: ArgumentHelp("How the volume's files are written: automatic, mountpoint or helper-container.", valueName: "how"))
        var access: VolumeAccess = .automatic

        @OptionGroup var consent: ConsentFlag
        var yes: Bool { consent.yes }

        @OptionGroup var progress: ProgressOption

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try guarded(global) { terminal in
                let host = try ConnectwareHost()
                let name = (try? host.findVolume(volume, project: docker.project).name) ?? volume
                try confirm("Restore volume \(name) from \(snapshot)?", yes: yes, terminal: terminal)
                let manifest = try host.restoreVolume(
                    volume, from: snapshot, project: docker.project, access: access, progress: progress.reporter(terminal))
                terminal.out("restored:  \(manifest.volume) from \(snapshot)")
                terminal.out("files:     \(manifest.files), \(manifest.bytes) bytes, \(manifest.entries) entries")
                return ExitStatus.ok
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a volume that has a verified snapshot.",
            discussion: Help.volumesRemove)

        @OptionGroup var docker: DockerOptions

        @Argument(help: "The volume (connectware_postgresql or postgresql).")
        var volume: String

        @Option(help: ArgumentHelp("The verified snapshot of this volume.", valueName: "file"),
            completion: .file())
        var snapshot: String

        @Option(help: ArgumentHelp("The removable volumes, comma-separated.", valueName: "names"))
        var removable = "postgresql,service-manager"

        @OptionGroup var consent: ConsentFlag
        var yes: Bool { consent.yes }

        @OptionGroup var forceFlag: ForceFlag
        var force: Bool { forceFlag.force }

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try guarded(global) { terminal in
                let host = try ConnectwareHost()
                let target = try host.findVolume(volume, project: docker.project)
                try confirm("Remove volume \(target.name)?", yes: yes, terminal: terminal)
                let policy = VolumePolicy(removable: Set(removable.split(separator: ",").map(String.init)))
                try host.removeVolume(
                    target.name, snapshot: snapshot, policy: policy, acceptingChangesSinceSnapshot: force)
                terminal.out("removed:   \(target.name) (snapshot \(snapshot) verified)")
                return ExitStatus.ok
            }
        }
    }
}

/// Asks on a terminal; off a terminal, only `--yes` lets a destructive step go ahead.
private func confirm(_ question: String, yes: Bool, terminal: Terminal) throws {
    try terminal.requireConsent(
        question, yes: yes,
        offTerminal: Failure(
            message: "not on a terminal, so nobody can confirm: \(question)", hint: "pass --yes to go ahead",
            exitCode: ExitStatus.usage),
        declined: Failure(message: "cancelled", exitCode: ExitStatus.usage))
}

extension VolumeAccess: ExpressibleByArgument {}

extension SnapshotManifest {
    func summaryLines(file: String) -> [String] {
        func row(_ label: String, _ value: String) -> String {
            label.padding(toLength: 11, withPad: " ", startingAt: 0) + value
        }
        var lines = [row("snapshot:", file), row("volume:", volume)]
        lines.append(row("version:", connectwareVersion ?? "unknown"))
        lines.append(
            row(
                "files:",
                "\(files) files, \(directories) directories, \(symlinks) symlinks, \(bytes) bytes (\(formatBytes(bytes)))"
            ))
        if let archiveBytes {
            lines.append(row("archive:", "\(archiveBytes) bytes (\(formatBytes(archiveBytes))), zstd"))
        }
        lines.append(row("verified:", "yes, read back to the end"))
        if let archiveSHA256 { lines.append(row("sha256:", archiveSHA256)) }
        return lines
    }
}
