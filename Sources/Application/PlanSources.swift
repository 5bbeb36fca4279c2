import ConnectwareAPI
import Planner
import Runbook
import Vocabulary

/// What `plan` and `runbook` plan from: the operator's knowledge files (with the bundled and
/// learned ones), the playbook for the installation, and a `--refusal` message when one is given.
public struct PlanSources: Sendable {
    public var compatFiles: [String]
    public var ignoringExamples: Bool
    /// `--playbook FILE`, else the bundled one for `installation`.
    public var playbookPath: String?
    /// `--playbooks DIR`: where the bundled compat.yml and playbooks are.
    public var dataDirectory: String?
    public var installation: InstallationKind?

    public init(
        compatFiles: [String], ignoringExamples: Bool, playbookPath: String?, dataDirectory: String?,
        installation: InstallationKind?
    ) {
        self.compatFiles = compatFiles
        self.ignoringExamples = ignoringExamples
        self.playbookPath = playbookPath
        self.dataDirectory = dataDirectory
        self.installation = installation
    }

    /// The compatibility knowledge: the bundled, learned and operator's files.
    public func knowledge() throws -> CompatibilityKnowledge {
        try LocalKnowledge.load(compatFiles: compatFiles, ignoringExamples: ignoringExamples, playbooks: dataDirectory)
    }

    /// The plan for a `backup` restore at `running`. `prepare` sets the installation's names in
    /// the playbook before the plan is made; the plan's basis records the backup file (`basisFile`,
    /// its SHA-256 when read to the end), `project`, `directory` and the knowledge files. Also
    /// returns the knowledge as loaded, with its files.
    public func plan(
        backup: Version, running: Version, refusal message: String?, backupFile: String?, partialRead: Bool,
        basisFile: String?, sha256: String?, project: String?, directory: String?,
        prepare: (Playbook) throws -> Playbook
    ) throws -> (Plan, LoadedKnowledge) {
        // The plan's commands carry the project and the directory unquoted, as a runbook's do.
        try RunbookSite(
            compose: ["project": project, "directory": directory], kubernetes: [:], installerDirectory: nil,
            snapshotDirectory: nil
        ).check(installation: nil)
        let loaded = try LocalKnowledge.loadWithFiles(
            compatFiles: compatFiles, ignoringExamples: ignoringExamples, playbooks: dataDirectory)
        let chosen = try prepare(
            LocalKnowledge.playbook(path: playbookPath, installation: installation, playbooks: dataDirectory))
        let refused = try message.map { try RestoreRefusal.given($0, backup: backup, running: running) }
        var plan = makePlan(
            backup: backup, running: running, knowledge: loaded.knowledge, playbook: chosen, refusal: refused,
            refusalSource: FactSource(authority: .server, file: "--refusal", server: running), backupFile: backupFile)
        plan.partialRead = partialRead
        plan.basis = PlanBasis(
            backupFile: basisFile, backupSHA256: sha256, project: project, directory: directory,
            knowledge: loaded.files, ignoresExampleData: ignoringExamples)
        return (plan, loaded)
    }

    /// `plan`'s plan: as above, with `project` and `directory`, when given, as the playbook's settings.
    public func plan(
        backup: Version, running: Version, refusal message: String?, backupFile: String?, partialRead: Bool,
        basisFile: String?, sha256: String?, project: String?, directory: String?
    ) throws -> Plan {
        try plan(
            backup: backup, running: running, refusal: message, backupFile: backupFile, partialRead: partialRead,
            basisFile: basisFile, sha256: sha256, project: project, directory: directory
        ) { playbook in
            var chosen = playbook
            if let project { chosen.settings["project"] = project }
            if let directory { chosen.settings["directory"] = directory }
            return chosen
        }.0
    }

    /// The copies of the operator's knowledge files (numbered, so two files of the same name
    /// stay apart) and of the learned one that travel with an Ansible runbook's plan.
    public static func ansibleCopies(of loaded: LoadedKnowledge) throws -> (compat: [RunbookFile], learned: RunbookFile?) {
        var copies: [RunbookFile] = []
        for (index, file) in loaded.files.filter({ $0.authority == .operatorFile }).enumerated() {
            let name = "compat-\(index + 1)-" + lastPathComponent(file.path)
            copies.append(RunbookFile(name: name, text: try LocalKnowledge.readText(file.path)))
        }
        let learned = try loaded.files.first(where: { $0.authority == .server }).map {
            RunbookFile(name: "learned-compat.yml", text: try LocalKnowledge.readText($0.path))
        }
        return (copies, learned)
    }

    /// The running version read from the id of Connectware's last backup, and that id.
    public static func runningVersion(from client: MaintenanceClient) throws -> BackupID {
        guard let id = try client.status().backup?.backupID else {
            throw Failure(
                message: "Connectware's status names no backup, so its running version cannot be read there",
                hint: "give --running VERSION (the version shown in the Admin UI)", exitCode: ExitStatus.unavailable)
        }
        return id
    }

    /// `runbook`'s running version: `given` (`--running`), else the one in the id of the last
    /// backup of the Connectware at `instance`, with a note that says where it came from; and
    /// the address the runbook names.
    public static func runningVersion(
        given: Version?, instance: String?, connect: () throws -> MaintenanceClient
    ) throws -> (version: Version, instance: String?, note: String?) {
        if let given { return (given, instance, nil) }
        guard instance != nil else {
            throw Failure(
                message: "the running version is not known",
                hint: "give --running VERSION, or Connectware's address (--url or CWMIGRATE_URL) to read it there",
                exitCode: ExitStatus.usage)
        }
        let client = try connect()
        let id = try runningVersion(from: client)
        let note =
            "running version \(id.version) taken from the id of Connectware's last backup (\(id)); give --running if it was upgraded since"
        return (id.version, client.baseURL, note)
    }
}

extension RestoreRefusal {
    /// A `--refusal` message as a refusal; one that names no version that restores the backup
    /// is a usage error, since no plan can follow from it.
    public static func given(_ message: String, backup: Version, running: Version) throws -> RestoreRefusal {
        let refused = RestoreRefusal(statusMessage: message, backupVersion: backup, runningVersion: running)
        switch refused.kind {
        case .versionRefusal: return refused
        case .refusalWithoutVersion:
            throw Failure(
                message: "--refusal: the message names no version that restores the backup: \(message)",
                hint:
                    "without a named version the refusal says only that \(running) refuses it; give the last version that restores a \(backup) backup in a compat file (--compat)",
                exitCode: ExitStatus.usage)
        case .failure:
            throw Failure(
                message: "--refusal: the message does not read as a refusal for the backup's version: \(message)",
                hint:
                    "a restore that failed for another reason (disk, dump, network) teaches nothing about versions; fix its cause and restore again",
                exitCode: ExitStatus.usage)
        }
    }
}
