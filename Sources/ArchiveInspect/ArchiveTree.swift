import CArchive
import Foundation

#if canImport(Glibc)
    import Glibc
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
    public func addTree(at directory: String, as prefix: String) throws(WriteError) -> TreeTotals {
        var totals = TreeTotals()
        var links: [HardLinkKey: String] = [:]
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.archiveWriterBlockSize, alignment: 64)
        defer { block.deallocate() }
        try addNode(
            source: directory, name: prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix, totals: &totals,
            links: &links, block: block)
        return totals
    }

    private struct HardLinkKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private func addNode(
        source: String, name: String, totals: inout TreeTotals, links: inout [HardLinkKey: String],
        block: UnsafeMutableRawPointer
    ) throws(WriteError) {
        let archive = try openHandle()
        var info = stat()
        guard lstat(source, &info) == 0 else {
            throw .cannotReadSource(path: source, message: String(cString: strerror(errno)))
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFSOCK {
            totals.skipped.append(source)
            return
        }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, type == S_IFDIR ? name + "/" : name)
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
                archive_entry_set_hardlink(entry, first)
                archive_entry_set_size(entry, 0)
                totals.hardlinks += 1
            } else {
                if info.st_nlink > 1 { links[key] = name }
                fd = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw .cannotReadSource(path: source, message: String(cString: strerror(errno))) }
                archive_entry_set_size(entry, la_int64_t(info.st_size))
                totals.files += 1
                totals.bytes += Int64(info.st_size)
            }
        case S_IFDIR:
            totals.directories += 1
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(source, &target, Int(PATH_MAX))
            guard count >= 0 else { throw .cannotReadSource(path: source, message: String(cString: strerror(errno))) }
            target[count] = 0
            archive_entry_set_symlink(entry, target)
            totals.symlinks += 1
        default:
            archive_entry_set_rdev(entry, info.st_rdev)
            totals.others += 1
        }
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .cannotWriteEntry(archive: path, entry: name, message: Self.archiveWriterMessage(archive))
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
                    throw .cannotReadSource(path: source, message: message)
                }
                guard archive_write_data(archive, block, count) == count else {
                    throw .cannotWriteEntry(archive: path, entry: name, message: Self.archiveWriterMessage(archive))
                }
                remaining -= Int64(count)
            }
        }

        if type == S_IFDIR {
            for child in try Self.children(of: source) {
                try addNode(
                    source: source + "/" + child, name: name + "/" + child, totals: &totals, links: &links,
                    block: block)
            }
        }
    }

    private static func children(of directory: String) throws(WriteError) -> [String] {
        guard let handle = opendir(directory) else {
            throw .cannotReadSource(path: directory, message: String(cString: strerror(errno)))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let item = readdir(handle) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
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
public func extractTree(from archive: String, prefix: String, into directory: String) throws(ExtractionError)
    -> TreeTotals
{
    guard let resolved = realpath(directory, nil) else {
        throw .destination(path: directory, message: String(cString: strerror(errno)))
    }
    let root = String(cString: resolved)
    free(resolved)
    let prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix

    guard let reader = archive_read_new() else { throw .cannotOpen(path: archive, message: "out of memory") }
    defer { archive_read_free(reader) }
    archive_read_support_filter_all(reader)
    archive_read_support_format_all(reader)
    guard archive_read_open_filename(reader, archive, 1 << 20) == ARCHIVE_OK else {
        throw .cannotOpen(path: archive, message: extractionMessage(reader))
    }
    guard let writer = archive_write_disk_new() else { throw .cannotOpen(path: archive, message: "out of memory") }
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
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        guard let target = rebased(name, prefix: prefix, root: root) else {
            archive_read_data_skip(reader)
            continue
        }
        archive_entry_set_pathname(entry, target)
        if let link = archive_entry_hardlink(entry) {
            guard let linkTarget = rebased(String(cString: link), prefix: prefix, root: root) else {
                throw .entry(path: archive, entry: name, message: "hard link to outside the snapshot")
            }
            archive_entry_set_hardlink(entry, linkTarget)
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

/// `prefix/a/b` → `root/a/b`; `prefix/` → `root`; anything else → nil.
private func rebased(_ name: String, prefix: String, root: String) -> String? {
    var name = Substring(name)
    if name.hasPrefix("./") { name = name.dropFirst(2) }
    if name == prefix || name == prefix + "/" { return root }
    guard name.hasPrefix(prefix + "/") else { return nil }
    var rest = name.dropFirst(prefix.count + 1)
    while rest.hasSuffix("/") { rest = rest.dropLast() }
    return root + "/" + rest
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
            throw .cannotReadSource(path: source, message: "libarchive could not allocate a reader")
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
            let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            guard let renamed = renamedEntry(name, from: oldPrefix, to: newPrefix) else {
                archive_read_data_skip(reader)
                continue
            }
            archive_entry_set_pathname(entry, renamed)
            if let link = archive_entry_hardlink(entry) {
                guard let target = renamedEntry(String(cString: link), from: oldPrefix, to: newPrefix) else {
                    throw .cannotReadSource(path: source, message: "\(name) is a hard link to outside \(oldPrefix)/")
                }
                archive_entry_set_hardlink(entry, target)
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
            }
        }
        return totals
    }
}

/// `old/a` → `new/a`, `old/` → `new/`; nil outside `old/`.
private func renamedEntry(_ name: String, from oldPrefix: String, to newPrefix: String) -> String? {
    var name = Substring(name)
    if name.hasPrefix("./") { name = name.dropFirst(2) }
    if name == oldPrefix || name == oldPrefix + "/" { return newPrefix + "/" }
    guard name.hasPrefix(oldPrefix + "/") else { return nil }
    return newPrefix + "/" + name.dropFirst(oldPrefix.count + 1)
}
