import Planner
import Runbook

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

    /// `playbook` with the site's names and directories, and the names its runbook shows; a
    /// name of the other kind of installation is a usage error. The playbook's own values are
    /// trusted only when the operator gave the playbook (`trustPlaybookValues`).
    public func apply(to playbook: Playbook, trustPlaybookValues: Bool) throws -> (Playbook, [SiteName]) {
        var chosen = playbook
        if let installerDirectory { chosen.settings["installerDir"] = installerDirectory }
        if let snapshotDirectory { chosen.settings["snapshotDir"] = snapshotDirectory }
        let kubernetes = chosen.installation == .kubernetes
        if let name = (kubernetes ? compose : self.kubernetes).filter({ $0.value != nil }).keys.sorted().first {
            throw Failure(
                message: "--\(Self.optionName(name)) is for \(kubernetes ? "docker-compose" : "kubernetes") installations",
                exitCode: ExitStatus.usage)
        }
        let given = (kubernetes ? self.kubernetes : compose).compactMapValues { $0 }
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
