import Application
import ArchiveInspect
import ArgumentParser
import FoundationEssentials
import Planner
import Runbook
import SafeFiles

extension RunbookFormat: DocumentFormat {}

/// `cwmigrate runbook`: the plan as a document people execute and sign, or an Ansible playbook.
struct RunbookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Write the plan as a runbook (Markdown or HTML) or as an Ansible playbook for many hosts.",
        discussion: Help.runbook)

    @OptionGroup var archive: BackupOption

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var kind: InstallationKindOption

    @OptionGroup var form: FormatOption<RunbookFormat>

    @OptionGroup var destination: OutputOption

    @OptionGroup var replace: ForceFlag

    @OptionGroup var sources: KnowledgeOptions

    @OptionGroup var playbook: PlaybookOption

    @OptionGroup var data: DataDirectoryOption

    @Option(help: ArgumentHelp("Runbook templates to use instead of playbooks/runbook.", valueName: "dir"),
        completion: .directory)
    var templates: String?

    @OptionGroup var refused: RefusalOption

    @OptionGroup var assumption: AssumedVersionOption

    @OptionGroup var reading: QuickFlag

    @OptionGroup var docker: DockerOptions

    @OptionGroup var site: DirectoryOption

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

    @Option(
        name: .customLong("copy-image"),
        help: ArgumentHelp("An image the cluster has, for the copy pods (kubernetes).", valueName: "image"))
    var copyImage: String?

    /// The site's names and directories as given.
    var siteNames: RunbookSite {
        RunbookSite(
            compose: ["project": docker.project, "directory": site.directory],
            kubernetes: [
                "namespace": namespace, "release": release, "chart": chart, "postgresqlClaim": postgresqlClaim,
                "serviceManagerClaim": serviceManagerClaim, "copyImage": copyImage,
            ], installerDirectory: installers.installerDirectory, snapshotDirectory: snapshotDirectory)
    }

    func validate() throws {
        guard archive.backup != nil else { throw ValidationError("missing expected argument '--backup <backup>'") }
        _ = try runningOption.version()
        _ = try assumption.version()
        if form.format == .ansible {
            guard destination.output != nil else {
                throw ValidationError("--format ansible writes several files: give --output DIR")
            }
            if kind.installation == .kubernetes {
                throw ValidationError("--format ansible migrates Docker Compose hosts; it has no Kubernetes form")
            }
            if reading.quick {
                throw ValidationError(
                    "--format ansible ships a plan each host checks against its backup's SHA-256: it needs the whole archive, not --quick"
                )
            }
        }
        for (name, value) in siteNames.compose.merging(siteNames.kubernetes, uniquingKeysWith: { a, _ in a }) {
            if let value, value.isEmpty || value.contains(where: \.isNewline) {
                throw ValidationError("--\(RunbookSite.optionName(name)) needs a name on one line")
            }
        }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { console in
            // Absolute, so the runbook's commands work from any directory the operator is in.
            let backup = URL(fileURLWithPath: archive.backup ?? "").standardizedFileURL.path
            try destination(reading: backup).check()
            try siteNames.check(installation: kind.installation)
            // The templates before the backup: a wrong --templates is said at once, not after a
            // verify of the whole archive.
            let dataDirectory = try DataFiles.playbooksDirectory(explicit: data.playbooks).path
            let templateSet = try RunbookTemplates(directory: templates ?? dataDirectory + "/runbook")
            let facts = try inspectBackup(
                at: backup,
                options: InspectOptions(
                    verify: !reading.quick, assumedVersion: try assumption.version()),
                progress: connection.progress.reporter(console))
            let (running, instance, note) = try PlanSources.runningVersion(
                given: try runningOption.version(),
                instance: connection.url ?? processEnvironment["CWMIGRATE_URL"].flatMap { $0.isEmpty ? nil : $0 }
            ) { try connection.client(console) }
            if let note { console.note(note) }
            var names: [SiteName] = []
            let planSources = PlanSources(
                compatFiles: sources.compatFiles, ignoringExamples: sources.noExampleData,
                playbookPath: playbook.playbook, dataDirectory: data.playbooks, installation: kind.installation)
            let (plan, loaded) = try planSources.plan(
                backup: facts.version, running: running, refusal: refused.refusal, backupFile: backup, partialRead: reading.quick,
                basisFile: backup, sha256: reading.quick ? nil : facts.sha256, project: docker.project,
                directory: site.directory
            ) { playbook in
                let (chosen, shown) = try siteNames.apply(to: playbook, trustPlaybookValues: self.playbook.playbook != nil)
                names = shown
                return chosen
            }
            var subject = RunbookSubject(
                instanceURL: instance, backupFile: backup, backupID: facts.backupID?.description,
                backupSHA256: facts.sha256, generatedAt: Date(), names: names,
                cwmigrateBinary: DataFiles.ownExecutable(), generator: "cwmigrate \(BuildInfo.version)",
                dataDirectory: dataDirectory)
            if form.format == .ansible {
                // The exact knowledge files travel with the plan.
                (subject.compatCopies, subject.learnedCopy) = try PlanSources.ansibleCopies(of: loaded)
            }
            let files = try renderRunbook(plan, subject: subject, format: form.format, templates: templateSet)
            try write(files, console)
            for note in plan.notes { console.note(note) }
            if let note = RunbookSite.placeholderNote(names), form.format != .ansible { console.note(note) }
            return ExitStatus.ok
        }
    }

    private func destination(reading backup: String) -> RunbookOutput {
        RunbookOutput(path: destination.output, format: form.format, replacing: replace.force, inputs: RunbookSite.inputs(
                [backup] + sources.compatFiles
                    + [playbook.playbook, connection.passwordFile, connection.tokenFile].compactMap { $0 },
                templates: templates))
    }

    private func write(_ files: [RunbookFile], _ console: Console) throws {
        let destination = destination(reading: URL(fileURLWithPath: archive.backup ?? "").standardizedFileURL.path)
        guard !destination.toStandardOutput else {
            for file in files { console.document(file.text) }
            return
        }
        let written = try destination.write(files)
        console.note(
            form.format == .ansible
                ? "wrote \(written.joined(separator: ", "))" : "wrote \(written.first ?? ""): the \(form.format.rawValue) runbook")
    }
}
