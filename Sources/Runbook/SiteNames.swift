#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Planner
import Vocabulary

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
    /// What a value must look like; the commands use it as written, unquoted.
    let syntax: SiteNameSyntax

    static func catalog(for installation: InstallationKind) -> [SiteNameSpec] {
        switch installation {
        case .dockerCompose:
            [
                SiteNameSpec(
                    setting: "project", label: "Compose project", placeholder: "<PROJECT>",
                    finder:
                        "docker ps --filter label=io.cybus.connectware=core --format '{{.Label \"com.docker.compose.project\"}}' | sort -u", syntax: .composeProject
                ),
                SiteNameSpec(
                    setting: "directory", label: "Installation directory", placeholder: "<DIRECTORY>",
                    finder:
                        "docker ps --filter label=io.cybus.connectware=core --format '{{.Label \"com.docker.compose.project.working_dir\"}}' | sort -u", syntax: .path
                ),
            ]
        case .kubernetes:
            [
                SiteNameSpec(
                    setting: "namespace", label: "Kubernetes namespace", placeholder: "<NAMESPACE>",
                    finder: "helm list --all-namespaces", syntax: .dnsLabel(maximum: 63)),
                SiteNameSpec(
                    setting: "release", label: "Helm release", placeholder: "<RELEASE>",
                    finder: "helm list -n {{namespace}}", syntax: .dnsLabel(maximum: 53)),
                SiteNameSpec(
                    setting: "chart", label: "Helm chart (repo/name)", placeholder: "<CHART>",
                    finder: "helm list -n {{namespace}} --filter '^{{release}}$' && helm repo list", syntax: .reference),
                SiteNameSpec(
                    setting: "postgresqlClaim", label: "PostgreSQL persistent volume claim",
                    placeholder: "<POSTGRESQL-CLAIM>",
                    finder: "kubectl get pvc,sts -n {{namespace}} -l app.kubernetes.io/instance={{release}}", syntax: .dnsSubdomain),
                SiteNameSpec(
                    setting: "serviceManagerClaim", label: "service-manager persistent volume claim",
                    placeholder: "<SERVICE-MANAGER-CLAIM>",
                    finder: "kubectl get pvc,sts -n {{namespace}} -l app.kubernetes.io/instance={{release}}", syntax: .dnsSubdomain),
                // The copy pods' image: one the cluster already holds, so nothing is pulled from
                // a registry a plant's cluster may not reach (the PostgreSQL StatefulSet's has tar).
                SiteNameSpec(
                    setting: "copyImage", label: "Image for the copy pods (the PostgreSQL StatefulSet's)",
                    placeholder: "<COPY-IMAGE>",
                    finder: "kubectl get sts -n {{namespace}} -l app.kubernetes.io/instance={{release}} -o wide", syntax: .reference),
            ]
        }
    }
}

/// What a site name must look like to be written into a shell command unquoted: each kind's
/// own rule (Kubernetes and Compose refuse other names anyway), so a mistyped name is refused
/// when the runbook is made, not met as a broken command in the middle of the procedure.
enum SiteNameSyntax: Sendable {
    /// Compose's project names: lowercase letters, digits, `-` and `_`, starting with a letter or digit.
    case composeProject
    /// An absolute path of characters that mean only themselves to a shell (`isShellPlain`).
    case path
    /// An RFC 1123 label (namespaces, Helm releases) of at most `maximum` characters.
    case dnsLabel(maximum: Int)
    /// An RFC 1123 subdomain (persistent volume claims): labels joined by dots, at most 253.
    case dnsSubdomain
    /// A chart or image reference, of characters that mean only themselves to a shell.
    case reference

    /// Why `value` is not a name of this kind, or nil when it is one.
    func problem(_ value: String) -> String? {
        let lowerOrDigit: (Character) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        switch self {
        case .composeProject:
            guard let first = value.first, lowerOrDigit(first),
                value.allSatisfy({ lowerOrDigit($0) || $0 == "-" || $0 == "_" })
            else { return "a Compose project name has lowercase letters, digits, - and _ only, and starts with a letter or digit" }
        case .path:
            guard value.hasPrefix("/") else { return "the installation directory must be an absolute path" }
            if let bad = value.first(where: { !isShellPlain($0) }) {
                return "the commands use the directory unquoted, and it holds \(bad == " " ? "a space" : "`\(bad)`")"
            }
        case .dnsLabel(let maximum):
            guard value.count <= maximum, let first = value.first, let last = value.last, lowerOrDigit(first),
                lowerOrDigit(last), value.allSatisfy({ lowerOrDigit($0) || $0 == "-" })
            else {
                return "it must be at most \(maximum) lowercase letters, digits and -, starting and ending with a letter or digit"
            }
        case .dnsSubdomain:
            let labels = value.split(separator: ".", omittingEmptySubsequences: false)
            guard value.count <= 253,
                labels.allSatisfy({ SiteNameSyntax.dnsLabel(maximum: 63).problem(String($0)) == nil })
            else {
                return "it must be at most 253 characters of lowercase letters, digits, - and ., each part starting and ending with a letter or digit"
            }
        case .reference:
            guard !value.isEmpty, value.allSatisfy(isShellPlain) else {
                return "it may hold letters, digits and / . _ - : + = @ % , only"
            }
        }
        return nil
    }
}

/// Why `value` cannot be the site name `setting` of `installation`'s runbooks, or nil when it can
/// (a setting that is no site name has no rule here).
public func siteNameProblem(_ setting: String, _ value: String, installation: InstallationKind) -> String? {
    SiteNameSpec.catalog(for: installation).first { $0.setting == setting }?.syntax.problem(value)
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
