import Planner
import YAML

/// What a runbook says about a step beyond its commands: why it is done, what a good
/// outcome looks like, and what to do when it goes wrong. Kept in `steps.yml` beside the
/// templates so a site can change the words without rebuilding.
public struct StepWording: Sendable, Equatable {
    public var purpose: String
    public var expected: String
    public var ifFails: String

    public init(purpose: String = "", expected: String = "", ifFails: String = "") {
        self.purpose = purpose
        self.expected = expected
        self.ifFails = ifFails
    }
}

/// The wording of every step kind for one installation: the `steps` section, with the
/// installation's own section (`docker-compose`, `kubernetes`) taking precedence field by field.
func loadStepWording(yaml text: String, source: String, installation: InstallationKind) throws(RunbookError)
    -> [String: StepWording]
{
    let root: YAMLNode?
    do {
        root = try composeYAML(text)
    } catch {
        throw .invalidWording(path: source, problem: "not valid YAML (\(error))")
    }
    guard let top = root.flatMap(textKeyed) else {
        throw .invalidWording(path: source, problem: "must be a mapping with a `steps` section")
    }
    let allowed = ["steps"] + InstallationKind.allCases.map(\.rawValue)
    if let unknown = top.map(\.key).sorted().first(where: { !allowed.contains($0) }) {
        throw .invalidWording(
            path: source, problem: "unknown section `\(unknown)`; known: \(allowed.joined(separator: ", "))")
    }
    var wording: [String: StepWording] = [:]
    for section in ["steps", installation.rawValue] {
        guard let node = top.last(where: { $0.key == section })?.value else { continue }
        guard let steps = textKeyed(node) else {
            throw .invalidWording(path: source, problem: "`\(section)` must map step kinds to their wording")
        }
        for (kind, value) in steps {
            guard StepKind(rawValue: kind) != nil else {
                throw .invalidWording(
                    path: source,
                    problem:
                        "`\(section)` names an unknown step `\(kind)`; known: \(StepKind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            guard let fields = textKeyed(value) else {
                throw .invalidWording(path: source, problem: "`\(section).\(kind)` must be a mapping")
            }
            var entry = wording[kind] ?? StepWording()
            for (field, text) in fields {
                guard let text = text.scalar.flatMap(loadedText) else {
                    throw .invalidWording(path: source, problem: "`\(section).\(kind).\(field)` must be text")
                }
                switch field {
                case "purpose": entry.purpose = text
                case "expected": entry.expected = text
                case "ifFails": entry.ifFails = text
                default:
                    throw .invalidWording(
                        path: source,
                        problem: "`\(section).\(kind)` has unknown field `\(field)`; known: purpose, expected, ifFails")
                }
            }
            wording[kind] = entry
        }
    }
    return wording
}

/// A mapping with its merge keys applied and each key taken as its text (`1:` is the key
/// "1"), as Yams' loader gave it (a later key overrides an earlier one); nil for a scalar, a
/// sequence, or a mapping with a mapping or a list as a key.
private func textKeyed(_ node: YAMLNode) -> [(key: String, value: YAMLNode)]? {
    guard let mapping = node.mapping?.merged() else { return nil }
    var pairs: [(key: String, value: YAMLNode)] = []
    for (key, value) in mapping {
        guard let name = key.string else { return nil }
        if let earlier = pairs.firstIndex(where: { $0.key == name }) {
            pairs[earlier].value = value
        } else {
            pairs.append((name, value))
        }
    }
    return pairs
}

/// A scalar's text if a YAML loader gives it as text (as Yams' did): what the core schema
/// reads as a bool, a number, null, a date or base64 data is no text, unless it is out of
/// that type's range and so falls back to text (`99999999999999999999`).
private func loadedText(_ scalar: YAMLNode.Scalar) -> String? {
    let text = scalar.string
    let plain = scalar.style == .plain
    func digits(_ s: String) -> String { s.filter { $0 != "_" } }
    switch scalar.resolvedTag {
    case YAMLTag.bool:
        return ["true", "yes", "on", "false", "no", "off"].contains(text.lowercased()) ? nil : text
    case YAMLTag.int:
        guard plain else { return text }
        var body = Substring(digits(text))
        let sign = body.first == "-" ? "-" : ""
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        if body == "0" { return nil }
        for (prefix, radix) in [("0x", 16), ("0b", 2), ("0o", 8), ("0", 8)] where body.hasPrefix(prefix) {
            return Int(sign + body.dropFirst(prefix.count), radix: radix) == nil ? text : nil
        }
        if body.contains(":") { return nil }
        return Int(sign + body) == nil ? text : nil
    case YAMLTag.float:
        guard plain else { return text }
        let lowered = text.lowercased()
        if [".inf", "+.inf", "-.inf", ".nan"].contains(lowered) || text.contains(":") { return nil }
        return Double(digits(text)) == nil ? text : nil
    case YAMLTag.null:
        return ["~", "null", ""].contains(text.lowercased()) ? nil : text
    case YAMLTag.timestamp:
        return YAMLTag.resolve(plain: text) == YAMLTag.timestamp ? nil : text
    case "tag:yaml.org,2002:binary":
        return nil
    default:
        return text
    }
}
