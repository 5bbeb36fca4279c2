#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The one lock a run holds on its installation (`locks/<key>.lock` in the state directory),
/// so two runs against the same installation cannot proceed at once. It is an flock(2):
/// the kernel drops it when the process ends in any way, SIGKILL included, so a crashed run
/// never leaves a lock to delete by hand. The file itself stays; only the flock counts.
public final class RunLock {
    public let installation: InstallationRef
    public let path: String
    private var descriptor: Int32

    private init(installation: InstallationRef, path: String, descriptor: Int32) {
        self.installation = installation
        self.path = path
        self.descriptor = descriptor
    }

    /// Whether another process holds an installation's lock, as far as can be told without taking it.
    public enum State: Sendable, Equatable {
        case free
        /// `holder` is what the holder wrote into the file (its pid and run), when it did.
        case held(holder: String?)
    }

    /// Takes the lock without waiting; `installationLocked` when another process has it.
    /// `holder` (no secrets: it is written into the lock file) says who holds it.
    public static func acquire(_ installation: InstallationRef, in store: JournalStore, holder: String)
        throws(MigrationError) -> RunLock
    {
        let top = try store.openTop(create: true)
        defer { close(top) }
        guard let locks = try StateFiles.openSubdirectory(top, "locks", path: store.locksDirectory, create: true)
        else { throw .stateDirectory(path: store.locksDirectory, reason: "it could not be created") }
        defer { close(locks) }
        let name = installation.lockKey + ".lock"
        let path = store.locksDirectory + "/" + name
        // O_CLOEXEC: a child (docker compose, an installer) that outlives cwmigrate must not keep the lock.
        let fd = openat(locks, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { throw .unsafePath(path: path, reason: "it is a symlink; cwmigrate does not follow it") }
            throw .lockFailed(path: path, reason: systemError())
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let current = code == EWOULDBLOCK ? holderText(fd) : nil
            close(fd)
            if code == EWOULDBLOCK {
                throw .installationLocked(installation: installation.description, lockFile: path, holder: current)
            }
            throw .lockFailed(path: path, reason: systemError(code))
        }
        let line = Array("pid \(getpid()): \(holder)\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return RunLock(installation: installation, path: path, descriptor: fd)
    }

    /// Looks at an installation's lock without creating anything. Briefly takes a shared
    /// lock to tell, so a run starting in exactly that moment could see it as held.
    public static func state(of installation: InstallationRef, in store: JournalStore) throws(MigrationError) -> State {
        let path = store.locksDirectory + "/" + installation.lockKey + ".lock"
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return .free
            case ELOOP: throw .unsafePath(path: path, reason: "it is a symlink; cwmigrate does not follow it")
            default: throw .lockFailed(path: path, reason: systemError())
            }
        }
        defer { close(fd) }
        while flock(fd, LOCK_SH | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return .held(holder: holderText(fd)) }
            throw .lockFailed(path: path, reason: systemError())
        }
        flock(fd, LOCK_UN)
        return .free
    }

    /// Gives the lock up; also done when the value goes away or the process ends.
    public func release() {
        guard descriptor >= 0 else { return }
        // No holder named in a lock nobody holds; a killed holder's line stays, which is
        // why the line only says who, and the flock says whether.
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func holderText(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace
        return text.isEmpty ? nil : text
    }
}
