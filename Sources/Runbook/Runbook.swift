#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Planner

/// The forms a runbook comes in.
public enum RunbookFormat: String, Sendable, CaseIterable {
    /// One Markdown document; its command blocks are fenced `sh` blocks, one per step.
    case markdown
    /// One self-contained HTML page that prints with a page per step.
    case html
    /// An Ansible playbook, an example inventory and a README, for many Compose hosts.
    case ansible

    /// The files this format writes into its output directory (ansible), or the one file.
    public var fileNames: [String] {
        RunbookTemplates.files(for: self).map(\.output) + (self == .ansible ? ["plan.json"] : [])
    }

    /// Refuses what this format cannot be made from, before anything is read: an Ansible
    /// playbook is a directory of files (`output`), for Docker Compose hosts, and ships a plan
    /// with the SHA-256 of the whole backup (not a `quick` read).
    public func check(output: String?, installation: InstallationKind?, quick: Bool) throws(RunbookError) {
        guard self == .ansible else { return }
        if output == nil { throw .ansibleWithoutDirectory }
        if installation == .kubernetes { throw .ansibleForKubernetes }
        if quick { throw .ansibleFromPartialRead }
    }
}

/// One file of a rendered runbook, named relative to the output.
public struct RunbookFile: Sendable, Equatable {
    public let name: String
    public let text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// What a runbook says about its circumstances beyond the plan: where, which backup, when.
public struct RunbookSubject: Sendable {
    /// The Connectware address the operator gave, if any.
    public var instanceURL: String?
    /// The backup file as the operator named it.
    public var backupFile: String
    public var backupID: String?
    public var backupSHA256: String?
    public var generatedAt: Date
    /// The site names the plan's commands use, known or as placeholders.
    public var names: [SiteName]
    /// The cwmigrate executable an Ansible playbook copies to each host.
    public var cwmigrateBinary: String?
    /// The version of cwmigrate that wrote the runbook.
    public var generator: String
    /// cwmigrate's data directory (compat.yml, playbooks), copied beside the executable by Ansible.
    public var dataDirectory: String?
    /// The operator's compat files and the learned one the plan was made from, as written beside
    /// an Ansible playbook (file name, text), so each host plans from exactly the same knowledge.
    public var compatCopies: [RunbookFile] = []
    public var learnedCopy: RunbookFile?

    public init(
        instanceURL: String?, backupFile: String, backupID: String?, backupSHA256: String?, generatedAt: Date,
        names: [SiteName], cwmigrateBinary: String? = nil, generator: String = "cwmigrate",
        dataDirectory: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.instanceURL = instanceURL
        self.backupFile = backupFile
        self.backupID = backupID
        self.backupSHA256 = backupSHA256
        self.generatedAt = generatedAt
        self.names = names
        self.cwmigrateBinary = cwmigrateBinary
        self.generator = generator
    }
}

/// The templates of a runbook directory (`playbooks/runbook/` or `--templates DIR`):
/// every `*.mustache` file by its name without the extension, and `steps.yml`.
public struct RunbookTemplates: Sendable {
    public let directory: String
    let renderer: MustacheRenderer
    let wordingText: String
    let names: Set<String>

    public init(directory: String) throws(RunbookError) {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory
        else { throw .templatesNotFound(directory: directory) }
        self.directory = directory
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var templates: [String: MustacheTemplate] = [:]
        var names: Set<String> = []
        for entry in entries where entry.hasSuffix(".mustache") {
            let path = directory + "/" + entry
            let text = try Self.read(path)
            do {
                templates[String(entry.dropLast(".mustache".count))] = try MustacheTemplate(text)
            } catch {
                throw .invalidTemplate(path: path, problem: error.description)
            }
            names.insert(String(entry.dropLast(".mustache".count)))
        }
        self.renderer = MustacheRenderer(templates: templates)
        self.names = names
        self.wordingText = try Self.read(directory + "/steps.yml")
    }

    /// The template files `format` renders: output name and template name.
    static func files(for format: RunbookFormat) -> [(output: String, template: String)] {
        switch format {
        case .markdown: [("runbook.md", "runbook.md")]
        case .html: [("runbook.html", "runbook.html")]
        case .ansible:
            [
                ("site.yml", "ansible-playbook.yml"), ("inventory.example.ini", "ansible-inventory.ini"),
                ("README.md", "ansible-readme.md"),
            ]
        }
    }

    func render(_ context: [String: Any], template name: String) throws(RunbookError) -> String {
        guard names.contains(name), let text = renderer.render(name, context: context) else {
            throw .templateMissing(name: name, directory: directory)
        }
        return text
    }

    private static func read(_ path: String) throws(RunbookError) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw .unreadable(path: path) }
        return text
    }
}

/// Renders `plan` as a runbook in `format` with `templates`. The plan's commands are used as
/// they are: the runbook adds wording around them, never commands of its own, so what a person
/// executes and what `plan` prints cannot drift apart.
public func renderRunbook(
    _ plan: Plan, subject: RunbookSubject, format: RunbookFormat, templates: RunbookTemplates
) throws(RunbookError) -> [RunbookFile] {
    let wording = try loadStepWording(
        yaml: templates.wordingText, source: templates.directory + "/steps.yml", installation: plan.installation)
    let context = runbookContext(plan, subject: subject, wording: wording)
    var files: [RunbookFile] = []
    for (output, template) in RunbookTemplates.files(for: format) {
        files.append(RunbookFile(name: output, text: try templates.render(context, template: template)))
    }
    if format == .ansible {
        // The reviewed plan and its knowledge travel with the playbook: each host runs
        // `migrate --plan plan.json`, which refuses a host where that plan does not hold.
        files.append(RunbookFile(name: "plan.json", text: plan.renderJSON() + "\n"))
        files += subject.compatCopies
        if let learned = subject.learnedCopy { files.append(learned) }
    }
    return files
}

/// Everything a template can name. Values are plain strings and lists; templates decide the layout.
func runbookContext(_ plan: Plan, subject: RunbookSubject, wording: [String: StepWording]) -> [String: Any] {
    let steps: [[String: Any]] = plan.steps.enumerated().map { index, step in
        let words = wording[step.id.rawValue] ?? StepWording()
        func lines(_ texts: [String]) -> [[String: Any]] {
            texts.map { ["text": $0, "isCommand": looksLikeCommand($0)] }
        }
        return [
            "number": index + 1, "id": step.id.rawValue, "title": step.title, "destructive": step.destructive,
            "purpose": words.purpose, "hasPurpose": !words.purpose.isEmpty, "purposeParts": codeParts(words.purpose),
            "expected": words.expected, "hasExpected": !words.expected.isEmpty,
            "expectedParts": codeParts(words.expected),
            "ifFails": words.ifFails, "hasIfFails": !words.ifFails.isEmpty, "ifFailsParts": codeParts(words.ifFails),
            "preconditions": lines(step.preconditions), "hasPreconditions": !step.preconditions.isEmpty,
            "commands": step.commands, "hasCommands": !step.commands.isEmpty,
            "verification": lines(step.verification), "hasVerification": !step.verification.isEmpty,
            "undo": lines(step.undo), "hasUndo": !step.undo.isEmpty,
        ]
    }
    let names: [[String: Any]] = subject.names.map {
        [
            "setting": $0.setting, "label": $0.label, "shown": $0.shown, "known": $0.value != nil,
            "placeholder": $0.placeholder, "finder": $0.finder,
        ]
    }
    let settings = plan.settings
    let backupQuoted = shellQuoted(subject.backupFile)
    let binary = subject.cwmigrateBinary ?? "cwmigrate"
    var yaml: [String: String] = [
        "backupFile": yamlQuoted(absolutePath(subject.backupFile)),
        "backupFileName": yamlQuoted(lastPathComponent(subject.backupFile)),
        "binary": yamlQuoted(binary),
        "dataDirectory": yamlQuoted(subject.dataDirectory ?? ""),
        "backupSHA256": yamlQuoted(subject.backupSHA256 ?? ""),
        "backupID": yamlQuoted(subject.backupID ?? ""),
        "url": yamlQuoted(subject.instanceURL ?? ""),
        "decision": yamlQuoted(plan.decision.rawValue),
    ]
    for (name, value) in settings { yaml["setting_" + name] = yamlQuoted(value) }
    return [
        "generator": subject.generator,
        "binary": binary,
        "generatedAt": Timestamp.format(subject.generatedAt, .minute),
        "instance": subject.instanceURL ?? "(not given)",
        "hasInstance": subject.instanceURL != nil,
        "installation": plan.installation.rawValue,
        "isCompose": plan.installation == .dockerCompose,
        "isKubernetes": plan.installation == .kubernetes,
        "backupVersion": plan.backupVersion.description,
        "runningVersion": plan.runningVersion.description,
        "restoreVersion": plan.restoreVersion?.description ?? plan.runningVersion.description,
        "upgradePath": plan.upgradePath.map(\.description).joined(separator: " → "),
        "hasUpgradePath": !plan.upgradePath.isEmpty,
        "decision": plan.decision.rawValue,
        "isDowngrade": plan.decision == .downgradeRequired,
        "reason": plan.reason,
        "exampleData": plan.exampleData,
        "refusalMessage": plan.refusalMessage ?? "",
        "hasRefusal": plan.refusalMessage != nil,
        "volumes": plan.volumes,
        "volumeList": plan.volumes.joined(separator: ", "),
        "hasDestructive": plan.steps.contains(where: \.destructive),
        "backupFile": subject.backupFile,
        "backupFileShell": backupQuoted,
        "backupID": subject.backupID ?? "(unknown)",
        "backupSHA256": subject.backupSHA256 ?? "(not computed)",
        "names": names,
        "unknownNames": names.filter { $0["known"] as? Bool == false },
        "hasUnknownNames": subject.names.contains { $0.value == nil },
        "settings": settings,
        "stepCount": plan.steps.count,
        "steps": steps,
        "yaml": yaml,
        "compatCopies": subject.compatCopies.map { ["yamlName": yamlQuoted($0.name), "name": $0.name] },
        "hasLearned": subject.learnedCopy != nil,
        "partialRead": plan.partialRead,
        "facts": plan.facts.map { ["statement": $0.statement, "source": $0.source.text, "overruled": $0.overruled] },
        "hasFacts": !plan.facts.isEmpty,
        "disagreements": plan.disagreements.map(\.text),
        "hasDisagreements": !plan.disagreements.isEmpty,
    ]
}

/// Wording split at Markdown backticks into text and code parts, so the HTML template can show
/// code as code while every part stays escaped by the template engine.
func codeParts(_ text: String) -> [[String: Any]] {
    text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap { index, part in
        part.isEmpty ? nil : ["text": String(part), "isCode": index % 2 == 1]
    }
}

/// Whether a plan line is a command to type rather than a sentence: it starts with a program
/// the playbooks use. Sentences are shown as text, commands as code.
func looksLikeCommand(_ line: String) -> Bool {
    let programs: Set<String> = [
        "cwmigrate", "docker", "docker-compose", "kubectl", "helm", "tar", "cd", "mkdir", "curl", "bash", "df", "ls",
        "test", "[", "timeout", "sh", "sha256sum",
    ]
    guard let first = line.split(separator: " ", maxSplits: 1).first else { return false }
    return programs.contains(String(first))
}

func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
