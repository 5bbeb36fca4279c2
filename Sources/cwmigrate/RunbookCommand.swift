import Application
import ArgumentParser
import FoundationEssentials
import Planner
import Runbook

extension RunbookFormat: DocumentFormat {}

/// `cwmigrate runbook`: the plan as a document people execute and sign, or an Ansible playbook.
struct RunbookCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Write the plan as a runbook (Markdown or HTML) or as an Ansible playbook for many hosts.",
        discussion: Help.runbook)

    @OptionGroup var archive: BackupOption

    @OptionGroup var runningOption: RunningVersionOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var form: FormatOption<RunbookFormat>

    @OptionGroup var destination: OutputOptions

    @OptionGroup var sources: PlanningOptions

    @Option(help: ArgumentHelp("Runbook templates to use instead of playbooks/runbook.", valueName: "dir"),
        completion: .directory)
    var templates: String?

    @OptionGroup var given: PlanInputOptions

    @OptionGroup var docker: DockerOptions

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
            compose: ["project": docker.project, "directory": given.directory],
            kubernetes: [
                "namespace": namespace, "release": release, "chart": chart, "postgresqlClaim": postgresqlClaim,
                "serviceManagerClaim": serviceManagerClaim, "copyImage": copyImage,
            ], installerDirectory: installers.installerDirectory, snapshotDirectory: snapshotDirectory)
    }

    func validate() throws {
        guard archive.backup != nil else { throw ValidationError("missing expected argument '--backup <backup>'") }
        do {
            try form.format.check(output: destination.output, installation: given.installation, quick: given.quick)
        } catch {
            throw ValidationError(error.description)
        }
    }

    @OptionGroup var global: GlobalOptions

    func run(on console: Console) throws -> Int32 {
        // Absolute, so the runbook's commands work from any directory the operator is in.
        let backup = URL(fileURLWithPath: archive.backup ?? "").standardizedFileURL.path
        let composition = RunbookComposition(
            backup: backup, sources: sources.planSources(installation: given.installation), site: siteNames,
            running: try runningOption.version(), address: connection.request.address(processEnvironment),
            refusal: given.refusal, quick: given.quick, assumedVersion: try sources.assumption.version(),
            project: docker.project, directory: given.directory, templates: templates, format: form.format,
            generator: "cwmigrate \(BuildInfo.version)")
        try composition.write(
            to: destination.output, replacing: destination.force, alsoReading: connection.request.secretFiles,
            connect: { try connection.client(console) }, progress: connection.progress.reporter(console),
            console: console)
        return ExitStatus.ok
    }
}
