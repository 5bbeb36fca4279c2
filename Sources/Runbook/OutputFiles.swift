import Foundation

/// Writes `text` to `path` whole or not at all: a new temporary file beside it, opened with
/// O_EXCL|O_NOFOLLOW (mode 0644: a runbook holds no secret), then renamed over `path`.
/// A symlink at `path` is replaced, never followed.
public func writeAtomically(_ text: String, to path: String) throws(RunbookError) {
    let url = URL(fileURLWithPath: path)
    let temporary =
        url.deletingLastPathComponent().path + "/." + url.lastPathComponent
        + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    var failure: Int32 = 0
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            failure = errno
            break
        }
        written += n
    }
    if failure == 0, fsync(fd) != 0 { failure = errno }
    close(fd)
    if failure == 0, rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw .cannotWrite(path: path, reason: String(cString: strerror(failure)))
    }
}

/// Creates `path` as a directory (mode 0755) unless it is one; a symlink or a file there is refused.
public func makeOutputDirectory(_ path: String) throws(RunbookError) {
    var info = stat()
    if lstat(path, &info) == 0 {
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path: path) }
        return
    }
    guard mkdir(path, 0o755) == 0 else {
        throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
    }
}
