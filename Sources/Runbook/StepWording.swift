import Planner
import Yams

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
    let root: Any?
    do {
        root = try Yams.load(yaml: text)
    } catch {
        throw .invalidWording(path: source, problem: "not valid YAML (\(error))")
    }
    guard let top = root as? [String: Any] else {
        throw .invalidWording(path: source, problem: "must be a mapping with a `steps` section")
    }
    let allowed = ["steps"] + InstallationKind.allCases.map(\.rawValue)
    if let unknown = top.keys.sorted().first(where: { !allowed.contains($0) }) {
        throw .invalidWording(
            path: source, problem: "unknown section `\(unknown)`; known: \(allowed.joined(separator: ", "))")
    }
    var wording: [String: StepWording] = [:]
    for section in ["steps", installation.rawValue] {
        guard let node = top[section] else { continue }
        guard let steps = node as? [String: Any] else {
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
            guard let fields = value as? [String: Any] else {
                throw .invalidWording(path: source, problem: "`\(section).\(kind)` must be a mapping")
            }
            var entry = wording[kind] ?? StepWording()
            for (field, text) in fields {
                guard let text = text as? String else {
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
