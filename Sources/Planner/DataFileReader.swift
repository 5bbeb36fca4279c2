import YAML

/// Reads YAML nodes field by field, collecting every problem with its line, so an
/// operator fixes a data file in one pass instead of one error per run.
struct DataFileReader {
    let source: String
    private(set) var problems: [DataFileProblem] = []

    init(source: String) {
        self.source = source
    }

    /// The document's root node; nil for an empty document.
    mutating func root(of text: String) -> YAMLNode? {
        do {
            return try composeYAML(text)
        } catch .duplicateKeys(let keys, let mark) {
            problems.append(
                .init(source: source, line: mark.line, message: "duplicate key \(keys.joined(separator: ", "))"))
        } catch {
            problems.append(.init(source: source, line: error.mark.line, message: "not valid YAML: \(error.problem)"))
        }
        return nil
    }

    mutating func report(_ message: String, at node: YAMLNode?) {
        problems.append(.init(source: source, line: node?.mark.line, message: message))
    }

    mutating func report(_ message: String, line: Int?) {
        problems.append(.init(source: source, line: line, message: message))
    }

    func line(of node: YAMLNode?) -> Int? { node?.mark.line }

    /// The node as a mapping whose keys are all in `allowed`; unknown keys and missing
    /// `required` keys are reported.
    mutating func mapping(_ node: YAMLNode, _ what: String, allowed: [String], required: [String] = []) -> YAMLNode
        .Mapping?
    {
        guard let mapping = node.mapping else {
            report("\(what) must be a mapping of keys to values", at: node)
            return nil
        }
        var seen: Set<String> = []
        for (key, _) in mapping {
            guard let name = key.scalar?.string else {
                report("\(what) has a key that is not a plain name", at: key)
                continue
            }
            seen.insert(name)
            if !allowed.contains(name) {
                report("unknown key '\(name)' in \(what); allowed: \(allowed.joined(separator: ", "))", at: key)
            }
        }
        for name in required where !seen.contains(name) {
            report("\(what) is missing '\(name)'", at: node)
        }
        return mapping
    }

    mutating func sequence(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
        if isNull(node) { return [] }
        guard let sequence = node.sequence else {
            report("\(what) must be a list", at: node)
            return nil
        }
        return Array(sequence)
    }

    mutating func string(_ node: YAMLNode?, _ what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            report("\(what) must be a single value", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func version(_ node: YAMLNode?, _ what: String) -> Version? {
        guard let text = string(node, what) else { return nil }
        do {
            return try Version(parsing: text)
        } catch {
            report("\(what): \(error.description)", at: node)
            return nil
        }
    }

    mutating func bool(_ node: YAMLNode?, _ what: String) -> Bool? {
        guard let text = string(node, what) else { return nil }
        switch text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            report("\(what) must be true or false, not '\(text)'", at: node)
            return nil
        }
    }

    mutating func strings(_ node: YAMLNode?, _ what: String) -> [String] {
        guard let node, let items = sequence(node, what) else { return [] }
        return items.compactMap { string($0, "an entry of \(what)") }
    }

    func isNull(_ node: YAMLNode) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func finish() throws(PlannerError) {
        if !problems.isEmpty { throw .invalidDataFile(source: source, problems: problems) }
    }
}
