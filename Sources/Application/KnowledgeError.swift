/// Reading compatibility knowledge, playbooks and saved plans, or keeping what a refusal
/// taught, failed. The CLI words each case once (`Errors+Application.swift`).
public enum KnowledgeError: Error, Equatable, Sendable {
    /// A file named on the command line (or bundled) does not exist.
    case fileMissing(path: String)
    /// A path that should be a YAML or JSON file is a directory.
    case isDirectory(path: String)
    /// The file exists and cannot be read.
    case unreadable(path: String)
    /// The file is not UTF-8 text.
    case notText(path: String)
    /// `--playbook FILE` is a playbook for another kind of installation.
    case playbookForAnotherInstallation(path: String, kind: String, wanted: String)
    /// The learned compat file (cwmigrate's own state) cannot be read.
    case learnedUnreadable(path: String, reason: String)
    /// What a refusal taught cannot be written to the learned compat file.
    case learnedUnwritable(path: String, reason: String)
    /// The bundled playbooks directory was not found; `given` names the option or
    /// variable that pointed at the wrong place, if one did.
    case dataDirectoryNotFound(searched: [String], given: String?)
    /// A saved plan (`plan --json --output FILE`) cannot be decoded; `detail` says where.
    case notASavedPlan(path: String, detail: String)
}
