import CArchive
import Vocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `ArchiveWriter.addTree` wrote: counts by kind and the bytes of regular files.
public struct TreeTotals: Sendable, Codable, Equatable {
    public var entries = 0
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardlinks = 0
    public var others = 0
    public var bytes: Int64 = 0
    /// Sockets cannot be stored in tar; they are named here and left out.
    public var skipped: [String] = []

    public init() {}
}

extension ArchiveWriter {
    /// Adds a directory tree as it is on disk: the root as `prefix/`, then everything below
    /// it in name order, with numeric owners, modes, times, symlinks and hard links kept.
    /// Symlinks are stored, never followed.
    ///
    /// Names are bytes, as the file system has them: a name that is not valid UTF-8 is
    /// stored and read back unchanged, whatever the process's locale.
    public func addTree(at directory: String, as prefix: String) throws(WriteError) -> TreeTotals {
        var totals = TreeTotals()
        var links: [HardLinkKey: [UInt8]] = [:]
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.archiveWriterBlockSize, alignment: 64)
        defer { block.deallocate() }
        try addNode(
            source: Array(directory.utf8),
            name: Array((prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix).utf8),
            totals: &totals, links: &links, block: block)
        return totals
    }

    private struct HardLinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private func addNode(
        source: [UInt8], name: [UInt8], totals: inout TreeTotals, links: inout [HardLinkKey: [UInt8]],
        block: UnsafeMutableRawPointer
    ) throws(WriteError) {
        let archive = try openHandle()
        let shown = String(decoding: source, as: UTF8.self)
        var info = stat()
        guard withCPath(source, { lstat($0, &info) }) == 0 else {
            throw .cannotReadSource(path: shown, message: String(cString: strerror(errno)))
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFSOCK {
            totals.skipped.append(shown)
            return
        }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        withCPath(type == S_IFDIR ? name + [UInt8(ascii: "/")] : name) { archive_entry_copy_pathname(entry, $0) }
        archive_entry_set_mode(entry, info.st_mode)
        archive_entry_set_uid(entry, la_int64_t(info.st_uid))
        archive_entry_set_gid(entry, la_int64_t(info.st_gid))
        archive_entry_set_mtime(entry, info.st_mtim.tv_sec, info.st_mtim.tv_nsec)

        var fd: Int32 = -1
        defer { if fd >= 0 { Glibc.close(fd) } }
        switch type {
        case S_IFREG:
            let key = HardLinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if info.st_nlink > 1, let first = links[key] {
                withCPath(first) { archive_entry_copy_hardlink(entry, $0) }
                archive_entry_set_size(entry, 0)
                totals.hardlinks += 1
            } else {
                if info.st_nlink > 1 { links[key] = name }
                fd = withCPath(source) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                guard fd >= 0 else { throw .cannotReadSource(path: shown, message: String(cString: strerror(errno))) }
                archive_entry_set_size(entry, la_int64_t(info.st_size))
                totals.files += 1
                totals.bytes += Int64(info.st_size)
            }
        case S_IFDIR:
            totals.directories += 1
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = withCPath(source) { readlink($0, &target, Int(PATH_MAX)) }
            guard count >= 0 else { throw .cannotReadSource(path: shown, message: String(cString: strerror(errno))) }
            target[count] = 0
            archive_entry_copy_symlink(entry, target)
            totals.symlinks += 1
        default:
            archive_entry_set_rdev(entry, info.st_rdev)
            totals.others += 1
        }
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .cannotWriteEntry(
                archive: path, entry: String(decoding: name, as: UTF8.self), message: Self.archiveWriterMessage(archive)
            )
        }
        totals.entries += 1

        if fd >= 0 {
            // Exactly the size the header promised, or the tar stream would be corrupt.
            var remaining = Int64(info.st_size)
            while remaining > 0 {
                let count = read(fd, block, Int(min(Int64(Self.archiveWriterBlockSize), remaining)))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    let message = count == 0 ? "file shrank while it was archived" : String(cString: strerror(errno))
                    throw .cannotReadSource(path: shown, message: message)
                }
                guard archive_write_data(archive, block, count) == count else {
                    throw .cannotWriteEntry(
                        archive: path, entry: String(decoding: name, as: UTF8.self),
                        message: Self.archiveWriterMessage(archive))
                }
                wroteContent(count)
                remaining -= Int64(count)
            }
        }

        if type == S_IFDIR {
            let slash = UInt8(ascii: "/")
            for child in try Self.children(of: source) {
                try addNode(
                    source: source + [slash] + child, name: name + [slash] + child, totals: &totals, links: &links,
                    block: block)
            }
        }
    }

    /// The bytes `addTree` would write for `directory`'s regular files (hard links once), for a
    /// progress total; nil when the tree cannot be walked.
    public static func treeContentBytes(at directory: String) -> Int64? {
        var seen: Set<HardLinkKey> = []
        func walk(_ path: [UInt8]) throws(WriteError) -> Int64 {
            var info = stat()
            guard withCPath(path, { lstat($0, &info) }) == 0 else { return 0 }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let key = HardLinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                guard info.st_nlink <= 1 || seen.insert(key).inserted else { return 0 }
                return Int64(info.st_size)
            case S_IFDIR:
                var sum: Int64 = 0
                for child in try children(of: path) { sum += try walk(path + [0x2F] + child) }
                return sum
            default: return 0
            }
        }
        return try? walk(Array(directory.utf8))
    }

    /// The names in `directory` as bytes, in byte order.
    private static func children(of directory: [UInt8]) throws(WriteError) -> [[UInt8]] {
        guard let handle = withCPath(directory, { opendir($0) }) else {
            throw .cannotReadSource(
                path: String(decoding: directory, as: UTF8.self), message: String(cString: strerror(errno)))
        }
        defer { closedir(handle) }
        var names: [[UInt8]] = []
        while let item = readdir(handle) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) {
                    Array(
                        UnsafeBufferPointer(
                            start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))))
                }
            }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }
}

/// Why extracting an archive into a directory failed.
public enum ExtractionError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, message: String)
    case entry(path: String, entry: String, message: String)
    case destination(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let message): "cannot read \(path): \(message)"
        case .entry(let path, let entry, let message): "\(path), entry \(entry): \(message)"
        case .destination(let path, let message): "\(path): \(message)"
        }
    }
}

/// Extracts the entries of `archive` under `prefix/` into `directory` (which stands for
/// `prefix/` itself), keeping numeric owners, modes, times, symlinks and hard links.
/// Entries outside the prefix are skipped; names with `..` or paths through symlinks are refused.
/// `meter` is told the bytes of file contents written so far.
public func extractTree(from archive: String, prefix: String, into directory: String, meter: ProgressMeter? = nil)
    throws(ExtractionError) -> TreeTotals
{
    guard let resolved = realpath(directory, nil) else {
        throw .destination(path: directory, message: String(cString: strerror(errno)))
    }
    let root = String(cString: resolved)
    free(resolved)
    let prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix

    guard let reader = archive_read_new() else {
        throw .cannotOpen(path: archive, message: ArchiveLibrary.creationFailure("a reader"))
    }
    defer { archive_read_free(reader) }
    archive_read_support_filter_all(reader)
    archive_read_support_format_all(reader)
    guard archive_read_open_filename(reader, archive, 1 << 20) == ARCHIVE_OK else {
        throw .cannotOpen(path: archive, message: extractionMessage(reader))
    }
    guard let writer = archive_write_disk_new() else {
        throw .cannotOpen(path: archive, message: ArchiveLibrary.creationFailure("a disk writer"))
    }
    defer { archive_write_free(writer) }
    let flags =
        ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK
    archive_write_disk_set_options(writer, flags)

    var totals = TreeTotals()
    var entry: OpaquePointer?
    while true {
        let status = archive_read_next_header(reader, &entry)
        if status == ARCHIVE_EOF { break }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw .entry(path: archive, entry: "(next header)", message: extractionMessage(reader))
        }
        let raw = entryPathname(entry) ?? []
        let name = String(decoding: raw, as: UTF8.self)
        guard let target = rebased(raw, prefix: Array(prefix.utf8), root: Array(root.utf8)) else {
            archive_read_data_skip(reader)
            continue
        }
        withCPath(target) { archive_entry_copy_pathname(entry, $0) }
        if let link = entryHardlink(entry) {
            guard let linkTarget = rebased(link, prefix: Array(prefix.utf8), root: Array(root.utf8)) else {
                throw .entry(path: archive, entry: name, message: "hard link to outside the snapshot")
            }
            withCPath(linkTarget) { archive_entry_copy_hardlink(entry, $0) }
        }
        guard archive_write_header(writer, entry) >= ARCHIVE_WARN else {
            throw .entry(path: archive, entry: name, message: extractionMessage(writer))
        }
        switch archive_entry_filetype(entry) & 0o170000 {
        case 0o100000: totals.files += archive_entry_hardlink(entry) == nil ? 1 : 0
        case 0o040000: totals.directories += 1
        case 0o120000: totals.symlinks += 1
        default: break
        }
        if archive_entry_hardlink(entry) != nil { totals.hardlinks += 1 }
        totals.entries += 1
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let read = archive_read_data_block(reader, &buffer, &size, &offset)
            if read == ARCHIVE_EOF { break }
            guard read >= ARCHIVE_WARN else {
                throw .entry(path: archive, entry: name, message: extractionMessage(reader))
            }
            guard archive_write_data_block(writer, buffer, size, offset) >= ARCHIVE_WARN else {
                throw .entry(path: archive, entry: name, message: extractionMessage(writer))
            }
            totals.bytes += Int64(size)
            meter?.update(bytes: totals.bytes)
        }
        guard archive_write_finish_entry(writer) >= ARCHIVE_WARN else {
            throw .entry(path: archive, entry: name, message: extractionMessage(writer))
        }
    }
    // Directory modes and times are applied here, after their contents were written.
    guard archive_write_close(writer) == ARCHIVE_OK else {
        throw .destination(path: root, message: extractionMessage(writer))
    }
    return totals
}

/// `prefix/a/b` → `root/a/b`; `prefix/` → `root`; anything else → nil. Bytes, not text:
/// a name that is not UTF-8 passes unchanged.
private func rebased(_ name: [UInt8], prefix: [UInt8], root: [UInt8]) -> [UInt8]? {
    let slash = UInt8(ascii: "/")
    var name = name[...]
    if name.starts(with: [UInt8(ascii: "."), slash]) { name = name.dropFirst(2) }
    if name.elementsEqual(prefix) || name.elementsEqual(prefix + [slash]) { return root }
    guard name.starts(with: prefix + [slash]) else { return nil }
    var rest = name.dropFirst(prefix.count + 1)
    while rest.last == slash { rest = rest.dropLast() }
    return root + [slash] + rest
}

/// `bytes` as a NUL-terminated C string for the duration of `body`.
func withCPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    (bytes + [0]).withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0) }
    }
}

private func cBytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
}

/// An entry's path as the bytes the archive holds, whatever the process's locale: the raw
/// (multibyte) form, which libarchive keeps byte for byte when the archive says
/// `hdrcharset=BINARY` (as cwmigrate's own do) or a UTF-8 name cannot be converted to the
/// locale; the UTF-8 form only when there is no raw one.
func entryPathname(_ entry: OpaquePointer) -> [UInt8]? {
    if let raw = archive_entry_pathname(entry) { return cBytes(raw) }
    return archive_entry_pathname_utf8(entry).map(cBytes)
}

/// The hard link's target, as `entryPathname` reads a path.
func entryHardlink(_ entry: OpaquePointer) -> [UInt8]? {
    if let raw = archive_entry_hardlink(entry) { return cBytes(raw) }
    return archive_entry_hardlink_utf8(entry).map(cBytes)
}

private func extractionMessage(_ archive: OpaquePointer) -> String {
    if let message = archive_error_string(archive) { return String(cString: message) }
    return "libarchive error \(archive_errno(archive))"
}

extension ArchiveWriter {
    /// Copies the entries of another archive (any format and compression libarchive reads)
    /// under `oldPrefix/` into this one under `newPrefix/`, keeping their metadata; entries
    /// outside the prefix are left out. This is how a tar streamed by the Docker Engine
    /// becomes a snapshot, and a snapshot becomes a tar for the Engine.
    public func addEntries(fromArchive source: String, renaming oldPrefix: String, to newPrefix: String)
        throws(WriteError) -> TreeTotals
    {
        let archive = try openHandle()
        guard let reader = archive_read_new() else {
            throw .cannotReadSource(path: source, message: ArchiveLibrary.creationFailure("a reader"))
        }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_all(reader)
        guard archive_read_open_filename(reader, source, 1 << 20) == ARCHIVE_OK else {
            throw .cannotReadSource(path: source, message: Self.archiveWriterMessage(reader))
        }
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.archiveWriterBlockSize, alignment: 64)
        defer { block.deallocate() }
        var totals = TreeTotals()
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let entry else {
                throw .cannotReadSource(path: source, message: Self.archiveWriterMessage(reader))
            }
            let raw = entryPathname(entry) ?? []
            let name = String(decoding: raw, as: UTF8.self)
            guard let renamedBytes = renamedEntry(raw, from: Array(oldPrefix.utf8), to: Array(newPrefix.utf8)) else {
                archive_read_data_skip(reader)
                continue
            }
            let renamed = String(decoding: renamedBytes, as: UTF8.self)
            withCPath(renamedBytes) { archive_entry_copy_pathname(entry, $0) }
            if let link = entryHardlink(entry) {
                guard let target = renamedEntry(link, from: Array(oldPrefix.utf8), to: Array(newPrefix.utf8)) else {
                    throw .cannotReadSource(path: source, message: "\(name) is a hard link to outside \(oldPrefix)/")
                }
                withCPath(target) { archive_entry_copy_hardlink(entry, $0) }
                totals.hardlinks += 1
            } else {
                switch archive_entry_filetype(entry) & 0o170000 {
                case 0o100000:
                    totals.files += 1
                    totals.bytes += archive_entry_size(entry)
                case 0o040000: totals.directories += 1
                case 0o120000: totals.symlinks += 1
                default: totals.others += 1
                }
            }
            guard archive_write_header(archive, entry) == ARCHIVE_OK else {
                throw .cannotWriteEntry(archive: path, entry: renamed, message: Self.archiveWriterMessage(archive))
            }
            totals.entries += 1
            while true {
                let count = archive_read_data(reader, block, Self.archiveWriterBlockSize)
                if count == 0 { break }
                guard count > 0 else {
                    throw .cannotReadSource(path: source, message: Self.archiveWriterMessage(reader))
                }
                guard archive_write_data(archive, block, count) == count else {
                    throw .cannotWriteEntry(archive: path, entry: renamed, message: Self.archiveWriterMessage(archive))
                }
                wroteContent(count)
            }
        }
        return totals
    }
}

/// `old/a` → `new/a`, `old/` → `new/`; nil outside `old/`. Bytes, as `rebased`.
private func renamedEntry(_ name: [UInt8], from oldPrefix: [UInt8], to newPrefix: [UInt8]) -> [UInt8]? {
    let slash = UInt8(ascii: "/")
    var name = name[...]
    if name.starts(with: [UInt8(ascii: "."), slash]) { name = name.dropFirst(2) }
    if name.elementsEqual(oldPrefix) || name.elementsEqual(oldPrefix + [slash]) { return newPrefix + [slash] }
    guard name.starts(with: oldPrefix + [slash]) else { return nil }
    return newPrefix + [slash] + name.dropFirst(oldPrefix.count + 1)
}

/// What `scanArchive` saw: entries, bytes of regular files (hard links not counted twice),
/// the newest modification time with its entry, and whether the entry looked for is there.
public struct ArchiveScan: Sendable, Equatable {
    public var entries = 0
    public var bytes: Int64 = 0
    public var newest: (entry: String, seconds: Int64)? = nil
    public var found = false

    public static func == (a: ArchiveScan, b: ArchiveScan) -> Bool {
        a.entries == b.entries && a.bytes == b.bytes && a.found == b.found && a.newest?.entry == b.newest?.entry
            && a.newest?.seconds == b.newest?.seconds
    }
}

/// Reads the headers of `archive` (any format and compression libarchive reads) without
/// extracting anything. `lookingFor` is a name (bytes compared, `./` ignored) whose
/// presence as a regular file is reported.
public func scanArchive(_ archive: String, lookingFor: String? = nil) throws(ExtractionError) -> ArchiveScan {
    guard let reader = archive_read_new() else {
        throw .cannotOpen(path: archive, message: ArchiveLibrary.creationFailure("a reader"))
    }
    defer { archive_read_free(reader) }
    archive_read_support_filter_all(reader)
    archive_read_support_format_all(reader)
    guard archive_read_open_filename(reader, archive, 1 << 20) == ARCHIVE_OK else {
        throw .cannotOpen(path: archive, message: extractionMessage(reader))
    }
    let wanted = lookingFor.map { Array($0.utf8) }
    var scan = ArchiveScan()
    var entry: OpaquePointer?
    while true {
        let status = archive_read_next_header(reader, &entry)
        if status == ARCHIVE_EOF { break }
        guard status >= ARCHIVE_WARN, let entry else {
            throw .entry(path: archive, entry: "(next header)", message: extractionMessage(reader))
        }
        var name = entryPathname(entry) ?? []
        if name.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) { name.removeFirst(2) }
        scan.entries += 1
        let regular = archive_entry_filetype(entry) & 0o170000 == 0o100000
        if regular, archive_entry_hardlink(entry) == nil, archive_entry_hardlink_utf8(entry) == nil {
            scan.bytes += archive_entry_size(entry)
        }
        if regular, name == wanted { scan.found = true }
        let seconds = Int64(archive_entry_mtime(entry))
        if scan.newest.map({ $0.seconds < seconds }) ?? true {
            scan.newest = (String(decoding: name, as: UTF8.self), seconds)
        }
        archive_read_data_skip(reader)
    }
    return scan
}
