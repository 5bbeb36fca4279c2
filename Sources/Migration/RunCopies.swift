import ArchiveInspect
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// A file copied into a run's directory, hashed from the bytes written there.
public struct RunCopy: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var bytes: Int64
}

extension JournalStore {
    /// Copies `source` into the run's directory as `name` (see `copyVerified`). The run then
    /// uses the copy, which nobody else writes: what was hashed is what is uploaded or put back.
    public func copyIntoRun(_ source: String, id: String, as name: String) throws(MigrationError) -> RunCopy {
        try copyVerified(source, into: try artifactDirectory(for: id), as: name)
    }
}

/// Copies `source` into `directory` as `name` with `mode` (never through a symlink; an
/// existing file there is replaced only by a complete copy), hashing the bytes as they are
/// written and syncing them to disk.
func copyVerified(
    _ source: String, into directory: String, as name: String, mode: mode_t = 0o600,
    followingDirectory: Bool = false
) throws(MigrationError) -> RunCopy {
    let target = directory + "/" + name
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw .stateDirectory(path: source, reason: "it cannot be read: \(systemError())") }
    defer { close(input) }
    var info = stat()
    guard fstat(input, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
        throw .unsafePath(path: source, reason: "it is not a regular file")
    }
    let runDirectory = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followingDirectory ? 0 : O_NOFOLLOW))
    guard runDirectory >= 0 else { throw .stateDirectory(path: directory, reason: systemError()) }
    defer { close(runDirectory) }
    // SafeFiles writes it: a temporary file created exclusively beside the name, synced,
    // renamed over it (never through a symlink) and the directory synced.
    let output: PendingFile
    do {
        output = try OutputFile.create(name, in: runDirectory, mode: mode, replacing: true)
    } catch {
        throw .stateDirectory(path: target, reason: "it cannot be created: \(error.reason)")
    }
    var written: Int64 = 0
    let hasher = SHA256Hasher()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { buffer.deallocate() }
    while true {
        let count = read(input, buffer.baseAddress, buffer.count)
        if count == 0 { break }
        if count < 0 {
            if errno == EINTR { continue }
            throw .stateDirectory(path: target, reason: "reading \(source): \(systemError())")
        }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        do { try output.write(chunk) } catch {
            throw .stateDirectory(path: target, reason: "writing the copy: \(error.reason)")
        }
        hasher.update(chunk)
        written += Int64(count)
    }
    do { try output.commit() } catch {
        throw .stateDirectory(path: target, reason: "cannot put the copy in place: \(error.reason)")
    }
    return RunCopy(path: target, sha256: hasher.finalize(), bytes: written)
}

extension JournalStore {
    /// Removes a copy made for a run that was then not created, and the run's directory when empty.
    public func discard(_ copy: RunCopy, id: String) {
        unlink(copy.path)
        rmdir(directory + "/artifacts/" + id)
    }
}
