import ArchiveInspect

extension ArchiveInspectError: OperatorFacing {
    var failure: Failure {
        switch self {
        case .fileNotFound(let path):
            return Failure(message: "\(path): no such file", exitCode: ExitStatus.noInput)
        case .unreadable(let path, let reason):
            return Failure(message: "\(path): cannot be read: \(reason)", exitCode: ExitStatus.noInput)
        case .notAnArchive(let path, let message):
            return Failure(
                message: "\(path) is not a tar archive that libarchive can read (\(message))",
                hint: "a Connectware backup is a .tgz file as downloaded from /api/maintenance/db/backup",
                exitCode: ExitStatus.dataError)
        case .damaged(let path, let entry, let offset, let message):
            let place = entry.map { " in or after entry '\($0)'" } ?? ""
            return Failure(
                message: "\(path) is damaged at byte \(offset) of the file\(place): \(message)",
                hint: "do not restore from this file; download the backup again and compare its SHA-256",
                exitCode: ExitStatus.dataError)
        case .conflictingEvidence(let path, let evidence):
            let said = evidence.map { "\($0.source.rawValue) '\($0.detail)' says \($0.version)" }
            return Failure(
                message: "\(path): the version evidence disagrees: " + said.joined(separator: "; "),
                hint: "if you know which version made this backup, pass --assume-version <version>",
                exitCode: ExitStatus.dataError)
        case .noEvidence(let path, let lookedFor):
            return Failure(
                message: "\(path): no evidence of the Connectware version; looked for " + lookedFor.joined(separator: "; "),
                hint: "if you know which version made this backup, pass --assume-version <version>",
                exitCode: ExitStatus.dataError)
        case .badAssumedVersion(_, let reason):
            return Failure(message: "--assume-version: \(reason)", exitCode: ExitStatus.usage)
        }
    }
}
