import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What tells a file from the same file changed, without reading it: its device, inode,
/// size, and modification and status-change times. Every write, truncation, rename onto
/// it, `chmod` or `touch` sets the status-change time, which only the kernel sets (to the
/// clock's time), so an equal identity is the file as it was.
public struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: [Int]
    let changed: [Int]

    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        changed = [Int(info.st_ctim.tv_sec), Int(info.st_ctim.tv_nsec)]
    }

    /// The identity of the file at `path` (symbolic links followed); nil when it cannot be seen.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }
}

/// What whole readings of files found, remembered with each file's identity while the process
/// lives: given back only while the file is still the one it was read from.
public final class FileReadings<Value: Sendable>: Sendable {
    private let known = Mutex<[String: (identity: FileIdentity, value: Value)]>([:])

    public init() {}

    /// What a reading of `path` found earlier, when the file is unchanged since; else nil.
    public func earlier(at path: String) -> Value? {
        guard let now = FileIdentity(path: path), let found = known.withLock({ $0[path] }), found.identity == now
        else { return nil }
        return found.value
    }

    /// Remembers what a reading of `path` found, when the file is still `before`, the identity
    /// it had when the reading began (a file changed meanwhile is not vouched for).
    public func remember(_ value: Value, at path: String, readFrom before: FileIdentity?) {
        guard let before, FileIdentity(path: path) == before else { return }
        known.withLock { $0[path] = (before, value) }
    }
}
