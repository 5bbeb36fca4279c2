import Planner
import Runbook
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The names of the site a runbook's commands use, as the operator gave them: compose's
/// project and directory, or Kubernetes' namespace, release, chart and claims (nil: not given).
public struct RunbookSite: Sendable {
    public var compose: [String: String?]
    public var kubernetes: [String: String?]
    /// `--installer-dir` and `--snapshot-dir`.
    public var installerDirectory: String?
    public var snapshotDirectory: String?

    public init(
        compose: [String: String?], kubernetes: [String: String?], installerDirectory: String?,
        snapshotDirectory: String?
    ) {
        self.compose = compose
        self.kubernetes = kubernetes
        self.installerDirectory = installerDirectory
        self.snapshotDirectory = snapshotDirectory
    }

    /// The option that gives a setting: `postgresqlClaim` is `--postgresql-claim`.
    public static func optionName(_ setting: String) -> String {
        switch setting {
        case "postgresqlClaim": "postgresql-claim"
        case "serviceManagerClaim": "service-manager-claim"
        case "copyImage": "copy-image"
        default: setting
        }
    }

    /// The names given, each checked: one not in its kind's syntax (the commands carry it
    /// unquoted) and, once the installation is known, a name of the other kind of installation
    /// are usage errors. Called before the backup is read, so a typo costs no verify of the
    /// whole archive; returns the names `installation`'s runbook uses.
    @discardableResult
    public func check(installation: InstallationKind?) throws -> [String: String] {
        let given: [(InstallationKind, [String: String])] = [
            (.dockerCompose, compose.compactMapValues { $0 }), (.kubernetes, kubernetes.compactMapValues { $0 }),
        ]
        for (kind, names) in given {
            for (setting, value) in names.sorted(by: { $0.key < $1.key }) {
                if let problem = siteNameProblem(setting, value, installation: kind) {
                    throw Failure(
                        message: "--\(Self.optionName(setting)) \(shellQuoted(value)): \(problem)",
                        hint: "the runbook writes it into its commands as given; leave it out to show a placeholder with the command that finds it",
                        exitCode: ExitStatus.usage)
                }
            }
        }
        guard let installation else { return [:] }
        let other = given.first { $0.0 != installation }?.1 ?? [:]
        if let name = other.keys.sorted().first {
            throw Failure(
                message: "--\(Self.optionName(name)) is for \(installation == .kubernetes ? "docker-compose" : "kubernetes") installations",
                exitCode: ExitStatus.usage)
        }
        return given.first { $0.0 == installation }?.1 ?? [:]
    }

    /// `playbook` with the site's names and directories, and the names its runbook shows (each
    /// checked as `check` does). The playbook's own values are trusted only when the operator
    /// gave the playbook (`trustPlaybookValues`).
    public func apply(to playbook: Playbook, trustPlaybookValues: Bool) throws -> (Playbook, [SiteName]) {
        var chosen = playbook
        if let installerDirectory { chosen.settings["installerDir"] = installerDirectory }
        if let snapshotDirectory { chosen.settings["snapshotDir"] = snapshotDirectory }
        let given = try check(installation: chosen.installation)
        let resolved = resolveSiteNames(chosen, given: given, trustPlaybookValues: trustPlaybookValues)
        return (resolved.playbook, resolved.names)
    }

    /// The note on the placeholders a runbook shows for names not given, and the options that
    /// fill them in; nil when every name is known.
    public static func placeholderNote(_ names: [SiteName]) -> String? {
        let unknown = names.filter { $0.value == nil }
        guard !unknown.isEmpty else { return nil }
        let placeholders = unknown.map(\.placeholder).joined(separator: ", ")
        let options = unknown.map { "--" + optionName($0.setting) }.joined(separator: ", ")
        return "the runbook shows placeholders for \(placeholders); give \(options) to fill them in"
    }

    /// Every file a runbook command reads (the `--templates` directory's files among them), so
    /// that none of them is ever its output.
    public static func inputs(_ files: [String], templates: String?) -> [String] {
        var read = files
        if let templates {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? []
            read += names.map { templates + "/" + $0 }
        }
        return read
    }
}
