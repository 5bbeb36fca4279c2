/// What went wrong while reading the Planner's data files (compat.yml, playbooks).
public enum PlannerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A compat or playbook file that is not valid; every problem found, in file order.
    case invalidDataFile(source: String, problems: [DataFileProblem])

    public var description: String {
        switch self {
        case .invalidDataFile(let source, let problems):
            guard let first = problems.first else { return "\(source): invalid" }
            return problems.count == 1
                ? first.description : "\(first.description) (and \(problems.count - 1) more in \(source))"
        }
    }
}

/// One mistake in a data file: where it is and what is wrong.
public struct DataFileProblem: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    /// 1-based line, when the YAML parser could tell.
    public let line: Int?
    public let message: String

    public init(source: String, line: Int?, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}
