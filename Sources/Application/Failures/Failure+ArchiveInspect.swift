import ArchiveInspect

extension ArchiveInspectError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .fileNotFound, .unreadable:
            Failure(message: description, exitCode: ExitStatus.noInput)
        case .notAnArchive:
            Failure(
                message: description,
                hint: "a Connectware backup is a .tgz file as downloaded from /api/maintenance/db/backup",
                exitCode: ExitStatus.dataError)
        case .damaged:
            Failure(
                message: description,
                hint: "do not restore from this file; download the backup again and compare its SHA-256",
                exitCode: ExitStatus.dataError)
        case .conflictingEvidence, .noEvidence:
            Failure(
                message: description,
                hint: "if you know which version made this backup, pass --assume-version <version>",
                exitCode: ExitStatus.dataError)
        case .badAssumedVersion:
            Failure(message: description, exitCode: ExitStatus.usage)
        case .libraryUnavailable:
            Failure(
                message: description,
                hint: "install libarchive13 (Ubuntu 24.04: libarchive13t64) on Debian/Ubuntu, libarchive on RHEL",
                exitCode: ExitStatus.unavailable)
        }
    }
}
