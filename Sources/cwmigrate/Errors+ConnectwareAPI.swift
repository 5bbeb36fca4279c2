import ConnectwareAPI

extension ConnectwareAPIError: OperatorFacing {
    var failure: Failure {
        switch self {
        case .transport(let message):
            Failure(
                message: message, hint: "check --url (or CWMIGRATE_URL) and that Connectware is up",
                exitCode: ExitStatus.unavailable)
        case .invalidURL(let url):
            Failure(
                message: "'\(url)' is not a Connectware URL", hint: "give it as https://HOST (or set CWMIGRATE_URL)",
                exitCode: ExitStatus.usage)
        case .unauthorized(let status, let message):
            Failure(
                message: "Connectware refused the credentials (HTTP \(status)): \(message)",
                hint: "check --user and the password (CWMIGRATE_PASSWORD or --password-file), or the token",
                exitCode: ExitStatus.noPermission)
        case .notFound(let url, let message):
            Failure(
                message: "\(url) answered 404 (\(message))",
                hint: "is --url the address of a Connectware 1.x? The maintenance API lives under /api/maintenance/db",
                exitCode: ExitStatus.unavailable)
        case .busy(let status, let message):
            Failure(
                message: "Connectware is busy (HTTP \(status)): \(message)",
                hint: "another backup or restore is running; wait for it (cwmigrate status) and try again",
                exitCode: ExitStatus.tempFailure)
        case .alreadyRunning:
            Failure(
                message: "a backup or restore is already running on this Connectware",
                hint: "wait for it to finish (cwmigrate status) and try again", exitCode: ExitStatus.tempFailure)
        case .serverError(let status, let message):
            Failure(message: "Connectware failed (HTTP \(status)): \(message)", exitCode: ExitStatus.unavailable)
        case .unexpectedStatus(let status, let expected, let message):
            Failure(
                message: "Connectware answered HTTP \(status) where \(expected) was expected: \(message)",
                exitCode: ExitStatus.unavailable)
        case .notJSON(let firstLine):
            Failure(
                message: "the answer is not Connectware's status JSON; it begins: \(firstLine)",
                hint: "a proxy or another server may be answering at this URL", exitCode: ExitStatus.unavailable)
        case .malformedStatus(let reason):
            Failure(message: "Connectware's answer cannot be read: \(reason)", exitCode: ExitStatus.unavailable)
        case .timedOut(let operation, let seconds):
            Failure(
                message: "the \(operation) did not finish within \(seconds) s",
                hint: "it may still be running: see cwmigrate status; a longer --timeout waits more",
                exitCode: ExitStatus.tempFailure)
        case .stillRunning(let seconds, let status):
            Failure(
                message: "a backup or restore was still running on Connectware after waiting \(seconds) s"
                    + (status.map { ": \($0)" } ?? ""),
                hint: "wait for it (cwmigrate status), or give --wait-running more seconds",
                exitCode: ExitStatus.tempFailure)
        case .stoppedAnswering(let seconds, let lastAnswer, let lastError):
            Failure(
                message: "Connectware stopped answering: no status for \(seconds) s (\(lastError)); its last answer: \(lastAnswer)",
                hint: "check that Connectware is up (cwmigrate status); --unanswered-timeout waits longer for a silent server",
                exitCode: ExitStatus.unavailable)
        case .operationFailed(let operation, let message):
            Failure(message: "the \(operation) failed on Connectware: \(message)", exitCode: ExitStatus.unavailable)
        case .restoreRefused(let refusal):
            Failure(
                message: "Connectware refused the restore: \(refusal.statusMessage)",
                exitCode: ExitStatus.compatibilityUnknown)
        case .file(let path, let reason):
            Failure(message: "\(path): \(reason)", exitCode: ExitStatus.cantCreate)
        }
    }
}
