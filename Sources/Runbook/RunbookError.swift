/// Why a runbook could not be rendered; each case names the file the operator must fix.
public enum RunbookError: Error, Sendable, Equatable {
    /// The templates directory does not exist or is not a directory.
    case templatesNotFound(directory: String)
    /// A template the format needs is not in the directory.
    case templateMissing(name: String, directory: String)
    /// A template or the step wording file cannot be read as UTF-8 text.
    case unreadable(path: String)
    /// A template does not parse as Mustache.
    case invalidTemplate(path: String, problem: String)
    /// The step wording file is not the mapping it must be.
    case invalidWording(path: String, problem: String)
    /// `--format ansible` without `--output DIR`: it writes several files.
    case ansibleWithoutDirectory
    /// `--format ansible` for Kubernetes: the playbook migrates Docker Compose hosts only.
    case ansibleForKubernetes
    /// `--format ansible` with `--quick`: each host checks the plan against the backup's SHA-256.
    case ansibleFromPartialRead

    public var description: String {
        switch self {
        case .templatesNotFound(let directory): "the runbook templates directory \(directory) does not exist"
        case .templateMissing(let name, let directory): "\(directory) has no template \(name).mustache"
        case .unreadable(let path): "\(path) cannot be read as UTF-8 text"
        case .invalidTemplate(let path, let problem): "\(path) is not a valid Mustache template: \(problem)"
        case .invalidWording(let path, let problem): "\(path): \(problem)"
        case .ansibleWithoutDirectory: "--format ansible writes several files: give --output DIR"
        case .ansibleForKubernetes: "--format ansible migrates Docker Compose hosts; it has no Kubernetes form"
        case .ansibleFromPartialRead:
            "--format ansible ships a plan each host checks against its backup's SHA-256: it needs the whole archive, not --quick"
        }
    }
}
