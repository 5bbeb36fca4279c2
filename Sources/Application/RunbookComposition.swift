import ArchiveInspect
import ConnectwareAPI
import Planner
import Runbook
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `runbook`: the templates (checked before the backup is read), the backup, the running
/// version (given, or read on Connectware), the plan with the site's names, and the files of
/// the runbook or the Ansible playbook.
public struct RunbookComposition {
    /// The backup, absolute, so the runbook's commands work from any directory.
    public var backup: String
    public var sources: PlanSources
    public var site: RunbookSite
    /// `--running`; nil: read from the id of the last backup of Connectware at `address`.
    public var running: Version?
    public var address: String?
    /// `--refusal`, `--quick`, `--assume-version`, `--project`, `--directory`.
    public var refusal: String?
    public var quick: Bool
    public var assumedVersion: Version?
    public var project: String?
    public var directory: String?
    /// `--templates`, else the data directory's runbook/.
    public var templates: String?
    public var format: RunbookFormat
    /// What made the runbook, e.g. `cwmigrate 0.1.0`.
    public var generator: String

    public init(
        backup: String, sources: PlanSources, site: RunbookSite, running: Version?, address: String?,
        refusal: String?, quick: Bool, assumedVersion: Version?, project: String?, directory: String?,
        templates: String?, format: RunbookFormat, generator: String
    ) {
        self.backup = backup
        self.sources = sources
        self.site = site
        self.running = running
        self.address = address
        self.refusal = refusal
        self.quick = quick
        self.assumedVersion = assumedVersion
        self.project = project
        self.directory = directory
        self.templates = templates
        self.format = format
        self.generator = generator
    }

    /// Where the runbook goes (`--output`, `--force`), never over a file it reads: the backup,
    /// the knowledge files, the playbook, the templates, and `alsoReading` (a password or token file).
    public func output(path: String?, replacing: Bool, alsoReading: [String]) -> RunbookOutput {
        let read = [backup] + sources.compatFiles + [sources.playbookPath].compactMap { $0 } + alsoReading
        return RunbookOutput(
            path: path, format: format, replacing: replacing, inputs: RunbookSite.inputs(read, templates: templates))
    }

    /// Writes the runbook where `output(path:replacing:alsoReading:)` says, checked before the
    /// backup (which may be large) is read, and says its notes once it is written.
    public func write(
        to path: String?, replacing: Bool, alsoReading: [String], connect: () throws -> MaintenanceClient,
        progress: (any TransferProgressReporter)?, console: Console
    ) throws {
        let output = output(path: path, replacing: replacing, alsoReading: alsoReading)
        try output.check()
        let (files, notes) = try files(connect: connect, progress: progress, console: console)
        try output.deliver(files, console: console)
        for note in notes { console.note(note) }
    }

    /// The files, and the notes to say once they are written. Where the running version came
    /// from is said on `console` at once; `connect` is called only when it is not given.
    public func files(
        connect: () throws -> MaintenanceClient, progress: (any TransferProgressReporter)?, console: Console
    ) throws -> (files: [RunbookFile], notes: [String]) {
        // The site's names and the templates before the backup: a typo or a wrong --templates is
        // said at once, not after a verify of the whole archive.
        try site.check(installation: sources.installation)
        let dataDirectory = try DataFiles.playbooksDirectory(explicit: sources.dataDirectory).path
        let templateSet = try RunbookTemplates(directory: templates ?? dataDirectory + "/runbook")
        let facts = try inspectBackup(
            at: backup, options: InspectOptions(verify: !quick, assumedVersion: assumedVersion), progress: progress)
        let (running, instance, note) = try PlanSources.runningVersion(
            given: running, instance: address, connect: connect)
        if let note { console.note(note) }
        var names: [SiteName] = []
        let (plan, loaded) = try sources.plan(
            backup: facts.version, running: running, refusal: refusal, backupFile: backup, partialRead: quick,
            basisFile: backup, sha256: quick ? nil : facts.sha256, project: project, directory: directory
        ) { playbook in
            let (chosen, shown) = try site.apply(to: playbook, trustPlaybookValues: sources.playbookPath != nil)
            names = shown
            return chosen
        }
        var subject = RunbookSubject(
            instanceURL: instance, backupFile: backup, backupID: facts.backupID?.description,
            backupSHA256: facts.sha256, generatedAt: Date(), names: names, cwmigrateBinary: DataFiles.ownExecutable(),
            generator: generator, dataDirectory: dataDirectory)
        if format == .ansible {
            // The exact knowledge files travel with the plan.
            (subject.compatCopies, subject.learnedCopy) = try PlanSources.ansibleCopies(of: loaded)
        }
        let files = try renderRunbook(plan, subject: subject, format: format, templates: templateSet)
        let placeholders = format == .ansible ? nil : RunbookSite.placeholderNote(names)
        return (files, plan.notes + (placeholders.map { [$0] } ?? []))
    }
}

extension RunbookOutput {
    /// The files on stdout, or written where `--output` says, with a note that says what was written.
    public func deliver(_ files: [RunbookFile], console: Console) throws {
        guard !toStandardOutput else {
            for file in files { console.document(file.text) }
            return
        }
        let written = try write(files)
        console.note(
            format == .ansible
                ? "wrote \(written.joined(separator: ", "))"
                : "wrote \(written.first ?? ""): the \(format.rawValue) runbook")
    }
}
