import ArchiveInspect
import Foundation

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
    let temporary = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    let output = openat(runDirectory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    guard output >= 0 else { throw .stateDirectory(path: target, reason: "it cannot be created: \(systemError())") }
    var written: Int64 = 0
    let hasher = SHA256Hasher()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { buffer.deallocate() }
    func fail(_ reason: String) -> MigrationError {
        close(output)
        unlinkat(runDirectory, temporary, 0)
        return .stateDirectory(path: target, reason: reason)
    }
    while true {
        let count = read(input, buffer.baseAddress, buffer.count)
        if count == 0 { break }
        if count < 0 {
            if errno == EINTR { continue }
            throw fail("reading \(source): \(systemError())")
        }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        var offset = 0
        while offset < count {
            let done = write(output, chunk.baseAddress! + offset, count - offset)
            if done < 0 {
                if errno == EINTR { continue }
                throw fail("writing the copy: \(systemError())")
            }
            offset += done
        }
        hasher.update(chunk)
        written += Int64(count)
    }
    guard fsync(output) == 0 else { throw fail("syncing the copy: \(systemError())") }
    close(output)
    guard renameat(runDirectory, temporary, runDirectory, name) == 0 else {
        unlinkat(runDirectory, temporary, 0)
        throw .stateDirectory(path: target, reason: "cannot put the copy in place: \(systemError())")
    }
    fsync(runDirectory)
    return RunCopy(path: target, sha256: hasher.finalize(), bytes: written)
}

extension JournalStore {
    /// Removes a copy made for a run that was then not created, and the run's directory when empty.
    public func discard(_ copy: RunCopy, id: String) {
        unlink(copy.path)
        rmdir(directory + "/artifacts/" + id)
    }
}
