#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Planner

/// A name that belongs to one site (compose project, Helm release, claim…): either
/// known (given by the operator) or shown as a marked placeholder with the command that finds it.
public struct SiteName: Sendable, Equatable {
    /// The playbook setting the name fills, e.g. `release`.
    public let setting: String
    /// What the name is, in the operator's words.
    public let label: String
    /// The value, when the operator gave it.
    public let value: String?
    /// The marked stand-in used while the name is unknown, e.g. `<RELEASE>`.
    public let placeholder: String
    /// The command that shows the name on the site; other names in it are already filled in.
    public let finder: String

    /// What commands use: the value, else the placeholder.
    public var shown: String { value ?? placeholder }
}

/// The names a runbook for `installation` needs, and how each is found.
struct SiteNameSpec: Sendable {
    let setting: String
    let label: String
    let placeholder: String
    /// A command template: `{{setting}}` is replaced with the shown value of that name.
    let finder: String

    static func catalog(for installation: InstallationKind) -> [SiteNameSpec] {
        switch installation {
        case .dockerCompose:
            [
                SiteNameSpec(
                    setting: "project", label: "Compose project", placeholder: "<PROJECT>",
                    finder:
                        "docker ps --filter label=io.cybus.connectware=core --format '{{.Label \"com.docker.compose.project\"}}' | sort -u"
                ),
                SiteNameSpec(
                    setting: "directory", label: "Installation directory", placeholder: "<DIRECTORY>",
                    finder:
                        "docker ps --filter label=io.cybus.connectware=core --format '{{.Label \"com.docker.compose.project.working_dir\"}}' | sort -u"
                ),
            ]
        case .kubernetes:
            [
                SiteNameSpec(
                    setting: "namespace", label: "Kubernetes namespace", placeholder: "<NAMESPACE>",
                    finder: "helm list --all-namespaces"),
                SiteNameSpec(
                    setting: "release", label: "Helm release", placeholder: "<RELEASE>",
                    finder: "helm list -n {{namespace}}"),
                SiteNameSpec(
                    setting: "chart", label: "Helm chart (repo/name)", placeholder: "<CHART>",
                    finder: "helm list -n {{namespace}} --filter '^{{release}}$' && helm repo list"),
                SiteNameSpec(
                    setting: "postgresqlClaim", label: "PostgreSQL persistent volume claim",
                    placeholder: "<POSTGRESQL-CLAIM>",
                    finder: "kubectl get pvc,sts -n {{namespace}} -l app.kubernetes.io/instance={{release}}"),
                SiteNameSpec(
                    setting: "serviceManagerClaim", label: "service-manager persistent volume claim",
                    placeholder: "<SERVICE-MANAGER-CLAIM>",
                    finder: "kubectl get pvc,sts -n {{namespace}} -l app.kubernetes.io/instance={{release}}"),
                // The copy pods' image: one the cluster already holds, so nothing is pulled from
                // a registry a plant's cluster may not reach (the PostgreSQL StatefulSet's has tar).
                SiteNameSpec(
                    setting: "copyImage", label: "Image for the copy pods (the PostgreSQL StatefulSet's)",
                    placeholder: "<COPY-IMAGE>",
                    finder: "kubectl get sts -n {{namespace}} -l app.kubernetes.io/instance={{release}} -o wide"),
            ]
        }
    }
}

/// The site names of `playbook`'s installation, filled from `given` (setting → value); the
/// playbook's own values count as given only when `trustPlaybookValues` (an operator's playbook).
/// Returns the playbook with every name's setting set to its value or placeholder, so the plan's
/// commands carry real names or clearly marked stand-ins, never a guessed default.
public func resolveSiteNames(
    _ playbook: Playbook, given: [String: String], trustPlaybookValues: Bool
) -> (playbook: Playbook, names: [SiteName]) {
    var playbook = playbook
    var shown: [String: String] = [:]
    var names: [SiteName] = []
    for spec in SiteNameSpec.catalog(for: playbook.installation) {
        var value = given[spec.setting]
        if value == nil, trustPlaybookValues, let own = playbook.settings[spec.setting], !isPlaceholder(own) {
            value = own
        }
        let finder = substitute(spec.finder, shown)
        let name = SiteName(
            setting: spec.setting, label: spec.label, value: value, placeholder: spec.placeholder, finder: finder)
        shown[spec.setting] = name.shown
        playbook.settings[spec.setting] = name.shown
        names.append(name)
    }
    return (playbook, names)
}

/// A value written as `<SOMETHING>` is a stand-in, not a name.
func isPlaceholder(_ value: String) -> Bool { value.hasPrefix("<") && value.hasSuffix(">") }

/// Replaces `{{name}}` with `values[name]`; anything else stays.
func substitute(_ text: String, _ values: [String: String]) -> String {
    var out = text
    for (name, value) in values { out = out.replacing("{{\(name)}}", with: value) }
    return out
}
