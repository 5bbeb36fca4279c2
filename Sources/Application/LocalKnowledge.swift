import ArchiveInspect
import DockerOps
import Planner
import SafeFiles
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Compat knowledge as read, with each file it came from and that file's SHA-256.
public struct LoadedKnowledge: Sendable {
    public var knowledge: CompatibilityKnowledge
    public var files: [KnowledgeFile]
}

/// What this host knows about restore barriers and its installation: the bundled data,
/// the learned file, and the operator's own files, as `plan` and `restore` both read them.
public enum LocalKnowledge {
    /// The bundled compat.yml (shipped), then the learned file (what servers said), then each
    /// `--compat FILE` (the operator's); each barrier carries its file's authority.
    public static func load(compatFiles: [String], ignoringExamples: Bool, playbooks: String? = nil) throws
        -> CompatibilityKnowledge
    {
        try loadWithFiles(compatFiles: compatFiles, ignoringExamples: ignoringExamples, playbooks: playbooks).knowledge
    }

    public static func loadWithFiles(compatFiles: [String], ignoringExamples: Bool, playbooks: String? = nil) throws
        -> LoadedKnowledge
    {
        let dataDirectory = try DataFiles.playbooksDirectory(explicit: playbooks)
        let shippedPath = dataDirectory.appendingPathComponent("compat.yml").path
        let shippedText = try readText(shippedPath)
        var files = [KnowledgeFile(authority: .shipped, path: shippedPath, sha256: digest(shippedText))]
        var knowledge = try CompatibilityKnowledge(yaml: shippedText, source: shippedPath, authority: .shipped)
        if let learned = DataFiles.learnedCompatFile(), let text = try readLearned(learned) {
            knowledge = knowledge.merging(
                try CompatibilityKnowledge(yaml: text, source: learned.path, authority: .server))
            files.append(KnowledgeFile(authority: .server, path: learned.path, sha256: digest(text)))
        }
        for file in compatFiles {
            let text = try readText(file)
            knowledge = knowledge.merging(
                try CompatibilityKnowledge(yaml: text, source: file, authority: .operatorFile))
            files.append(KnowledgeFile(authority: .operatorFile, path: file, sha256: digest(text)))
        }
        if ignoringExamples { knowledge.barriers.removeAll(where: \.example) }
        return LoadedKnowledge(knowledge: knowledge, files: files)
    }

    /// The SHA-256 of a file's text, as read.
    public static func digest(_ text: String) -> String {
        let hasher = SHA256Hasher()
        hasher.update(Data(text.utf8))
        return hasher.finalize()
    }

    /// The playbook at `path`, else the bundled one for `installation` (docker-compose by default).
    public static func playbook(path: String?, installation: InstallationKind?, playbooks: String? = nil) throws
        -> Playbook
    {
        let playbookPath =
            try path
            ?? DataFiles.playbooksDirectory(explicit: playbooks)
            .appendingPathComponent("\((installation ?? .dockerCompose).rawValue).yml").path
        let chosen = try Playbook(yaml: readText(playbookPath), source: playbookPath)
        if let installation, chosen.installation != installation {
            throw KnowledgeError.playbookForAnotherInstallation(
                path: playbookPath, kind: chosen.installation.rawValue, wanted: installation.rawValue)
        }
        // On a host whose Connectware runs under systemd, the plan shows systemctl where it differs.
        let environment = ProcessInfo.processInfo.environment
        return SystemdSettings.unit(at: SystemdSettings.unitPath(environment)) == nil ? chosen : chosen.managedBySystemd()
    }

    /// A plan saved as JSON by `cwmigrate plan --json --output FILE`.
    public static func savedPlan(at path: String) throws -> Plan {
        let text = try readText(path)
        do {
            return try JSONDecoder().decode(Plan.self, from: Data(text.utf8))
        } catch {
            let detail: String
            switch error as? DecodingError {
            case .keyNotFound(let key, _)?: detail = "it has no \(key.stringValue)"
            case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
                detail = "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
            case .dataCorrupted(let context)?:
                detail =
                    context.codingPath.isEmpty
                    ? "it is not JSON"
                    : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
            default: detail = "it cannot be read"
            }
            throw KnowledgeError.notASavedPlan(path: path, detail: detail)
        }
    }

    /// Adds what a server refusal taught to the learned compat file (written whole, atomically),
    /// and returns the file's path; nil when there is nowhere to keep it.
    ///
    /// The file is the operator's own state: new directories are 0700, the file 0600, and
    /// a symlink at its path (or at the temporary file's) is refused, never followed.
    public static func record(_ barrier: RestoreBarrier) throws -> URL? {
        guard let file = DataFiles.learnedCompatFile() else { return nil }
        let directoryPath = file.deletingLastPathComponent().path
        let name = file.lastPathComponent
        func failure(_ reason: String) -> KnowledgeError { .learnedUnwritable(path: file.path, reason: reason) }
        try makeDirectories(directoryPath, failure: failure)
        let directory = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw failure(systemError()) }
        defer { close(directory) }

        var known = CompatibilityKnowledge.empty
        if let text = try readLearned(file, failure: failure) {
            known = try CompatibilityKnowledge(yaml: text, source: file.path, authority: .server)
        }
        let updated = known.merging(CompatibilityKnowledge(barriers: [barrier], upgradeStops: []))
        let text = updated.renderYAML(
            header: "Restore barriers that Connectware servers reported to cwmigrate restore.\n"
                + "Written by cwmigrate; read by cwmigrate plan and restore. Edit with care.")

        do {
            try OutputFile.write(Array(text.utf8), to: name, in: directory, mode: 0o600, replacing: true)
        } catch {
            throw failure(error.reason)
        }
        return file
    }

    /// The learned file's text, nil when there is none. It is cwmigrate's own state, so a
    /// symlink at its name is refused rather than read through.
    private static func readLearned(_ file: URL, failure: ((String) -> KnowledgeError)? = nil) throws -> String? {
        let refuse = failure ?? { reason in KnowledgeError.learnedUnreadable(path: file.path, reason: reason) }
        let fd = open(file.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw refuse("it is a symlink; cwmigrate does not follow it")
            default: throw refuse(systemError())
            }
        }
        // A learned file is a few kilobytes; a huge one is not one.
        let bytes = Vocabulary.readAll(fd, limit: 16 << 20)
        close(fd)
        guard let bytes, let text = String(bytes: bytes, encoding: .utf8) else {
            throw refuse("it cannot be read as UTF-8 text")
        }
        return text
    }

    /// Creates `path` and its missing parents, new ones 0700 (they hold the operator's state).
    private static func makeDirectories(_ path: String, failure: (String) -> KnowledgeError) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw failure("cannot create \(current): \(systemError())")
            }
        }
    }

    private static func systemError(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    public static func readText(_ path: String) throws -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { throw KnowledgeError.fileMissing(path: path) }
        guard status.st_mode & S_IFMT != S_IFDIR else { throw KnowledgeError.isDirectory(path: path) }
        guard let bytes = readFile(path, upTo: Int.max) else { throw KnowledgeError.unreadable(path: path) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw KnowledgeError.notText(path: path) }
        return text
    }
}
