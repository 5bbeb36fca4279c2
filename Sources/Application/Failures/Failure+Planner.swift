import Planner

extension PlannerError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .invalidDataFile(let source, let problems):
            guard let first = problems.first else {
                return Failure(message: "\(source) is not valid", exitCode: ExitStatus.dataError)
            }
            let more = problems.dropFirst().map(\.description)
            return Failure(
                message: first.description,
                hint: more.isEmpty
                    ? "see playbooks/README.md for the schema"
                    : "also: " + more.joined(separator: "; "),
                exitCode: ExitStatus.dataError)
        }
    }
}
