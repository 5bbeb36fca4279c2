import Application
import ArgumentParser
import DockerOps
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

/// Where compatibility knowledge comes from: the bundled compat.yml (and where it is) and the
/// operator's files; plan, restore, migrate and runbook.
struct KnowledgeOptions: ParsableArguments {
    @Option(
        name: .customLong("compat"), help: "An operator's compat file, added to the bundled one (repeatable).",
        completion: .file(extensions: ["yml", "yaml"]))
    var compatFiles: [String] = []

    @Flag(
        name: .customLong("no-example-data"),
        help: "Ignore barriers marked as example data (as in examples/compat-example.yml).")
    var noExampleData = false

    @Option(
        help: ArgumentHelp("The directory holding the bundled compat.yml and playbooks.", valueName: "dir"),
        completion: .directory)
    var playbooks: String?

    /// What these options plan from, with `playbook` and `installation` when a command has them.
    func sources(playbook: String? = nil, installation: InstallationKind? = nil) -> PlanSources {
        PlanSources(
            compatFiles: compatFiles, ignoringExamples: noExampleData, playbookPath: playbook,
            dataDirectory: playbooks, installation: installation)
    }
}

/// What plan, runbook and migrate plan from: the knowledge, a playbook of the operator's, and
/// the backup's version when its evidence fails.
struct PlanningOptions: ParsableArguments {
    @OptionGroup var knowledge: KnowledgeOptions

    @Option(
        help: "A playbook file to use instead of the bundled one for the installation; its names count as known.",
        completion: .file(extensions: ["yml", "yaml"]))
    var playbook: String?

    @OptionGroup var assumption: AssumedVersionOption

    func validate() throws { _ = try assumption.version() }

    /// What plan and runbook plan from, for `installation`.
    func planSources(installation: InstallationKind?) -> PlanSources {
        knowledge.sources(playbook: playbook, installation: installation)
    }
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

    func store() -> JournalStore { JournalStore(given: stateDirectory, environment: processEnvironment) }
}

/// Which compose project: the one on the Docker host (host, volumes and migrate), or the name
/// the commands of a plan or runbook use.
struct DockerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The compose project (default: the one whose containers carry io.cybus.connectware=core; for plan and runbook, the playbook's).",
            valueName: "name"))
    var project: String?
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

/// How migrate and rollback reach the installation and bring it back up: the Docker Engine's
/// socket, the time Connectware gets to come up, and the backup's admin password.
struct RunOptions: ParsableArguments {
    @Option(
        name: .customLong("docker-host"),
        help: ArgumentHelp("The Docker Engine's socket, unix:///path (default: $DOCKER_HOST).", valueName: "url"))
    var dockerHost: String?

    @Option(name: .customLong("healthy-timeout"), help: "Seconds Connectware gets to come up after a start or install.")
    var healthyTimeout: Int = 600

    @Option(
        name: .customLong("backup-password-file"),
        help: ArgumentHelp(
            "The admin password valid when the backup was made, used after the restore (default: $CWMIGRATE_BACKUP_PASSWORD, else the production password).",
            valueName: "file"))
    var backupPasswordFile: String?

    func validate() throws {
        // DockerOps' own rule for DOCKER_HOST, so the option and the variable accept the same.
        if let dockerHost, (try? DockerHost(environment: ["DOCKER_HOST": dockerHost])) == nil {
            throw ValidationError("--docker-host must be unix:///path/to/docker.sock, not \(dockerHost)")
        }
        try requirePositiveSeconds(healthyTimeout, "--healthy-timeout")
    }

    /// The process's environment with `DOCKER_HOST` set from `--docker-host` when given.
    var dockerEnvironment: [String: String] {
        var environment = processEnvironment
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

/// A number of seconds given on the command line must be positive (nil: not given).
func requirePositiveSeconds(_ seconds: Int?, _ option: String) throws {
    if let seconds, seconds <= 0 { throw ValidationError("\(option) must be a positive number of seconds") }
}

/// `--json`: the command's result as JSON on stdout.
struct JSONFlag: ParsableArguments {
    @Flag(name: .customLong("json"), help: "Print the result as JSON on stdout.")
    var requested = false
}

/// `--yes`: the commands that change something ask first on a terminal; off one, only this lets them go on.
struct ConsentFlag: ParsableArguments {
    @Flag(
        name: [.customShort("y"), .long],
        help: "Do not ask before changing anything (required when stdin is not a terminal).")
    var yes = false
}

/// `--output` and `--force`: where backup, plan, runbook and report write their result instead
/// of stdout ('-' is stdout where a command prints), and whether a file there is replaced.
struct OutputOptions: ParsableArguments {
    @Option(
        name: .shortAndLong, help: ArgumentHelp("Write the result to this path; '-' is stdout.", valueName: "path"),
        completion: .file())
    var output: String?

    @Flag(help: "Replace an existing file at --output.")
    var force = false
}

/// `--running`: the version of the running Connectware (plan requires it; restore and runbook take it when given).
struct RunningVersionOption: ParsableArguments {
    @Option(help: "The version of the running Connectware, e.g. 1.8.0.")
    var running: String?

    func validate() throws { _ = try version() }

    /// The version, or a usage error that shows the bad value.
    func version() throws -> Version? { try running.map { try versionOption($0, "--running") } }
}

/// `--wait-running`: how long a backup or restore already running on the server is waited for.
struct WaitRunningOption: ParsableArguments {
    @Option(
        name: .customLong("wait-running"),
        help: ArgumentHelp(
            "Wait up to SECONDS for a backup or restore already running (default: exit 75 at once; migrate: 1800).",
            valueName: "seconds"))
    var waitRunning: Int?

    func validate() throws { try requirePositiveSeconds(waitRunning, "--wait-running") }
}

/// What restore and migrate check before they change anything: `--precheck-only` checks
/// everything and changes nothing; `--accept-example-data` lets a decision an example barrier
/// (`example: true`) made be acted on unattended (`--yes`).
struct RestoreCheckOptions: ParsableArguments {
    @Flag(name: .customLong("precheck-only"), help: "Check everything, change nothing; print pass or fail for each.")
    var precheckOnly = false

    @Flag(
        name: .customLong("accept-example-data"),
        help: "Let a decision an example barrier made be acted on unattended (--yes): the example data is meant.")
    var acceptExampleData = false
}

/// What plan and runbook are told about the installation instead of finding it: how
/// Connectware is installed, its directory, a refused restore's message; and `--quick`.
struct PlanInputOptions: ParsableArguments {
    @Option(
        help: "How Connectware is installed: docker-compose or kubernetes (default: the playbook's, else docker-compose).")
    var installation: InstallationKind?

    @Option(
        help: ArgumentHelp("Installation directory the plan's commands use (docker-compose).", valueName: "dir"),
        completion: .directory)
    var directory: String?

    @Option(help: "The status message of a refused restore; the version it names decides the plan.")
    var refusal: String?

    @Flag(help: "Read the backup only up to its metadata (no verification); the plan says so.")
    var quick = false

    func validate() throws {
        if let refusal, refusal.allSatisfy(\.isWhitespace) {
            throw ValidationError("--refusal needs the restore's status message")
        }
    }
}

/// `--backup`: the backup archive a command restores: plan (or `--backup-version`), runbook
/// (required) and migrate (not needed with `--resume` or `--plan`).
struct BackupOption: ParsableArguments {
    @Option(
        help: "The backup archive (.tgz) to restore (migrate: not needed with --resume or --plan).",
        completion: .backupArchive)
    var backup: String?
}

/// The volume `volumes snapshot`, `restore` and `remove` work on, in the compose project.
struct VolumeArgument: ParsableArguments {
    @OptionGroup var docker: DockerOptions

    @Argument(help: "The volume (connectware_postgresql or postgresql).")
    var volume: String
}

extension CompletionKind {
    /// A backup archive, by the endings backups come in (inspect, restore and `--backup`).
    static let backupArchive = CompletionKind.file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"])
}

/// `--access`: how a volume's files are reached: volumes snapshot and restore.
struct VolumeAccessOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How the volume's files are read or written: automatic, mountpoint or helper-container.",
            valueName: "how"))
    var access: VolumeAccess = .automatic
}

/// A form a command writes a document in: `--format` names its cases, the first is the default.
protocol DocumentFormat: ExpressibleByArgument, CaseIterable, RawRepresentable<String> {}

extension DocumentFormat {
    /// `markdown, html or ansible.`
    static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "") + "."
    }
}

/// `--format`: the form of the document: runbook and report.
struct FormatOption<Format: DocumentFormat>: ParsableArguments {
    @Option(help: ArgumentHelp(Format.choices))
    var format: Format = Format.allCases.first!
}
