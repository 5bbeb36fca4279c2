import Runbook

extension RunbookError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .templatesNotFound:
            Failure(
                message: description, hint: "--templates DIR must name a directory of *.mustache files and steps.yml",
                exitCode: ExitStatus.noInput)
        case .templateMissing, .unreadable:
            Failure(message: description, exitCode: ExitStatus.noInput)
        case .invalidTemplate, .invalidWording:
            Failure(message: description, hint: "see README.md, section runbook", exitCode: ExitStatus.dataError)
        case .ansibleWithoutDirectory, .ansibleForKubernetes, .ansibleFromPartialRead:
            Failure(message: description, exitCode: ExitStatus.usage)
        }
    }
}
