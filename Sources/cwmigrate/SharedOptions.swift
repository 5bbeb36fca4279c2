import ArgumentParser
import Foundation
import Migration
import Planner

// The options several commands share, each declared once as an @OptionGroup.

/// How much every command says: `--quiet`, `--verbose`.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Say only errors and the final result line.")
    var quiet = false

    @Flag(
        name: .shortAndLong,
        help: "Also say each call to Connectware, Docker or a program on stderr (never a secret).")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("give --quiet or --verbose, not both") }
    }

    var verbosity: Verbosity { quiet ? .quiet : verbose ? .verbose : .normal }
}

/// Where compatibility knowledge comes from besides the bundled compat.yml: plan, restore,
/// migrate and runbook.
struct KnowledgeOptions: ParsableArguments {
    @Option(
        name: .customLong("compat"), help: "An operator's compat file, added to the bundled one (repeatable).",
        completion: .file(extensions: ["yml", "yaml"]))
    var compatFiles: [String] = []

    @Flag(
        name: .customLong("no-example-data"),
        help: "Ignore barriers marked as example data (as in examples/compat-example.yml).")
    var noExampleData = false
}

/// Whether example data (an `example: true` barrier) may decide what an unattended command
/// (`--yes`) does: migrate and restore.
struct ExampleDataAcceptance: ParsableArguments {
    @Flag(
        name: .customLong("accept-example-data"),
        help: "Let a decision an example barrier made be acted on unattended (--yes): the example data is meant.")
    var accepted = false
}

/// The backup's version when its evidence is missing or disagrees: inspect, plan, migrate and runbook.
struct AssumedVersionOption: ParsableArguments {
    @Option(
        name: .customLong("assume-version"),
        help: ArgumentHelp(
            "Take this as the backup's version when its evidence is missing or disagrees.", valueName: "version"))
    var assumeVersion: String?

    /// The version, or a usage error that shows the bad value.
    func version() throws -> Version? { try assumeVersion.map { try versionOption($0, "--assume-version") } }
}

/// The state directory of migration runs: migrate, rollback, runs and report.
struct StateDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "The state directory (default: $CWMIGRATE_STATE_DIR, else \(JournalStore.defaultDirectory)).",
            valueName: "dir"))
    var stateDirectory: String?

    func store(environment: [String: String] = ProcessInfo.processInfo.environment) -> JournalStore {
        let chosen = stateDirectory ?? environment["CWMIGRATE_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        return JournalStore(directory: chosen ?? JournalStore.defaultDirectory)
    }
}

/// Which compose project on the Docker host: host, volumes and migrate.
struct DockerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The compose project (default: the one whose containers carry io.cybus.connectware=core).",
            valueName: "name"))
    var project: String?
}

/// A playbook file instead of the bundled one: plan, runbook and migrate.
struct PlaybookOption: ParsableArguments {
    @Option(
        help: "A playbook file to use instead of the bundled one for the installation; its names count as known.",
        completion: .file(extensions: ["yml", "yaml"]))
    var playbook: String?
}

/// Where the bundled compat.yml and playbooks are: plan, restore, runbook and migrate.
struct DataDirectoryOption: ParsableArguments {
    @Option(
        help: ArgumentHelp("The directory holding the bundled compat.yml and playbooks.", valueName: "dir"),
        completion: .directory)
    var playbooks: String?
}

/// Where the installers of other versions are: migrate, rollback and runbook.
struct InstallerDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("installer-dir"),
        help: ArgumentHelp(
            "Where the installers are, as DIR/VERSION/connectware-online-installer.sh (default: the plan's installerDir).",
            valueName: "dir"),
        completion: .directory)
    var installerDirectory: String?
}

/// How long Connectware gets to come up after a start or an install: migrate and rollback.
struct HealthyTimeoutOption: ParsableArguments {
    @Option(name: .customLong("healthy-timeout"), help: "Seconds Connectware gets to come up after a start or install.")
    var healthyTimeout: Int = 600

    func validate() throws {
        guard healthyTimeout > 0 else { throw ValidationError("--healthy-timeout must be a positive number of seconds") }
    }
}

/// The Docker Engine's socket: migrate and rollback.
struct DockerHostOption: ParsableArguments {
    @Option(
        name: .customLong("docker-host"),
        help: ArgumentHelp("The Docker Engine's socket, unix:///path (default: $DOCKER_HOST).", valueName: "url"))
    var dockerHost: String?

    func validate() throws {
        if let dockerHost, !dockerHost.hasPrefix("unix://") {
            throw ValidationError("--docker-host must be unix:///path/to/docker.sock, not \(dockerHost)")
        }
    }

    /// The process's environment with `DOCKER_HOST` set from `--docker-host` when given.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let dockerHost { environment["DOCKER_HOST"] = dockerHost }
        return environment
    }
}

/// A version given on the command line, or a usage error that shows the bad value.
func versionOption(_ text: String, _ option: String) throws -> Version {
    do {
        return try Version(parsing: text)
    } catch {
        throw ValidationError("\(option): \(error.description)")
    }
}
