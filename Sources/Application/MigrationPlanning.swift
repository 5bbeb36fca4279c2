import ArchiveInspect
import DockerOps
import Migration
import Planner

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How `migrate` plans for the installation found on this host: the operator's knowledge
/// files, the playbook and installer directory, or a saved plan to carry out as reviewed.
public struct MigrationPlanning: Sendable {
    /// `--compat FILE…`: the operator's own knowledge files.
    public var compatFiles: [String]
    /// `--no-example-data`: example barriers are ignored.
    public var ignoringExamples: Bool
    /// `--playbook FILE`, else the bundled docker-compose one.
    public var playbookPath: String?
    /// `--playbooks DIR`: where the bundled compat.yml and playbooks are.
    public var dataDirectory: String?
    /// `--installer-dir DIR`, else the playbook's installerDir.
    public var installerDirectory: String?
    /// `--plan FILE`: a plan saved by `plan --json --output FILE`.
    public var savedPlanPath: String?

    public init(
        compatFiles: [String], ignoringExamples: Bool, playbookPath: String?, dataDirectory: String? = nil,
        installerDirectory: String?, savedPlanPath: String?
    ) {
        self.compatFiles = compatFiles
        self.ignoringExamples = ignoringExamples
        self.playbookPath = playbookPath
        self.dataDirectory = dataDirectory
        self.installerDirectory = installerDirectory
        self.savedPlanPath = savedPlanPath
    }

    /// From what `plan` and `runbook` plan from (its installation aside: a migration is of a
    /// Compose installation).
    public init(sources: PlanSources, installerDirectory: String?, savedPlanPath: String?) {
        self.init(
            compatFiles: sources.compatFiles, ignoringExamples: sources.ignoringExamples,
            playbookPath: sources.playbookPath, dataDirectory: sources.dataDirectory,
            installerDirectory: installerDirectory, savedPlanPath: savedPlanPath)
    }

    /// The saved plan (`--plan`), read afresh; nil without one.
    public func savedPlan() throws -> Plan? { try savedPlanPath.map(LocalKnowledge.savedPlan(at:)) }

    /// The backup to restore: `given` (`--backup`), else the one the saved plan names; empty
    /// when neither is known (resuming a run, which has its own).
    public func backupPath(given: String?) -> String {
        given ?? (try? savedPlan())?.flatMap { $0.basis?.backupFile } ?? ""
    }

    /// What the plan is made from: the knowledge (a saved plan's own operator files unless
    /// `--compat` names others, copies on another host) and the playbook with this installation's settings.
    public func basis(project: String, directory: String?) throws -> (LoadedKnowledge, Playbook, ignoringExamples: Bool) {
        let saved = try savedPlan()
        let operatorFiles =
            compatFiles.isEmpty
            ? (saved?.basis?.knowledge.filter { $0.authority == .operatorFile }.map(\.path) ?? []) : compatFiles
        let ignoring = ignoringExamples || (saved?.basis?.ignoresExampleData ?? false)
        let loaded = try LocalKnowledge.loadWithFiles(
            compatFiles: operatorFiles, ignoringExamples: ignoring, playbooks: dataDirectory)
        var chosen = try LocalKnowledge.playbook(path: playbookPath, installation: .dockerCompose, playbooks: dataDirectory)
        chosen.settings["project"] = project
        if let directory { chosen.settings["directory"] = directory }
        if let installerDirectory { chosen.settings["installerDir"] = installerDirectory }
        return (loaded, chosen, ignoring)
    }

    /// The plan from what is known here (and a server's refusal, when there is one).
    public func plan(
        backupVersion: Version, running: Version, project: String, directory: String?, refusal: RestoreRefusal?,
        backupFile: String, backupSHA256: String? = nil
    ) throws -> Plan {
        let (loaded, playbook, ignoring) = try basis(project: project, directory: directory)
        var plan = makePlan(
            backup: backupVersion, running: running, knowledge: loaded.knowledge, playbook: playbook, refusal: refusal,
            backupFile: backupFile)
        plan.basis = PlanBasis(
            backupFile: backupFile, backupSHA256: backupSHA256, project: project, directory: directory,
            knowledge: loaded.files, ignoresExampleData: ignoring)
        return plan
    }

    /// What a run of `journal` plans again from when the restore is refused at the running version.
    public func replanning(for journal: Journal) throws -> Replanning {
        let (loaded, playbook, _) = try basis(project: journal.installation.name, directory: journal.installation.directory)
        return Replanning(knowledge: loaded.knowledge, playbook: playbook)
    }

    /// The plan for this installation: the saved one (`--plan`) when the world is still the one
    /// it was made for, else a refusal saying what changed; without `--plan`, the plan made here.
    public func checkedPlan(facts: ArchiveFacts, running: Version, installation: Installation, backupFile: String)
        throws -> Plan
    {
        let current = try plan(
            backupVersion: facts.version, running: running, project: installation.project,
            directory: installation.workingDirectory, refusal: nil, backupFile: backupFile, backupSHA256: facts.sha256)
        guard let savedPlanPath, let saved = try savedPlan() else { return current }
        let changes = saved.differences(from: current)
        guard changes.isEmpty else { throw RunLifecycleError.savedPlanDoesNotHold(path: savedPlanPath, changes: changes) }
        guard saved.hasSteps else { throw RunLifecycleError.savedPlanHasNoSteps(path: savedPlanPath, reason: saved.reason) }
        return saved
    }

    /// `migrate --dry-run`: the backup read and verified to its end, the installation found
    /// through Docker with the one version it runs, and the plan for them.
    public func planHere(
        backupPath: String, assumedVersion: Version?, dockerEnvironment: [String: String], project: String?
    ) throws -> (plan: Plan, installation: Installation, running: Version) {
        let facts = try inspectBackup(
            at: backupPath, options: InspectOptions(verify: true, assumedVersion: assumedVersion))
        let installation = try ConnectwareHost(environment: dockerEnvironment).discover(project: project)
        let running = try RunLifecycle.runningVersion(of: installation)
        let plan = try checkedPlan(
            facts: facts, running: running, installation: installation, backupFile: absolutePath(backupPath))
        return (plan, installation, running)
    }
}
