import Application
import ArchiveInspect
import ArgumentParser
import Foundation
import Planner
import Runbook
import SafeFiles

extension RunbookFormat: ExpressibleByArgument {}

/// `cwmigrate runbook`: the plan as a document people execute and sign, or an Ansible playbook.
struct RunbookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Write the plan as a runbook (Markdown or HTML) or as an Ansible playbook for many hosts.",
        discussion: Help.runbook)

    @Option(help: "The backup archive (.tgz) to restore.", completion: .file(extensions: ["tgz", "gz", "tar", "zst", "xz", "bz2"]))
    var backup: String

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var installationOption: InstallationKindOption
    var installation: InstallationKind? { installationOption.installation }

    @Option(help: "markdown, html or ansible.")
    var format: RunbookFormat = .markdown

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var forceFlag: ForceFlag
    var force: Bool { forceFlag.force }

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var playbook: PlaybookOption

    @OptionGroup var data: DataDirectoryOption

    @Option(help: ArgumentHelp("Runbook templates to use instead of playbooks/runbook.", valueName: "dir"),
        completion: .directory)
    var templates: String?

    @OptionGroup var refusalOption: RefusalOption
    var refusal: String? { refusalOption.refusal }

    @OptionGroup var assumption: AssumedVersionOption

    @OptionGroup var quickFlag: QuickFlag
    var quick: Bool { quickFlag.quick }

    @OptionGroup var docker: DockerOptions
    var project: String? { docker.project }

    @OptionGroup var directoryOption: DirectoryOption
    var directory: String? { directoryOption.directory }

    @OptionGroup var installers: InstallerDirectoryOption

    @Option(
        name: .customLong("snapshot-dir"),
        help: ArgumentHelp("Where backups and volume copies go (default: the playbook's).", valueName: "dir"))
    var snapshotDirectory: String?

    @Option(help: ArgumentHelp("Kubernetes namespace (kubernetes).", valueName: "name"))
    var namespace: String?

    @Option(help: ArgumentHelp("Helm release (kubernetes).", valueName: "name"))
    var release: String?

    @Option(help: ArgumentHelp("Helm chart as repo/name (kubernetes).", valueName: "chart"))
    var chart: String?

    @Option(
        name: .customLong("postgresql-claim"),
        help: ArgumentHelp("The PostgreSQL persistent volume claim (kubernetes).", valueName: "name"))
    var postgresqlClaim: String?

    @Option(
        name: .customLong("service-manager-claim"),
        help: ArgumentHelp("The service-manager persistent volume claim (kubernetes).", valueName: "name"))
    var serviceManagerClaim: String?

    var composeNames: [String: String?] { ["project": project, "directory": directory] }
    var kubernetesNames: [String: String?] {
        [
            "namespace": namespace, "release": release, "chart": chart, "postgresqlClaim": postgresqlClaim,
            "serviceManagerClaim": serviceManagerClaim,
        ]
    }

    func validate() throws {
        _ = try runningOption.version()
        _ = try assumption.version()
        if format == .ansible {
            guard output != nil else {
                throw ValidationError("--format ansible writes several files: give --output DIR")
            }
            if installation == .kubernetes {
                throw ValidationError("--format ansible migrates Docker Compose hosts; it has no Kubernetes form")
            }
            if quick {
                throw ValidationError(
                    "--format ansible ships a plan each host checks against its backup's SHA-256: it needs the whole archive, not --quick"
                )
            }
        }
        for (name, value) in composeNames.merging(kubernetesNames, uniquingKeysWith: { a, _ in a }) {
            if let value, value.isEmpty || value.contains(where: \.isNewline) {
                throw ValidationError("--\(Self.optionName(name)) needs a name on one line")
            }
        }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            // Absolute, so the runbook's commands work from any directory the operator is in.
            let backup = URL(fileURLWithPath: self.backup).standardizedFileURL.path
            try destination(reading: backup).check()
            // The templates before the backup: a wrong --templates is said at once, not after a
            // verify of the whole archive.
            let dataDirectory = try DataFiles.playbooksDirectory(explicit: data.playbooks).path
            let templateSet = try RunbookTemplates(directory: templates ?? dataDirectory + "/runbook")
            let facts = try inspectBackup(
                at: backup,
                options: InspectOptions(
                    verify: !quick, assumedVersion: try assumption.version()),
                progress: connection.progressReporter(terminal))
            let (running, instance) = try runningVersion(terminal)
            var names: [SiteName] = []
            let planSources = PlanSources(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData,
                playbookPath: playbook.playbook, dataDirectory: data.playbooks, installation: installation)
            let (plan, loaded) = try planSources.plan(
                backup: facts.version, running: running, refusal: refusal, backupFile: backup, partialRead: quick,
                basisFile: backup, sha256: quick ? nil : facts.sha256, project: project, directory: directory
            ) { playbook in
                var chosen = playbook
                if let installerDirectory = installers.installerDirectory {
                    chosen.settings["installerDir"] = installerDirectory
                }
                if let snapshotDirectory { chosen.settings["snapshotDir"] = snapshotDirectory }
                let kubernetes = chosen.installation == .kubernetes
                if let name = (kubernetes ? composeNames : kubernetesNames).filter({ $0.value != nil }).keys.sorted()
                    .first
                {
                    throw Failure(
                        message:
                            "--\(Self.optionName(name)) is for \(kubernetes ? "docker-compose" : "kubernetes") installations",
                        exitCode: ExitStatus.usage)
                }
                let given = (kubernetes ? kubernetesNames : composeNames).compactMapValues { $0 }
                let resolved = resolveSiteNames(chosen, given: given, trustPlaybookValues: self.playbook.playbook != nil)
                names = resolved.names
                return resolved.playbook
            }
            var subject = RunbookSubject(
                instanceURL: instance, backupFile: backup, backupID: facts.backupID?.description,
                backupSHA256: facts.sha256, generatedAt: Date(), names: names,
                cwmigrateBinary: Self.ownExecutable(), generator: "cwmigrate \(BuildInfo.version)",
                dataDirectory: dataDirectory)
            if format == .ansible {
                // The exact knowledge files travel with the plan.
                (subject.compatCopies, subject.learnedCopy) = try PlanSources.ansibleCopies(of: loaded)
            }
            let files = try renderRunbook(plan, subject: subject, format: format, templates: templateSet)
            try write(files, terminal)
            PlanCommand.notes(for: plan, terminal)
            let unknown = names.filter { $0.value == nil }
            if !unknown.isEmpty, format != .ansible {
                terminal.note(
                    "the runbook shows placeholders for \(unknown.map(\.placeholder).joined(separator: ", ")); give \(unknown.map { "--" + Self.optionName($0.setting) }.joined(separator: ", ")) to fill them in"
                )
            }
            return ExitStatus.ok
        }
    }

    /// `--running`, else the version in the id of Connectware's last backup (with the address used).
    private func runningVersion(_ terminal: Terminal) throws -> (Version, String?) {
        let environmentURL = ProcessInfo.processInfo.environment["CWMIGRATE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let instance = connection.url ?? environmentURL
        if let running = try runningOption.version() { return (running, instance) }
        guard instance != nil else {
            throw Failure(
                message: "the running version is not known",
                hint: "give --running VERSION, or Connectware's address (--url or CWMIGRATE_URL) to read it there",
                exitCode: ExitStatus.usage)
        }
        let client = try connection.client(terminal)
        let id = try PlanSources.runningVersion(from: client)
        terminal.note(
            "running version \(id.version) taken from the id of Connectware's last backup (\(id)); give --running if it was upgraded since"
        )
        return (id.version, client.baseURL)
    }

    /// Every file this command reads, so that none of them is ever the output.
    private func inputs(_ backup: String) -> [String] {
        var read = [backup] + sources.compatFiles + [playbook.playbook, connection.passwordFile, connection.tokenFile].compactMap { $0 }
        if let templates {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? []
            read += names.map { templates + "/" + $0 }
        }
        return read
    }

    private func destination(reading backup: String) -> RunbookOutput {
        RunbookOutput(path: output, format: format, replacing: force, inputs: inputs(backup))
    }

    private func write(_ files: [RunbookFile], _ terminal: Terminal) throws {
        let destination = destination(reading: URL(fileURLWithPath: backup).standardizedFileURL.path)
        guard !destination.toStandardOutput else {
            for file in files { FileHandle.standardOutput.write(Data(file.text.utf8)) }
            return
        }
        let written = try destination.write(files)
        terminal.note(
            format == .ansible
                ? "wrote \(written.joined(separator: ", "))" : "wrote \(written.first ?? ""): the \(format.rawValue) runbook")
    }

    static func optionName(_ setting: String) -> String {
        switch setting {
        case "postgresqlClaim": "postgresql-claim"
        case "serviceManagerClaim": "service-manager-claim"
        default: setting
        }
    }

    /// The executable now running, for the Ansible playbook to copy to each host.
    static func ownExecutable() -> String? {
        let real = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return real == "/proc/self/exe" ? nil : real
    }
}
