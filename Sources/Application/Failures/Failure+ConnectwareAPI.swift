import ConnectwareAPI

extension ConnectwareAPIError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .transport:
            Failure(
                message: description, hint: "check --url (or CWMIGRATE_URL) and that Connectware is up",
                exitCode: ExitStatus.unavailable)
        case .invalidURL:
            Failure(
                message: description, hint: "give it as https://HOST (or set CWMIGRATE_URL)", exitCode: ExitStatus.usage)
        case .unauthorized:
            Failure(
                message: description,
                hint: "check --user and the password (CWMIGRATE_PASSWORD or --password-file), or the token",
                exitCode: ExitStatus.noPermission)
        case .notFound:
            Failure(
                message: description,
                hint: "is --url the address of a Connectware 1.x? The maintenance API lives under /api/maintenance/db",
                exitCode: ExitStatus.unavailable)
        case .busy:
            Failure(
                message: description,
                hint: "another backup or restore is running; wait for it (cwmigrate status) and try again",
                exitCode: ExitStatus.tempFailure)
        case .alreadyRunning:
            Failure(
                message: description, hint: "wait for it to finish (cwmigrate status) and try again",
                exitCode: ExitStatus.tempFailure)
        case .serverError, .unexpectedStatus, .malformedStatus, .operationFailed:
            Failure(message: description, exitCode: ExitStatus.unavailable)
        case .notJSON:
            Failure(
                message: description, hint: "a proxy or another server may be answering at this URL",
                exitCode: ExitStatus.unavailable)
        case .timedOut:
            Failure(
                message: description,
                hint: "it may still be running: see cwmigrate status; a longer --timeout waits more",
                exitCode: ExitStatus.tempFailure)
        case .stillRunning:
            Failure(
                message: description, hint: "wait for it (cwmigrate status), or give --wait-running more seconds",
                exitCode: ExitStatus.tempFailure)
        case .stoppedAnswering:
            Failure(
                message: description,
                hint: "check that Connectware is up (cwmigrate status); --unanswered-timeout waits longer for a silent server",
                exitCode: ExitStatus.unavailable)
        case .restoreRefused:
            Failure(message: description, exitCode: ExitStatus.compatibilityUnknown)
        case .file:
            Failure(message: description, exitCode: ExitStatus.cantCreate)
        case .libraryUnavailable:
            Failure(message: description, hint: Failure.installLibcurlHint, exitCode: ExitStatus.unavailable)
        }
    }
}
