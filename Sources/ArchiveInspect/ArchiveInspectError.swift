#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a backup archive could not be inspected; each case carries what the operator
/// needs to act on it.
public enum ArchiveInspectError: Error, Sendable, Equatable {
    case fileNotFound(String)
    case unreadable(String, reason: String)
    /// libarchive recognised no tar archive (in any compression it knows).
    case notAnArchive(String, libarchiveMessage: String)
    /// The archive broke while being read: `entry` is the entry being read (nil when it
    /// broke before the first one), `offset` the bytes of the archive file consumed by then.
    case damaged(String, entry: String?, offset: Int64, message: String)
    case conflictingEvidence(String, [VersionEvidence])
    case noEvidence(String, lookedFor: [String])
    case badAssumedVersion(String, reason: String)
    /// libarchive, opened on first use, cannot be loaded on this host (dlopen's reason).
    case libraryUnavailable(reason: String)

    static func opening(_ path: String, errno code: Int32) -> ArchiveInspectError {
        code == ENOENT || code == ENOTDIR
            ? .fileNotFound(path) : .unreadable(path, reason: String(cString: strerror(code)))
    }
}

extension ArchiveInspectError: CustomStringConvertible {
    /// The error in one line, as the operator reads it: on the command line (with a hint and
    /// an exit code added by the CLI), in a run's journal and in a check.
    public var description: String {
        switch self {
        case .fileNotFound(let path): "\(path): no such file"
        case .unreadable(let path, let reason): "\(path): cannot be read: \(reason)"
        case .notAnArchive(let path, let message): "\(path) is not a tar archive that libarchive can read (\(message))"
        case .damaged(let path, let entry, let offset, let message):
            "\(path) is damaged at byte \(offset) of the file"
                + (entry.map { " in or after entry '\($0)'" } ?? "") + ": \(message)"
        case .conflictingEvidence(let path, let evidence):
            "\(path): the version evidence disagrees: "
                + evidence.map { "\($0.source.rawValue) '\($0.detail)' says \($0.version)" }.joined(separator: "; ")
        case .noEvidence(let path, let lookedFor):
            "\(path): no evidence of the Connectware version; looked for " + lookedFor.joined(separator: "; ")
        case .badAssumedVersion(_, let reason): "--assume-version: \(reason)"
        case .libraryUnavailable(let reason): "libarchive cannot be loaded: \(reason)"
        }
    }
}
