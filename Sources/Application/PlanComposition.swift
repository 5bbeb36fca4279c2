import ArchiveInspect
import Planner
import SafeFiles
import Vocabulary

/// The backup `plan` plans for: an archive, read to its end and verified unless `quick`, or
/// only its version (`--backup-version`), without a file.
public enum PlannedBackup: Sendable {
    case file(String, quick: Bool, assumedVersion: Version?)
    case version(Version)
}

/// `plan`: the plan for restoring a backup on the running Connectware, from the knowledge and
/// the playbook, printed or saved as a file.
public struct PlanComposition {
    public var backup: PlannedBackup
    public var sources: PlanSources
    public var running: Version
    /// `--refusal`, `--project`, `--directory`.
    public var refusal: String?
    public var project: String?
    public var directory: String?

    public init(
        backup: PlannedBackup, sources: PlanSources, running: Version, refusal: String?, project: String?,
        directory: String?
    ) {
        self.backup = backup
        self.sources = sources
        self.running = running
        self.refusal = refusal
        self.project = project
        self.directory = directory
    }

    /// The plan; a backup file is read first (its version, and its SHA-256 when read to the end).
    public func plan(progress: (any TransferProgressReporter)? = nil) throws -> Plan {
        switch backup {
        case .file(let path, let quick, let assumedVersion):
            let basis = absolutePath(path)
            let facts = try inspectBackup(
                at: basis, options: InspectOptions(verify: !quick, assumedVersion: assumedVersion), progress: progress)
            return try sources.plan(
                backup: facts.version, running: running, refusal: refusal, backupFile: path, partialRead: quick,
                basisFile: basis, sha256: facts.sha256, project: project, directory: directory)
        case .version(let version):
            return try sources.plan(
                backup: version, running: running, refusal: refusal, backupFile: nil, partialRead: false,
                basisFile: nil, sha256: nil, project: project, directory: directory)
        }
    }

    /// Makes the plan and says it: as text or JSON on stdout, or written to `output`; its notes
    /// on stderr. Returns the exit code of its decision.
    public func say(
        json: Bool, output: DocumentOutput, progress: (any TransferProgressReporter)?, on console: Console
    ) throws -> Int32 {
        // The output is checked before the backup (which may be large) is read.
        var inputs = sources.compatFiles
        if case .file(let path, _, _) = backup { inputs.insert(path, at: 0) }
        try output.check(inputs: inputs)
        let plan = try plan(progress: progress)
        let text = json ? plan.renderJSON() : plan.renderText(color: console.colorOnStdout)
        guard let written = try output.write(text + "\n", inputs: inputs) else {
            return plan.say(json: json, on: console)
        }
        console.note("wrote the plan to \(written)")
        for note in plan.notes { console.note(note) }
        return ExitStatus.of(plan.decision)
    }
}

/// Where `plan` and `report` put their document: stdout (no path, or `-`), or a file written
/// through SafeFiles, 0644 as an editor would save it (neither holds a secret), never over a
/// file the command reads.
public struct DocumentOutput: Sendable {
    /// `--output`.
    public var path: String?
    /// `--force`: an existing file is replaced.
    public var replacing: Bool

    public init(path: String?, replacing: Bool) {
        self.path = path
        self.replacing = replacing
    }

    /// Refuses an output that cannot be written, before anything is read.
    public func check(inputs: [String] = []) throws(OutputFileError) {
        guard let path else { return }
        try OutputFile.check(path, replacing: replacing, inputs: inputs, standardOutputRefusal: nil)
    }

    /// Writes `text` to the file and returns its path; nil when the document goes to stdout.
    public func write(_ text: String, inputs: [String]) throws(OutputFileError) -> String? {
        guard let path, path != "-" else { return nil }
        try OutputFile.write(Array(text.utf8), to: path, mode: 0o644, replacing: replacing, inputs: inputs)
        return path
    }
}
