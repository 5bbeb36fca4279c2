#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SafeFiles

/// Inspects a backup held in memory (an upload as it arrived, a fuzzer's input) with the
/// same reader as `inspectBackup(at:options:)`.
///
/// The bytes pass through a private file in a fresh mode-0700 directory (on `/dev/shm`
/// when that is writable, so it stays in memory), because the reader's checks (gzip CRCs,
/// hashing, skipping) work on a file. `name` stands for the file in the facts and errors,
/// and its last component is the file's name, so a name like
/// `connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz` counts as evidence as it would on disk.
public func inspectBackup(
    bytes: some ContiguousBytes, named name: String = "backup.tgz", options: InspectOptions = InspectOptions()
) throws(ArchiveInspectError) -> ArchiveFacts {
    let holder = try HeldBytes(bytes, name: name)
    defer { holder.remove() }
    do {
        var facts = try inspectBackup(at: holder.path, options: options)
        facts.file = name
        return facts
    } catch {
        throw error.naming(holder.path, as: name)
    }
}

/// A private temporary copy of some bytes, named after the archive they stand for.
private struct HeldBytes {
    let directory: String
    let path: String

    init(_ bytes: some ContiguousBytes, name: String) throws(ArchiveInspectError) {
        let base = Self.temporaryBase()
        var template = Array((base + "/cwmigrate-inspect-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .unreadable(name, reason: "no temporary directory to hold it in \(base): \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        path = directory + "/" + Self.fileName(for: name)
        do {
            try OutputFile.write(bytes, to: path, mode: 0o600, replacing: false)
        } catch {
            rmdir(directory)
            throw .unreadable(name, reason: "it could not be held in a temporary file: \(error.reason)")
        }
    }

    func remove() {
        unlink(path)
        rmdir(directory)
    }

    private static func temporaryBase() -> String {
        if access("/dev/shm", W_OK | X_OK) == 0 { return "/dev/shm" }
        let fromEnvironment = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return fromEnvironment.isEmpty ? "/tmp" : fromEnvironment
    }

    /// The name's last component when it is a plain file name; otherwise a neutral one.
    private static func fileName(for name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? ""
        guard !last.isEmpty, last != ".", last != "..", last.utf8.count <= 200, !last.utf8.contains(0) else {
            return "backup"
        }
        return last
    }
}

extension ArchiveInspectError {
    /// The same error with the temporary file's path replaced by the name it stands for.
    fileprivate func naming(_ path: String, as name: String) -> ArchiveInspectError {
        switch self {
        case .fileNotFound(let p) where p == path: .fileNotFound(name)
        case .unreadable(let p, let reason) where p == path: .unreadable(name, reason: reason)
        case .notAnArchive(let p, let message) where p == path: .notAnArchive(name, libarchiveMessage: message)
        case .damaged(let p, let entry, let offset, let message) where p == path:
            .damaged(name, entry: entry, offset: offset, message: message)
        case .conflictingEvidence(let p, let evidence) where p == path: .conflictingEvidence(name, evidence)
        case .noEvidence(let p, let lookedFor) where p == path: .noEvidence(name, lookedFor: lookedFor)
        default: self
        }
    }
}
