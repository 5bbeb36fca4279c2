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

    static func opening(_ path: String, errno code: Int32) -> ArchiveInspectError {
        code == ENOENT || code == ENOTDIR
            ? .fileNotFound(path) : .unreadable(path, reason: String(cString: strerror(code)))
    }
}
