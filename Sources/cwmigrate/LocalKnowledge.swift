import Foundation
import Planner

/// What this host knows about restore barriers and its installation: the bundled data,
/// the learned file, and the operator's own files, as `plan` and `restore` both read them.
enum LocalKnowledge {
    /// The bundled compat.yml, then the learned file, then each `--compat FILE`.
    static func load(compatFiles: [String], ignoringExamples: Bool, playbooks: String? = nil) throws
        -> CompatibilityKnowledge
    {
        let dataDirectory = try DataFiles.playbooksDirectory(explicit: playbooks)
        var knowledge = try compat(dataDirectory.appendingPathComponent("compat.yml").path)
        if let learned = DataFiles.learnedCompatFile(), FileManager.default.fileExists(atPath: learned.path) {
            knowledge = knowledge.merging(try compat(learned.path))
        }
        for file in compatFiles { knowledge = knowledge.merging(try compat(file)) }
        if ignoringExamples { knowledge.barriers.removeAll(where: \.example) }
        return knowledge
    }

    /// The playbook at `path`, else the bundled one for `installation` (docker-compose by default).
    static func playbook(path: String?, installation: InstallationKind?, playbooks: String? = nil) throws
        -> Playbook
    {
        let playbookPath =
            try path
            ?? DataFiles.playbooksDirectory(explicit: playbooks)
            .appendingPathComponent("\((installation ?? .dockerCompose).rawValue).yml").path
        let chosen = try Playbook(yaml: readText(playbookPath), source: playbookPath)
        if let installation, chosen.installation != installation {
            throw Failure(
                message:
                    "\(playbookPath) is a playbook for \(chosen.installation.rawValue), not \(installation.rawValue)",
                exitCode: ExitStatus.usage)
        }
        return chosen
    }

    /// Adds what a server refusal taught to the learned compat file (written whole, atomically),
    /// and returns the file's path; nil when there is nowhere to keep it.
    static func record(_ barrier: RestoreBarrier) throws -> URL? {
        guard let file = DataFiles.learnedCompatFile() else { return nil }
        var known = CompatibilityKnowledge.empty
        if FileManager.default.fileExists(atPath: file.path) { known = try compat(file.path) }
        let updated = known.merging(CompatibilityKnowledge(barriers: [barrier], upgradeStops: []))
        let text = updated.renderYAML(
            header: "Restore barriers that Connectware servers reported to cwmigrate restore.\n"
                + "Written by cwmigrate; read by cwmigrate plan and restore. Edit with care.")
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file, options: .atomic)
        } catch {
            throw Failure(
                message: "cannot record the learned barrier in \(file.path): \(error.localizedDescription)",
                exitCode: ExitStatus.cantCreate)
        }
        return file
    }

    static func compat(_ path: String) throws -> CompatibilityKnowledge {
        try CompatibilityKnowledge(yaml: readText(path), source: path)
    }

    static func readText(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(message: "\(path) does not exist", exitCode: ExitStatus.noInput)
        }
        guard !isDirectory.boolValue else {
            throw Failure(message: "\(path) is a directory, not a YAML file", exitCode: ExitStatus.noInput)
        }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw Failure(message: "\(path) cannot be read", exitCode: ExitStatus.noInput)
        }
        try? handle.close()
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(message: "\(path) is not UTF-8 text", exitCode: ExitStatus.dataError)
        }
        return text
    }
}
