#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The file operations of the state directory, on descriptors: below the directory the
/// operator named, nothing is reached through a symlink, and directories are 0700.
enum StateFiles {
    /// Creates `path` and missing parents (new ones 0700); an existing directory is kept as it is.
    static func makeDirectories(_ path: String) throws(MigrationError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw .stateDirectory(path: path, reason: "cannot create \(current): \(systemError())")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .stateDirectory(path: path, reason: "it is not a directory")
        }
    }

    /// Opens the directory the operator named (a symlink there is the operator's choice).
    static func openDirectory(_ path: String) throws(MigrationError) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .stateDirectory(path: path, reason: systemError()) }
        return fd
    }

    /// Opens (and with `create`, makes) the subdirectory `name` of `parent`, refusing a
    /// symlink, anything but a directory, and one owned by another user; tightens it to 0700.
    /// Returns nil when it does not exist and `create` is false.
    static func openSubdirectory(_ parent: Int32, _ name: String, path: String, create: Bool)
        throws(MigrationError) -> Int32?
    {
        if create, mkdirat(parent, name, 0o700) != 0, errno != EEXIST {
            throw .stateDirectory(path: path, reason: systemError())
        }
        if create { fsync(parent) }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT, !create { return nil }
            if code == ELOOP || code == ENOTDIR {
                throw .unsafePath(
                    path: path, reason: "it is a symlink or not a directory; cwmigrate does not follow it")
            }
            throw .stateDirectory(path: path, reason: systemError(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .stateDirectory(path: path, reason: systemError())
        }
        guard info.st_uid == geteuid() else {
            close(fd)
            throw .unsafePath(path: path, reason: "it belongs to uid \(info.st_uid), not to this user (\(geteuid()))")
        }
        if info.st_mode & 0o077 != 0 { fchmod(fd, 0o700) }
        return fd
    }

    /// The names in the directory behind `fd` (the descriptor stays open).
    static func names(in fd: Int32) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
