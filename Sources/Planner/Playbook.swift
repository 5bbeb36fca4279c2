import YAML

/// A kind of step a plan can contain, named as playbooks, plans, journals and the JSON name it.
public enum StepKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case freshBackup = "fresh-backup"
    case shutdown
    case snapshotVolumes = "snapshot-volumes"
    case removeVolumes = "remove-volumes"
    case installOlder = "install-older"
    case waitHealthy = "wait-healthy"
    case restore
    case verifyRestore = "verify-restore"
    case upgrade
    case reBackup = "re-backup"
    case restart
    case retryIfRefused = "retry-if-refused"

    public var description: String { rawValue }

    /// Destroys data only the run's backup or snapshots bring back; every plan marks these steps.
    public var isDestructive: Bool { self == .removeVolumes || self == .restore }

    /// Changes the installation: stops, deletes, installs, restores or restarts it.
    public var changesInstallation: Bool {
        [.shutdown, .removeVolumes, .installOlder, .upgrade, .restore, .restart].contains(self)
    }

    /// Changes what the volumes hold so that only snapshots bring it back: removes them, or
    /// installs another version over them (an install migrates the database's schema on its first start).
    public var changesVolumes: Bool { [.removeVolumes, .installOlder, .upgrade].contains(self) }

    /// Takes Connectware down: a run's downtime begins with the first of these begun.
    public var takesConnectwareDown: Bool { [.shutdown, .restore, .restart].contains(self) }
}

/// How an older or newer Connectware version gets installed.
public enum InstallStrategy: String, Sendable, Codable, CaseIterable {
    /// The vendor's online installer, which pulls images from the registry.
    case installer
    /// Images saved beforehand with the installer's `-P`, loaded without a registry.
    case offlineImages = "offline-images"
}

/// The wording and commands of one kind of step, with `{{placeholders}}`.
public struct StepTemplate: Sendable, Equatable {
    public var title: String
    public var preconditions: [String]
    public var commands: [String]
    public var verification: [String]
    public var undo: [String]
    /// What a host whose Connectware runs under the systemd unit `connectware.service` does
    /// instead (the step's `systemd:` of the playbook); nil where it does the same.
    public var systemd: SystemdVariant?

    /// The commands and undo lines of a step on a systemd-managed host; nil keeps the step's own.
    public struct SystemdVariant: Sendable, Equatable {
        public var commands: [String]?
        public var undo: [String]?
    }
}

/// Per-installation data: which volumes the procedure removes, defaults such as the
/// project directory, and the command templates of each step.
public struct Playbook: Sendable, Equatable {
    public var installation: InstallationKind
    public var installStrategy: InstallStrategy
    /// Names available as `{{name}}` in templates (project, directory, namespace…).
    public var settings: [String: String]
    /// The volumes snapshotted and removed, in order; never `certs`.
    public var volumes: [String]
    public var steps: [StepKind: StepTemplate]

    /// Volumes that hold what no restore brings back; a playbook may never remove them.
    public static let protectedVolumes: Set<String> = ["certs"]

    /// Every step kind a plan can contain, as playbooks name them.
    static let stepKinds = StepKind.allCases.map(\.rawValue)

    /// Placeholders filled from the plan itself; settings add their own names.
    static let builtInPlaceholders: Set<String> = [
        "backupFile", "backupVersion", "runningVersion", "restoreVersion", "upgradeFrom", "upgradeTo", "version",
        "volume", "volumeList",
    ]

    /// Reads a playbook; `source` names the file in every problem reported.
    public init(yaml text: String, source: String) throws(PlannerError) {
        var reader = DataFileReader(source: source)
        var installation: InstallationKind?
        var strategy = InstallStrategy.installer
        var settings: [String: String] = [:]
        var volumes: [String] = []
        var steps: [StepKind: StepTemplate] = [:]
        let topKeys = ["schema", "installation", "installStrategy", "settings", "volumes", "steps"]
        if let root = reader.root(of: text) {
            if let top = reader.mapping(
                root, "the playbook", allowed: topKeys, required: ["installation", "volumes", "steps"])
            {
                if let schema = top["schema"], let value = reader.string(schema, "schema"), value != "1" {
                    reader.report("schema \(value) is not supported; this cwmigrate reads schema 1", at: schema)
                }
                if let node = top["installation"], let text = reader.string(node, "installation") {
                    installation = InstallationKind(rawValue: text)
                    if installation == nil {
                        reader.report(
                            "installation '\(text)' is not one of \(InstallationKind.allCases.map(\.rawValue).joined(separator: ", "))",
                            at: node)
                    }
                }
                if let node = top["installStrategy"], let text = reader.string(node, "installStrategy") {
                    if let value = InstallStrategy(rawValue: text) {
                        strategy = value
                    } else {
                        reader.report(
                            "installStrategy '\(text)' is not one of \(InstallStrategy.allCases.map(\.rawValue).joined(separator: ", "))",
                            at: node)
                    }
                }
                if let node = top["settings"], !reader.isNull(node) {
                    if let mapping = node.mapping {
                        for (key, value) in mapping {
                            guard let name = reader.string(key, "a settings key"),
                                let text = reader.string(value, "setting '\(key.string ?? "")'")
                            else { continue }
                            if Self.builtInPlaceholders.contains(name) {
                                reader.report(
                                    "setting '\(name)' would hide the built-in placeholder of that name", at: key)
                            } else if !Self.isPlaceholderName(name) {
                                reader.report(
                                    "setting '\(name)' must be letters and digits only, to be usable as {{\(name)}}",
                                    at: key)
                            }
                            settings[name] = text
                        }
                    } else {
                        reader.report("settings must be a mapping of names to values", at: node)
                    }
                }
                if let node = top["volumes"], let items = reader.sequence(node, "volumes") {
                    for item in items {
                        guard let name = reader.string(item, "a volume") else { continue }
                        if Self.protectedVolumes.contains(name) {
                            reader.report(
                                "volume '\(name)' must never be removed: it holds the instance's CA and server keys, which no restore brings back",
                                at: item)
                        } else if name.isEmpty || volumes.contains(name) {
                            reader.report("volume '\(name)' is empty or listed twice", at: item)
                        } else {
                            volumes.append(name)
                        }
                    }
                    if items.isEmpty { reader.report("volumes must name at least the postgresql volume", at: node) }
                }
                if let node = top["steps"],
                    let mapping = reader.mapping(node, "steps", allowed: Self.stepKinds, required: Self.stepKinds)
                {
                    let known = Self.builtInPlaceholders.union(settings.keys)
                    for (key, value) in mapping {
                        guard let id = key.string, let kind = StepKind(rawValue: id) else { continue }
                        if let template = Self.template(value, id: id, placeholders: known, reader: &reader) {
                            steps[kind] = template
                        }
                    }
                }
                for (name, value) in settings {
                    for placeholder in placeholders(in: value)
                    where !Self.builtInPlaceholders.contains(placeholder)
                        || ["volume", "version", "volumeList"].contains(placeholder)
                    {
                        reader.report(
                            "setting '\(name)' uses {{\(placeholder)}}; settings may use only backupFile, backupVersion, runningVersion, restoreVersion",
                            at: top["settings"])
                    }
                }
            }
        } else if reader.problems.isEmpty {
            reader.report("the playbook is empty", line: nil)
        }
        try reader.finish()
        guard let installation else { throw .invalidDataFile(source: source, problems: []) }
        self.installation = installation
        self.installStrategy = strategy
        self.settings = settings
        self.volumes = volumes
        self.steps = steps
    }

    private static func template(
        _ node: YAMLNode, id: String, placeholders known: Set<String>, reader: inout DataFileReader
    ) -> StepTemplate? {
        let what = "step '\(id)'"
        guard
            let m = reader.mapping(
                node, what, allowed: ["title", "preconditions", "commands", "verification", "undo", "systemd"],
                required: ["title", "commands"])
        else {
            return nil
        }
        func lines(_ key: String, in m: YAMLNode.Mapping, _ what: String) -> [String] {
            guard let list = m[key] else { return [] }
            let texts = reader.strings(list, "\(key) of \(what)")
            for (item, text) in zip(list.sequence.map(Array.init) ?? [], texts) {
                for name in placeholders(in: text) where !known.contains(name) {
                    reader.report(
                        "unknown placeholder {{\(name)}} in \(key) of \(what); known: \(known.sorted().joined(separator: ", "))",
                        at: item)
                }
            }
            return texts
        }
        let title = reader.string(m["title"], "title of \(what)") ?? ""
        for name in placeholders(in: title) where !known.contains(name) || name == "volume" {
            reader.report("unknown placeholder {{\(name)}} in the title of \(what)", at: m["title"])
        }
        var systemd: StepTemplate.SystemdVariant?
        if let node = m["systemd"] {
            let inner = "the systemd variant of \(what)"
            if let v = reader.mapping(node, inner, allowed: ["commands", "undo"], required: []) {
                systemd = StepTemplate.SystemdVariant(
                    commands: v["commands"].map { _ in lines("commands", in: v, inner) },
                    undo: v["undo"].map { _ in lines("undo", in: v, inner) })
            }
        }
        return StepTemplate(
            title: title, preconditions: lines("preconditions", in: m, what), commands: lines("commands", in: m, what),
            verification: lines("verification", in: m, what), undo: lines("undo", in: m, what), systemd: systemd)
    }

    /// The playbook for a host whose Connectware runs under the systemd unit: every step
    /// with a `systemd:` variant uses its commands and undo lines instead.
    public func managedBySystemd() -> Playbook {
        var copy = self
        for (kind, template) in steps {
            guard let variant = template.systemd else { continue }
            var changed = template
            if let commands = variant.commands { changed.commands = commands }
            if let undo = variant.undo { changed.undo = undo }
            changed.systemd = nil
            copy.steps[kind] = changed
        }
        return copy
    }

    static func isPlaceholderName(_ name: String) -> Bool {
        (name.first?.isASCIILetter ?? false) && name.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit }
    }
}

/// The `{{name}}` placeholders in a template line, in order. Only plain names count,
/// so Go templates of docker commands (`{{.Names}}`) pass through untouched.
func placeholders(in text: String) -> [String] {
    var names: [String] = []
    var rest = Substring(text)
    while let open = rest.firstRange(of: "{{") {
        guard let close = rest[open.upperBound...].firstRange(of: "}}") else { break }
        let name = String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces
        if Playbook.isPlaceholderName(name) { names.append(name) }
        rest = rest[close.upperBound...]
    }
    return names
}

/// Fills `{{name}}` placeholders; unknown names and non-names stay as they are.
func fill(_ text: String, _ values: [String: String]) -> String {
    var out = ""
    var rest = Substring(text)
    while let open = rest.firstRange(of: "{{") {
        guard let close = rest[open.upperBound...].firstRange(of: "}}") else { break }
        out += rest[..<open.lowerBound]
        let name = String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces
        out += values[name] ?? String(rest[open.lowerBound..<close.upperBound])
        rest = rest[close.upperBound...]
    }
    return out + rest
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
