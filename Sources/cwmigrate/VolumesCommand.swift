import Application
import ArgumentParser
import DockerOps

struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumes",
        abstract: "List, snapshot, restore or remove Connectware's Docker volumes, one step at a time.",
        discussion: Help.volumes,
        subcommands: [List.self, Snapshot.self, Restore.self, Remove.self])

    struct List: ConsoleCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the compose project's volumes.")

        @OptionGroup var docker: DockerOptions

        @OptionGroup var json: JSONFlag

        @OptionGroup var global: GlobalOptions

        func run(on console: Console) throws -> Int32 {
            let installation = try ConnectwareHost().discover(project: docker.project, includeSizes: true)
            console.out(lines: json.requested ? [try sortedJSON(installation.volumes)] : installation.volumeLines())
            return ExitStatus.ok
        }
    }

    struct Snapshot: ConsoleCommand {
        static let configuration = CommandConfiguration(
            commandName: "snapshot",
            abstract: "Write a volume's files to a verified, zstd-compressed snapshot.",
            discussion: Help.volumesSnapshot)

        @OptionGroup var target: VolumeArgument

        @Option(
            name: .shortAndLong, help: ArgumentHelp("The snapshot file to write (not '-').", valueName: "path"),
            completion: .file())
        var output: String

        @Option(help: ArgumentHelp("zstd level, 1 (fast) to 19.", valueName: "n"))
        var level = 1

        @OptionGroup var access: VolumeAccessOption

        @OptionGroup var progress: ProgressOption

        @Option(help: .hidden)
        var directory: String?

        @Option(help: .hidden)
        var connectwareVersion: String?

        func validate() throws {
            guard (1...19).contains(level) else { throw ValidationError("--level must be between 1 and 19") }
        }

        @OptionGroup var global: GlobalOptions

        func run(on console: Console) throws -> Int32 {
            let manifest: SnapshotManifest
            if let directory {
                // For benchmarks and tests: any directory, without Docker.
                manifest = try ConnectwareHost.snapshotDirectory(
                    directory, volume: target.volume, to: output, connectwareVersion: connectwareVersion, level: level,
                    progress: progress.reporter(console))
            } else {
                manifest = try ConnectwareHost().snapshotProjectVolume(
                    target.volume, project: target.docker.project, to: output, connectwareVersion: connectwareVersion,
                    level: level, access: access.access, progress: progress.reporter(console), console: console)
            }
            console.out(lines: manifest.summaryLines(file: output))
            for warning in manifest.skippedWarnings { console.warning(warning) }
            return ExitStatus.ok
        }
    }

    struct Restore: ConsoleCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore a volume from its snapshot.",
            discussion: Help.volumesRestore)

        @OptionGroup var target: VolumeArgument

        @Option(name: .customLong("from"), help: ArgumentHelp("The snapshot file.", valueName: "file"), completion: .file())
        var snapshot: String

        @OptionGroup var access: VolumeAccessOption

        @OptionGroup var consent: ConsentFlag

        @OptionGroup var progress: ProgressOption

        @OptionGroup var global: GlobalOptions

        func run(on console: Console) throws -> Int32 {
            let host = try ConnectwareHost()
            let name = (try? host.findVolume(target.volume, project: target.docker.project).name) ?? target.volume
            try console.requireConsent("Restore volume \(name) from \(snapshot)?", yes: consent.yes)
            let manifest = try host.restoreVolume(
                target.volume, from: snapshot, project: target.docker.project, access: access.access,
                progress: progress.reporter(console))
            console.out(lines: manifest.restoredLines(from: snapshot))
            return ExitStatus.ok
        }
    }

    struct Remove: ConsoleCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a volume that has a verified snapshot.",
            discussion: Help.volumesRemove)

        @OptionGroup var target: VolumeArgument

        @Option(help: ArgumentHelp("The verified snapshot of this volume.", valueName: "file"),
            completion: .file())
        var snapshot: String

        @Option(help: ArgumentHelp("The removable volumes, comma-separated.", valueName: "names"))
        var removable = "postgresql,service-manager"

        @OptionGroup var consent: ConsentFlag

        @Flag(help: "Remove the volume even when something in it changed since its snapshot began.")
        var force = false

        @OptionGroup var global: GlobalOptions

        func run(on console: Console) throws -> Int32 {
            let host = try ConnectwareHost()
            let found = try host.findVolume(target.volume, project: target.docker.project)
            try console.requireConsent("Remove volume \(found.name)?", yes: consent.yes)
            let policy = VolumePolicy(removable: Set(removable.split(separator: ",").map(String.init)))
            try host.removeVolume(
                found.name, snapshot: snapshot, policy: policy, acceptingChangesSinceSnapshot: force)
            console.out(found.removedLine(snapshot: snapshot))
            return ExitStatus.ok
        }
    }
}

extension VolumeAccess: ExpressibleByArgument {}
