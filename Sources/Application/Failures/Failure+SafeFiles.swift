import SafeFiles

extension OutputFileError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .exists:
            Failure(
                message: description, hint: "give --force to replace it, or choose another path",
                exitCode: ExitStatus.cantCreate)
        case .isInput:
            Failure(message: description, hint: "write the output to another path", exitCode: ExitStatus.cantCreate)
        case .isDirectory, .notARegularFile:
            Failure(message: description, hint: "give the path of a regular file", exitCode: ExitStatus.cantCreate)
        case .standardOutputRefused:
            Failure(message: description, hint: "give the path of a file", exitCode: ExitStatus.usage)
        case .unusableDirectory, .cannotWrite:
            Failure(message: description, exitCode: ExitStatus.cantCreate)
        }
    }
}
