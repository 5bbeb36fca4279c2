// FoundationEssentials for ContiguousBytes: it brings no ICU, unlike Foundation.
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

/// Why a file cannot be written where an operator (or cwmigrate itself) asked.
public enum OutputFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Something is at the path and replacing it was not asked for.
    case exists(path: String)
    case isDirectory(path: String)
    /// A device, FIFO or socket: writing a file there would destroy it or block.
    case notARegularFile(path: String, kind: String)
    /// The path names a file this same command reads.
    case isInput(path: String, input: String)
    /// `-` given where the output is not text for a terminal or pipe.
    case standardOutputRefused(what: String)
    /// The directory the file would be created in is missing, not a directory or not writable.
    case unusableDirectory(path: String, directory: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var path: String {
        switch self {
        case .exists(let path), .isDirectory(let path), .notARegularFile(let path, _), .isInput(let path, _),
            .unusableDirectory(let path, _, _), .cannotWrite(let path, _):
            path
        case .standardOutputRefused: "-"
        }
    }

    /// What is wrong, without the path (for errors that name the path themselves).
    public var reason: String {
        switch self {
        case .exists: "already exists"
        case .isDirectory: "is a directory"
        case .notARegularFile(_, let kind): "is a \(kind); cwmigrate writes only regular files"
        case .isInput(let path, let input):
            input == path
                ? "is also an input of this command; it would be destroyed"
                : "is \(input), an input of this command; it would be destroyed"
        case .standardOutputRefused(let what): "\(what) cannot be written to standard output"
        case .unusableDirectory(_, let directory, let reason): "\(directory) \(reason)"
        case .cannotWrite(_, let reason): reason
        }
    }

    public var description: String {
        switch self {
        case .unusableDirectory(let path, _, _), .cannotWrite(let path, _): "cannot write \(path): \(reason)"
        case .standardOutputRefused: "'-' (standard output): \(reason)"
        default: "\(path) \(reason)"
        }
    }
}

/// The one way cwmigrate writes a file: checked before any work starts, written to a new
/// temporary file in the same directory (created exclusively, never through a symlink),
/// synced, and renamed into place whole; on any failure the previous file stays.
public enum OutputFile {
    /// Where a checked output goes.
    public enum Target: Sendable, Equatable {
        case standardOutput
        case file(String)
    }

    /// Checks `path` as an output before any work starts. Refuses a directory, a device, a
    /// FIFO, a socket, the path of any of `inputs` (the same file by device and inode, under
    /// whatever name), an existing file unless `replacing`, and a directory to create it in
    /// that is missing or not writable. `-` is standard output when `standardOutput` names
    /// nothing (`nil`), else it is refused with that name for what would be written.
    @discardableResult
    /// A relative `path` is taken in `directory` (a descriptor) when given.
    public static func check(
        _ path: String, in directory: Int32 = AT_FDCWD, replacing: Bool, inputs: [String] = [],
        standardOutputRefusal: String? = "this output"
    ) throws(OutputFileError) -> Target {
        if path == "-" {
            if let what = standardOutputRefusal { throw .standardOutputRefused(what: what) }
            return .standardOutput
        }
        guard !path.isEmpty else { throw .cannotWrite(path: path, reason: "the path is empty") }
        var named = stat()
        if fstatat(directory, path, &named, AT_SYMLINK_NOFOLLOW) == 0 {
            try refuseKind(path, named)
            var followed = stat()
            let targets = fstatat(directory, path, &followed, 0) == 0 ? [named, followed] : [named]
            for input in inputs {
                var read = stat()
                guard stat(input, &read) == 0 else { continue }
                if targets.contains(where: { $0.st_dev == read.st_dev && $0.st_ino == read.st_ino }) {
                    throw .isInput(path: path, input: input)
                }
            }
            if !replacing { throw .exists(path: path) }
        } else if errno != ENOENT, errno != ENOTDIR {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        if directory == AT_FDCWD || path.hasPrefix("/") { try checkDirectory(of: path) }
        return .file(path)
    }

    /// Writes `bytes` to `path` whole or not at all, after the same checks as `check`.
    public static func write(
        _ bytes: some ContiguousBytes, to path: String, in directory: Int32 = AT_FDCWD, mode: mode_t = 0o600,
        replacing: Bool, inputs: [String] = [], temporarySuffix: String? = nil
    ) throws(OutputFileError) {
        let file = try create(
            path, in: directory, mode: mode, replacing: replacing, inputs: inputs, temporarySuffix: temporarySuffix)
        try file.write(bytes)
        try file.commit()
    }

    /// Starts writing `path`: checks it as `check` does, then creates the temporary file,
    /// mode `mode`. With `temporarySuffix` the temporary file is `path + suffix` (one left by
    /// a killed run is removed first, never followed); else a hidden, unique name beside it.
    public static func create(
        _ path: String, in directory: Int32 = AT_FDCWD, mode: mode_t = 0o600, replacing: Bool, inputs: [String] = [],
        temporarySuffix: String? = nil
    ) throws(OutputFileError) -> PendingFile {
        try check(path, in: directory, replacing: replacing, inputs: inputs)
        let temporary: String
        if let temporarySuffix {
            temporary = path + temporarySuffix
            if unlinkat(directory, temporary, 0) != 0, errno != ENOENT {
                throw .cannotWrite(path: temporary, reason: String(cString: strerror(errno)))
            }
        } else {
            let (parent, name) = split(path)
            temporary =
                (parent == "." && !path.hasPrefix("./") ? "" : parent + "/")
                + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        }
        // O_EXCL never follows a symlink planted at the name, O_NOFOLLOW says so twice.
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        // The umask may have taken bits away; the mode asked for is the mode the file has.
        if fchmod(fd, mode) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlinkat(directory, temporary, 0)
            throw .cannotWrite(path: temporary, reason: reason)
        }
        return PendingFile(
            path: path, temporaryPath: temporary, directory: directory, descriptor: fd, replacing: replacing)
    }

    /// Creates `path` as a directory (mode 0755) unless it is one; a symlink, a file or
    /// anything else there is refused.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(OutputFileError) {
        guard path != "-" else { throw .standardOutputRefused(what: "a directory of files") }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .unusableDirectory(
                    path: path, directory: path, reason: "is not a directory (a symlink is not followed)")
            }
            return
        }
        guard mkdir(path, mode) == 0 else {
            let reason = String(cString: strerror(errno))
            let (parent, _) = split(path)
            throw .unusableDirectory(path: path, directory: parent, reason: "cannot hold it: \(reason)")
        }
    }

    /// `/a/b/c` → (`/a/b`, `c`); `c` → (`.`, `c`); `/c` → (`/`, `c`).
    static func split(_ path: String) -> (directory: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let directory = trimmed[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(trimmed[trimmed.index(after: slash)...]))
    }

    private static func refuseKind(_ path: String, _ info: stat) throws(OutputFileError) {
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFLNK: return
        case S_IFDIR: throw .isDirectory(path: path)
        case S_IFCHR: throw .notARegularFile(path: path, kind: "character device")
        case S_IFBLK: throw .notARegularFile(path: path, kind: "block device")
        case S_IFIFO: throw .notARegularFile(path: path, kind: "FIFO")
        case S_IFSOCK: throw .notARegularFile(path: path, kind: "socket")
        default: throw .notARegularFile(path: path, kind: "special file")
        }
    }

    /// Checks that the directory `path` would be created in exists and is writable.
    public static func checkDirectory(of path: String) throws(OutputFileError) {
        let (directory, _) = split(path)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw .unusableDirectory(
                path: path, directory: directory,
                reason: errno == ENOENT ? "does not exist" : String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .unusableDirectory(path: path, directory: directory, reason: "is not a directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw .unusableDirectory(path: path, directory: directory, reason: "is not writable")
        }
    }
}

/// A file being written: its temporary file is open; `commit` puts it in place, and
/// anything else (an error, `discard`, the end of its life) removes it.
public final class PendingFile {
    public let path: String
    public let temporaryPath: String
    /// The temporary file, open for writing (for writers that take a descriptor).
    public let descriptor: Int32
    private let directory: Int32
    private let replacing: Bool
    private var isOpen = true
    private var isDone = false

    init(path: String, temporaryPath: String, directory: Int32, descriptor: Int32, replacing: Bool) {
        self.path = path
        self.temporaryPath = temporaryPath
        self.directory = directory
        self.descriptor = descriptor
        self.replacing = replacing
    }

    deinit { discard() }

    public func write(_ bytes: some ContiguousBytes) throws(OutputFileError) {
        let failure: Int32? = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure { throw .cannotWrite(path: temporaryPath, reason: String(cString: strerror(failure))) }
    }

    /// Syncs the file, checks that the name still holds the file written, and renames it
    /// over `path` (replacing whatever is there, a symlink included, without following it),
    /// or, when replacing was not asked for, links it there only if the name is still free.
    public func commit() throws(OutputFileError) {
        guard !isDone else { throw .cannotWrite(path: path, reason: "it was already put in place or discarded") }
        defer { if !isDone { discard() } }
        func failure(_ at: String) -> OutputFileError {
            .cannotWrite(path: at, reason: String(cString: strerror(errno)))
        }
        guard fsync(descriptor) == 0 else { throw failure(temporaryPath) }
        var written = stat()
        var named = stat()
        guard fstat(descriptor, &written) == 0, fstatat(directory, temporaryPath, &named, AT_SYMLINK_NOFOLLOW) == 0,
            written.st_dev == named.st_dev,
            written.st_ino == named.st_ino
        else { throw .cannotWrite(path: temporaryPath, reason: "it was replaced while it was written") }
        isOpen = false
        guard close(descriptor) == 0 else { throw failure(temporaryPath) }
        if replacing {
            guard renameat(directory, temporaryPath, directory, path) == 0 else { throw failure(path) }
        } else {
            try place()
        }
        isDone = true
        let (parent, _) = OutputFile.split(path)
        let fd = openat(directory, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            let synced = fsync(fd) == 0
            close(fd)
            guard synced else {
                throw .cannotWrite(path: path, reason: "fsync of \(parent): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// link(2) fails on an existing name where rename(2) would replace it; file systems
    /// without hard links (FAT on a USB stick) fall back to a checked rename.
    private func place() throws(OutputFileError) {
        if linkat(directory, temporaryPath, directory, path, 0) == 0 {
            unlinkat(directory, temporaryPath, 0)
            return
        }
        let linkError = errno
        guard [EPERM, ENOTSUP, EOPNOTSUPP, EMLINK, ENOSYS].contains(linkError) else {
            throw linkError == EEXIST
                ? .exists(path: path) : .cannotWrite(path: path, reason: String(cString: strerror(linkError)))
        }
        var existing = stat()
        guard fstatat(directory, path, &existing, AT_SYMLINK_NOFOLLOW) != 0 else { throw .exists(path: path) }
        guard renameat(directory, temporaryPath, directory, path) == 0 else {
            throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Closes and removes the temporary file; the file at `path` is untouched.
    public func discard() {
        if isOpen {
            close(descriptor)
            isOpen = false
        }
        if !isDone {
            unlinkat(directory, temporaryPath, 0)
            isDone = true
        }
    }
}
