/// One step of a plan, complete enough for a person to carry it out and to undo it.
public struct Step: Sendable, Equatable, Codable {
    /// Stable across runs and versions: the executor's journal and runbooks refer to it.
    public let id: StepKind
    public let title: String
    public let destructive: Bool
    public let preconditions: [String]
    public let commands: [String]
    public let verification: [String]
    public let undo: [String]
}

/// The plan for bringing one backup onto one running Connectware: the decision, why,
/// and the steps. A value, so the text, JSON and runbook renderers and the executor
/// all read the same thing.
public struct Plan: Sendable, Equatable, Codable {
    /// `direct-restore`, `downgrade-required`, `upgrade-first` or `compatibility-unknown`.
    public let decision: DecisionKind
    public let backupVersion: Version
    public let runningVersion: Version
    /// The version the backup is restored on, when the plan names one.
    public let restoreVersion: Version?
    /// Versions upgraded through after the restore (before it, for upgrade-first).
    public let upgradePath: [Version]
    public let installation: InstallationKind
    public let installStrategy: InstallStrategy
    public let volumes: [String]
    public let reason: String
    /// Whether an example barrier shipped with cwmigrate decided this plan.
    public let exampleData: Bool
    /// The server's whole refusal message, when a refusal took part.
    public let refusalMessage: String?
    public let settings: [String: String]
    /// Empty when there is no plan to carry out; `reason` then says why.
    public let steps: [Step]
    /// Every fact the decision used, each with its source (file and line, or server and date).
    public var facts: [PlanFact]
    /// Where sources disagreed, both named, and which one the plan follows.
    public var disagreements: [Disagreement]
    /// The backup's version was read from its metadata only (`--quick`), not from the whole archive.
    public var partialRead: Bool
    /// What the plan was made from, so that `migrate --plan` can check the world is still the same.
    public var basis: PlanBasis?

    public init(
        decision: DecisionKind, backupVersion: Version, runningVersion: Version, restoreVersion: Version?,
        upgradePath: [Version], installation: InstallationKind, installStrategy: InstallStrategy, volumes: [String],
        reason: String, exampleData: Bool, refusalMessage: String?, settings: [String: String], steps: [Step],
        facts: [PlanFact] = [], disagreements: [Disagreement] = [], partialRead: Bool = false, basis: PlanBasis? = nil
    ) {
        self.decision = decision
        self.backupVersion = backupVersion
        self.runningVersion = runningVersion
        self.restoreVersion = restoreVersion
        self.upgradePath = upgradePath
        self.installation = installation
        self.installStrategy = installStrategy
        self.volumes = volumes
        self.reason = reason
        self.exampleData = exampleData
        self.refusalMessage = refusalMessage
        self.settings = settings
        self.steps = steps
        self.facts = facts
        self.disagreements = disagreements
        self.partialRead = partialRead
        self.basis = basis
    }

    /// Whether the plan has steps to carry out.
    public var hasSteps: Bool { !steps.isEmpty }

    enum CodingKeys: String, CodingKey {
        case decision, backupVersion, runningVersion, restoreVersion, upgradePath, installation, installStrategy
        case volumes, reason, exampleData, refusalMessage, settings, steps, facts, disagreements, partialRead, basis
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        decision = try c.decode(DecisionKind.self, forKey: .decision)
        backupVersion = try c.decode(Version.self, forKey: .backupVersion)
        runningVersion = try c.decode(Version.self, forKey: .runningVersion)
        restoreVersion = try c.decodeIfPresent(Version.self, forKey: .restoreVersion)
        upgradePath = try c.decode([Version].self, forKey: .upgradePath)
        installation = try c.decode(InstallationKind.self, forKey: .installation)
        installStrategy = try c.decode(InstallStrategy.self, forKey: .installStrategy)
        volumes = try c.decode([String].self, forKey: .volumes)
        reason = try c.decode(String.self, forKey: .reason)
        exampleData = try c.decode(Bool.self, forKey: .exampleData)
        refusalMessage = try c.decodeIfPresent(String.self, forKey: .refusalMessage)
        settings = try c.decode([String: String].self, forKey: .settings)
        steps = try c.decode([Step].self, forKey: .steps)
        // Plans saved in journals before these fields existed read as having none.
        facts = try c.decodeIfPresent([PlanFact].self, forKey: .facts) ?? []
        disagreements = try c.decodeIfPresent([Disagreement].self, forKey: .disagreements) ?? []
        partialRead = try c.decodeIfPresent(Bool.self, forKey: .partialRead) ?? false
        basis = try c.decodeIfPresent(PlanBasis.self, forKey: .basis)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(decision, forKey: .decision)
        try c.encode(backupVersion, forKey: .backupVersion)
        try c.encode(runningVersion, forKey: .runningVersion)
        // Present as null rather than missing, so a consumer can rely on the key.
        try c.encode(restoreVersion, forKey: .restoreVersion)
        try c.encode(upgradePath, forKey: .upgradePath)
        try c.encode(installation, forKey: .installation)
        try c.encode(installStrategy, forKey: .installStrategy)
        try c.encode(volumes, forKey: .volumes)
        try c.encode(reason, forKey: .reason)
        try c.encode(exampleData, forKey: .exampleData)
        try c.encode(refusalMessage, forKey: .refusalMessage)
        try c.encode(settings, forKey: .settings)
        try c.encode(steps, forKey: .steps)
        try c.encode(facts, forKey: .facts)
        try c.encode(disagreements, forKey: .disagreements)
        try c.encode(partialRead, forKey: .partialRead)
        try c.encode(basis, forKey: .basis)
    }
}

/// What a plan was made from, beyond its versions: the backup file and its digest, the
/// installation, and each knowledge file with its digest. The CLI fills it in (the Planner
/// reads no files); `migrate --plan` compares it with the world it finds.
public struct PlanBasis: Sendable, Equatable, Codable {
    public var backupFile: String?
    /// The whole archive's SHA-256; nil when the plan was made without reading it all (`--quick`).
    public var backupSHA256: String?
    /// The compose project and directory the plan's commands name.
    public var project: String?
    public var directory: String?
    public var knowledge: [KnowledgeFile]
    /// Whether example barriers were left out (`--no-example-data`).
    public var ignoresExampleData: Bool

    public init(
        backupFile: String?, backupSHA256: String?, project: String?, directory: String?, knowledge: [KnowledgeFile],
        ignoresExampleData: Bool
    ) {
        self.backupFile = backupFile
        self.backupSHA256 = backupSHA256
        self.project = project
        self.directory = directory
        self.knowledge = knowledge
        self.ignoresExampleData = ignoresExampleData
    }

    enum CodingKeys: String, CodingKey {
        case backupFile, backupSHA256, project, directory, knowledge, ignoresExampleData
    }

    public func encode(to encoder: any Encoder) throws {
        // Every key present, null when unknown, so a consumer can rely on the keys.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(backupFile, forKey: .backupFile)
        try c.encode(backupSHA256, forKey: .backupSHA256)
        try c.encode(project, forKey: .project)
        try c.encode(directory, forKey: .directory)
        try c.encode(knowledge, forKey: .knowledge)
        try c.encode(ignoresExampleData, forKey: .ignoresExampleData)
    }
}

/// One compat file a plan was made from, and its SHA-256 at the time.
public struct KnowledgeFile: Sendable, Equatable, Codable {
    /// `shipped`, `server` (the learned file) or `operator` (`--compat`).
    public var authority: KnowledgeAuthority
    public var path: String
    public var sha256: String

    public init(authority: KnowledgeAuthority, path: String, sha256: String) {
        self.authority = authority
        self.path = path
        self.sha256 = sha256
    }
}

/// Decides and lays out the steps for `backup` on `running` with `playbook`'s commands.
/// `backupFile` fills `{{backupFile}}`; without it the command shows a marked placeholder.
public func makePlan(
    backup: Version, running: Version, knowledge: CompatibilityKnowledge, playbook: Playbook,
    refusal: RestoreRefusal? = nil, refusalSource: FactSource? = nil, backupFile: String? = nil
) -> Plan {
    let assessment = decide(
        backup: backup, running: running, knowledge: knowledge, refusal: refusal, refusalSource: refusalSource)
    let restoreVersion: Version
    var outline: [(kind: StepKind, versions: [Version])]
    // The upgrade step goes from the version the backup is restored on to the target.
    var upgradeFrom = running
    var upgradeTo = running
    switch assessment.decision {
    case .downgradeRequired(let restoreAt):
        restoreVersion = restoreAt
        upgradeFrom = restoreAt
        outline = [
            (.freshBackup, [running]), (.shutdown, [running]), (.snapshotVolumes, [running]),
            (.removeVolumes, [running]), (.installOlder, [restoreAt]), (.waitHealthy, [restoreAt]),
            (.restore, [restoreAt]), (.verifyRestore, [restoreAt]), (.upgrade, assessment.upgradePath),
            (.waitHealthy, [running]), (.reBackup, [running]),
        ]
    case .directRestore:
        restoreVersion = running
        outline = [
            (.freshBackup, [running]), (.restore, [running]), (.verifyRestore, [running]), (.restart, [running]),
        ]
    case .compatibilityUnknown:
        restoreVersion = running
        outline = [
            (.freshBackup, [running]), (.restore, [running]), (.retryIfRefused, [running]),
            (.verifyRestore, [running]), (.restart, [running]),
        ]
    case .upgradeFirst(let target):
        restoreVersion = target
        // The upgrade migrates the live database: its volumes are copied first, so a way
        // back restores them instead of installing the old version over a newer schema.
        upgradeTo = target
        outline = [
            (.freshBackup, [running]), (.shutdown, [running]), (.snapshotVolumes, [running]),
            (.upgrade, assessment.upgradePath), (.waitHealthy, [target]),
            (.restore, [target]), (.verifyRestore, [target]), (.restart, [target]),
        ]
    }
    if assessment.noPlan { outline = [] }
    var values: [String: String] = [
        "backupFile": backupFile.map(shellQuoted) ?? "<backup file>",
        "backupVersion": backup.description,
        "runningVersion": running.description,
        "restoreVersion": restoreVersion.description,
        "upgradeFrom": upgradeFrom.description,
        "upgradeTo": upgradeTo.description,
        "volumeList": playbook.volumes.joined(separator: ", "),
    ]
    let builtIns = values
    for (name, value) in playbook.settings { values[name] = fill(value, builtIns) }
    let steps = outline.compactMap { kind, versions -> Step? in
        guard let template = playbook.steps[kind] else { return nil }
        return step(kind, template, versions: versions, volumes: playbook.volumes, values: values)
    }
    let restoresOn: Version? =
        switch assessment.decision {
        case .directRestore: running
        default: assessment.decision.restoreVersion
        }
    return Plan(
        decision: assessment.decision.kind, backupVersion: backup, runningVersion: running,
        restoreVersion: assessment.noPlan ? nil : restoresOn, upgradePath: assessment.upgradePath,
        installation: playbook.installation, installStrategy: playbook.installStrategy, volumes: playbook.volumes,
        reason: assessment.reason, exampleData: assessment.usesExampleData, refusalMessage: refusal?.statusMessage,
        settings: playbook.settings, steps: steps, facts: assessment.facts, disagreements: assessment.disagreements)
}

/// Steps that destroy data on the running installation; the playbook cannot change this.

private func step(
    _ kind: StepKind, _ template: StepTemplate, versions: [Version], volumes: [String], values: [String: String]
) -> Step {
    var values = values
    values["version"] = versions.last?.description
    func expand(_ lines: [String]) -> [String] {
        lines.flatMap { line -> [String] in
            let names = placeholders(in: line)
            let volumeValues = names.contains("volume") ? volumes : [""]
            let versionValues = names.contains("version") ? versions.map(\.description) : [values["version"] ?? ""]
            // {{version}} lines repeat per version in order (upgrade stops), {{volume}} lines per volume.
            return versionValues.flatMap { version in
                volumeValues.map { volume in
                    var local = values
                    local["version"] = version
                    local["volume"] = volume
                    return fill(line, local)
                }
            }
        }
    }
    return Step(
        id: kind, title: fill(template.title, values), destructive: kind.isDestructive,
        preconditions: expand(template.preconditions), commands: expand(template.commands),
        verification: expand(template.verification), undo: expand(template.undo))
}

extension Plan {
    /// What every output that shows a plan says when an example barrier decided it.
    public static let exampleDataNote =
        "an EXAMPLE barrier shipped with cwmigrate decided this plan; it is illustration data, not a known Connectware barrier"

    /// What differs between this plan, as it was saved and reviewed, and `current`, made again
    /// from the world as it is now: each difference as one sentence; empty when the saved plan
    /// still holds. Compared: the backup's digest, the versions, the installation, the knowledge
    /// files' digests and the decision with its steps (the commands' wording may differ where
    /// paths differ, so the steps are compared by kind).
    public func differences(from current: Plan) -> [String] {
        var found: [String] = []
        let saved = basis
        let now = current.basis
        if saved?.backupSHA256 == nil {
            found.append(
                "the saved plan names no backup digest (it was made with --quick or --backup-version); make it again from the whole backup file"
            )
        } else if saved?.backupSHA256 != now?.backupSHA256 {
            found.append(
                "the backup's SHA-256 is \(now?.backupSHA256 ?? "unknown"), the plan was made for \(saved?.backupSHA256 ?? "unknown")"
            )
        }
        if backupVersion != current.backupVersion {
            found.append(
                "the backup is of Connectware \(current.backupVersion), the plan was made for \(backupVersion)")
        }
        if runningVersion != current.runningVersion {
            found.append("Connectware \(current.runningVersion) runs here, the plan was made for \(runningVersion)")
        }
        if installation != current.installation {
            found.append(
                "the installation is \(current.installation.rawValue), the plan was made for \(installation.rawValue)")
        }
        if let project = saved?.project, let here = now?.project, project != here {
            found.append("the installation here is project \(here), the plan was made for project \(project)")
        }
        if let directory = saved?.directory, let here = now?.directory, directory != here {
            found.append("the installation here is in \(here), the plan was made for \(directory)")
        }
        for authority in KnowledgeAuthority.allCases {
            let before = (saved?.knowledge ?? []).filter { $0.authority == authority }
            let after = (now?.knowledge ?? []).filter { $0.authority == authority }
            guard before.map(\.sha256) != after.map(\.sha256) else { continue }
            let what =
                switch authority {
                case .shipped: "the shipped compat.yml"
                case .server: "the learned compat file (what servers said)"
                case .operatorFile: "the operator's compat files"
                }
            func list(_ files: [KnowledgeFile]) -> String {
                files.isEmpty
                    ? "none" : files.map { "\($0.path) (SHA-256 \($0.sha256.prefix(12)))" }.joined(separator: ", ")
            }
            found.append("\(what) changed: the plan was made from \(list(before)), here it is \(list(after))")
        }
        if (saved?.ignoresExampleData ?? false) != (now?.ignoresExampleData ?? false) {
            found.append(
                "--no-example-data was \((saved?.ignoresExampleData ?? false) ? "given" : "not given") when the plan was made"
            )
        }
        if found.isEmpty {
            if decision != current.decision || restoreVersion != current.restoreVersion
                || upgradePath != current.upgradePath
            {
                found.append(
                    "the decision here is \(current.decision) (restore on \(current.restoreVersion?.description ?? "-")), the plan says \(decision) (restore on \(restoreVersion?.description ?? "-"))"
                )
            } else if steps.map(\.id) != current.steps.map(\.id) || volumes != current.volumes
                || installStrategy != current.installStrategy
            {
                found.append(
                    "the steps here are \(current.steps.map(\.id.rawValue).joined(separator: ", ")), the plan's are \(steps.map(\.id.rawValue).joined(separator: ", "))"
                )
            }
        }
        return found
    }
}
