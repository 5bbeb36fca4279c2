/// One step of a plan, complete enough for a person to carry it out and to undo it.
public struct Step: Sendable, Equatable, Codable {
    /// Stable across runs and versions: the executor's journal and runbooks refer to it.
    public let id: String
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
    public let decision: String
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
    public let steps: [Step]

    enum CodingKeys: String, CodingKey {
        case decision, backupVersion, runningVersion, restoreVersion, upgradePath, installation, installStrategy
        case volumes, reason, exampleData, refusalMessage, settings, steps
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
    }
}

/// Decides and lays out the steps for `backup` on `running` with `playbook`'s commands.
/// `backupFile` fills `{{backupFile}}`; without it the command shows a marked placeholder.
public func makePlan(
    backup: Version, running: Version, knowledge: CompatibilityKnowledge, playbook: Playbook,
    refusal: RestoreRefusal? = nil, backupFile: String? = nil
) -> Plan {
    let assessment = decide(backup: backup, running: running, knowledge: knowledge, refusal: refusal)
    let restoreVersion: Version
    let outline: [(kind: String, versions: [Version])]
    switch assessment.decision {
    case .downgradeRequired(let restoreAt):
        restoreVersion = restoreAt
        outline = [
            ("fresh-backup", [running]), ("shutdown", [running]), ("snapshot-volumes", [running]),
            ("remove-volumes", [running]), ("install-older", [restoreAt]), ("wait-healthy", [restoreAt]),
            ("restore", [restoreAt]), ("verify-restore", [restoreAt]), ("upgrade", assessment.upgradePath),
            ("wait-healthy", [running]), ("re-backup", [running]),
        ]
    case .directRestore:
        restoreVersion = running
        outline = [
            ("fresh-backup", [running]), ("restore", [running]), ("verify-restore", [running]), ("restart", [running]),
        ]
    case .compatibilityUnknown:
        restoreVersion = running
        outline = [
            ("fresh-backup", [running]), ("restore", [running]), ("retry-if-refused", [running]),
            ("verify-restore", [running]), ("restart", [running]),
        ]
    case .upgradeFirst(let target):
        restoreVersion = target
        // The upgrade migrates the live database: its volumes are copied first, so a way
        // back restores them instead of installing the old version over a newer schema.
        outline = [
            ("fresh-backup", [running]), ("shutdown", [running]), ("snapshot-volumes", [running]),
            ("upgrade", assessment.upgradePath), ("wait-healthy", [target]),
            ("restore", [target]), ("verify-restore", [target]), ("restart", [target]),
        ]
    }
    var values: [String: String] = [
        "backupFile": backupFile.map(shellQuoted) ?? "<backup file>",
        "backupVersion": backup.description,
        "runningVersion": running.description,
        "restoreVersion": restoreVersion.description,
        "volumeList": playbook.volumes.joined(separator: ", "),
    ]
    let builtIns = values
    for (name, value) in playbook.settings { values[name] = fill(value, builtIns) }
    let steps = outline.compactMap { kind, versions -> Step? in
        guard let template = playbook.steps[kind] else { return nil }
        return step(kind, template, versions: versions, volumes: playbook.volumes, values: values)
    }
    return Plan(
        decision: assessment.decision.name, backupVersion: backup, runningVersion: running,
        restoreVersion: assessment.decision.restoreVersion, upgradePath: assessment.upgradePath,
        installation: playbook.installation, installStrategy: playbook.installStrategy, volumes: playbook.volumes,
        reason: assessment.reason, exampleData: assessment.usesExampleData, refusalMessage: refusal?.statusMessage,
        settings: playbook.settings, steps: steps)
}

/// Steps that destroy data on the running installation; the playbook cannot change this.
let destructiveSteps: Set<String> = ["remove-volumes", "restore"]

private func step(
    _ kind: String, _ template: StepTemplate, versions: [Version], volumes: [String], values: [String: String]
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
        id: kind, title: fill(template.title, values), destructive: destructiveSteps.contains(kind),
        preconditions: expand(template.preconditions), commands: expand(template.commands),
        verification: expand(template.verification), undo: expand(template.undo))
}

/// A word as the shell reads it back: unchanged when it is plain, else single-quoted.
func shellQuoted(_ text: String) -> String {
    let plain = !text.isEmpty && text.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "/._-:+=@%,".contains($0) }
    return plain ? text : "'" + text.map { $0 == "'" ? "'\\''" : String($0) }.joined() + "'"
}
