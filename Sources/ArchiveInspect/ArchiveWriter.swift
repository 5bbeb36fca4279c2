import CArchive
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Vocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a tar archive (gzip by default, zstd on request) from files on disk and
/// in-memory entries, streaming file contents in blocks so size never costs memory.
public final class ArchiveWriter {
    /// The compression applied to the tar stream.
    public enum Compression: Sendable {
        case gzip
        case zstd
        case none
    }

    /// What went wrong while writing, with the archive path and libarchive's message.
    public enum WriteError: Error, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, message: String)
        case cannotReadSource(path: String, message: String)
        case cannotWriteEntry(archive: String, entry: String, message: String)
        case alreadyClosed(path: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let message):
                return "cannot create archive \(path): \(message)"
            case .cannotReadSource(let path, let message):
                return "cannot read \(path) to archive it: \(message)"
            case .cannotWriteEntry(let archive, let entry, let message):
                return "cannot write \(entry) into \(archive): \(message)"
            case .alreadyClosed(let path):
                return "archive \(path) is already closed"
            }
        }
    }

    /// One entry to write: a directory, a file copied from disk, or bytes from memory.
    public enum Entry: Sendable {
        case directory(String)
        case file(String, source: URL)
        case data(String, Data)
    }

    /// Writes a complete archive at `url` from `entries`, in order.
    public static func write(_ entries: [Entry], to url: URL, compression: Compression = .gzip) throws(WriteError) {
        let writer = try ArchiveWriter(creating: url, compression: compression)
        for entry in entries {
            switch entry {
            case .directory(let name): try writer.addDirectory(name)
            case .file(let name, let source): try writer.addFile(name, from: source)
            case .data(let name, let bytes): try writer.addFile(name, contents: bytes)
            }
        }
        try writer.close()
    }

    let path: String
    private var handle: OpaquePointer?
    static let archiveWriterBlockSize = 1 << 20
    /// Told the bytes of file contents written so far (`addTree`, `addEntries`), when someone watches.
    public var meter: ProgressMeter?
    /// Bytes of file contents written by `addTree` and `addEntries` so far.
    public private(set) var contentBytesWritten: Int64 = 0

    /// Counts `count` more bytes of contents written, for the meter.
    func wroteContent(_ count: Int) {
        contentBytesWritten += Int64(count)
        meter?.update(bytes: contentBytesWritten)
    }

    /// Creates (or truncates) the archive at `url`; entries are added in call order.
    /// `level` sets the compressor's level (zstd 1…19, gzip 1…9); nil keeps libarchive's default.
    public convenience init(creating url: URL, compression: Compression = .gzip, level: Int? = nil) throws(WriteError) {
        let path = url.path
        try self.init(path: path, compression: compression, level: level) { archive_write_open_filename($0, path) }
    }

    /// Writes the archive to `descriptor`, a file the caller created (and later closes), so
    /// nothing reopens it by name; `path` names it in errors.
    public convenience init(descriptor: Int32, path: String, compression: Compression = .gzip, level: Int? = nil)
        throws(WriteError)
    {
        try self.init(path: path, compression: compression, level: level) { archive_write_open_fd($0, descriptor) }
    }

    private init(path: String, compression: Compression, level: Int?, open: (OpaquePointer) -> Int32)
        throws(WriteError)
    {
        self.path = path
        guard let archive = archive_write_new() else {
            throw .cannotOpen(path: path, message: ArchiveLibrary.creationFailure("a writer"))
        }
        var status = archive_write_set_format_pax_restricted(archive)
        // Names are written as the bytes they are (with `hdrcharset=BINARY` where pax needs
        // a header), never converted through the process's locale: in the C locale that
        // conversion fails for `ü`, and a name that is not UTF-8 has no conversion at all.
        if status == ARCHIVE_OK {
            status = archive_write_set_format_option(archive, "pax", "hdrcharset", "BINARY")
        }
        if status == ARCHIVE_OK {
            switch compression {
            case .gzip: status = archive_write_add_filter_gzip(archive)
            case .zstd: status = archive_write_add_filter_zstd(archive)
            case .none: status = archive_write_add_filter_none(archive)
            }
        }
        if status == ARCHIVE_OK, let level, compression != .none {
            status = archive_write_set_filter_option(archive, nil, "compression-level", String(level))
        }

        if status == ARCHIVE_OK {
            status = open(archive)
        }
        guard status == ARCHIVE_OK else {
            let message = Self.archiveWriterMessage(archive)
            archive_write_free(archive)
            throw .cannotOpen(path: path, message: message)
        }
        handle = archive
    }

    deinit {
        if let handle { archive_write_free(handle) }
    }

    /// Adds a directory entry (mode 0755), so extractors create it with sane permissions.
    public func addDirectory(_ pathInArchive: String, modificationDate: Date = Date()) throws(WriteError) {
        let archive = try openHandle()
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, pathInArchive.hasSuffix("/") ? pathInArchive : pathInArchive + "/")
        archive_entry_set_filetype(entry, UInt32(0o040000))
        archive_entry_set_perm(entry, 0o755)
        archive_entry_set_mtime(entry, time_t(modificationDate.timeIntervalSince1970), 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .cannotWriteEntry(archive: path, entry: pathInArchive, message: Self.archiveWriterMessage(archive))
        }
    }

    /// Adds a regular file whose bytes are given in memory.
    public func addFile(
        _ pathInArchive: String, contents: Data, mode: Int32 = 0o644,
        modificationDate: Date = Date()
    ) throws(WriteError) {
        let archive = try openHandle()
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        Self.archiveWriterDescribeFile(
            entry, pathInArchive, size: Int64(contents.count), mode: mode,
            modificationDate: modificationDate)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .cannotWriteEntry(archive: path, entry: pathInArchive, message: Self.archiveWriterMessage(archive))
        }
        let written = contents.withUnsafeBytes { buffer -> Int in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
            return archive_write_data(archive, base, buffer.count)
        }
        guard written == contents.count else {
            throw .cannotWriteEntry(archive: path, entry: pathInArchive, message: Self.archiveWriterMessage(archive))
        }
    }

    /// Adds a regular file copied from `source` on disk, read in 1 MiB blocks.
    public func addFile(_ pathInArchive: String, from source: URL, mode: Int32 = 0o644) throws(WriteError) {
        let archive = try openHandle()
        let fd = open(source.path, O_RDONLY)
        guard fd >= 0 else {
            throw .cannotReadSource(path: source.path, message: String(cString: strerror(errno)))
        }
        defer { _ = Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .cannotReadSource(path: source.path, message: String(cString: strerror(errno)))
        }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        Self.archiveWriterDescribeFile(
            entry, pathInArchive, size: Int64(info.st_size), mode: mode,
            modificationDate: Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)))
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .cannotWriteEntry(archive: path, entry: pathInArchive, message: Self.archiveWriterMessage(archive))
        }
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.archiveWriterBlockSize, alignment: 16)
        defer { block.deallocate() }
        // The header promised st_size bytes; a file that changes size meanwhile would corrupt
        // the tar stream, so exactly that many bytes are written or the entry fails.
        var remaining = Int64(info.st_size)
        while remaining > 0 {
            let count = read(fd, block, Int(min(Int64(Self.archiveWriterBlockSize), remaining)))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let message = count == 0 ? "file shrank while it was archived" : String(cString: strerror(errno))
                throw .cannotReadSource(path: source.path, message: message)
            }
            guard archive_write_data(archive, block, count) == count else {
                throw .cannotWriteEntry(
                    archive: path, entry: pathInArchive, message: Self.archiveWriterMessage(archive))
            }
            remaining -= Int64(count)
        }
    }

    /// Flushes the compressor and closes the file; the archive is complete only after this.
    public func close() throws(WriteError) {
        let archive = try openHandle()
        handle = nil
        defer { archive_write_free(archive) }
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw .cannotWriteEntry(
                archive: path, entry: "(end of archive)", message: Self.archiveWriterMessage(archive))
        }
    }

    func openHandle() throws(WriteError) -> OpaquePointer {
        guard let handle else { throw .alreadyClosed(path: path) }
        return handle
    }

    private static func archiveWriterDescribeFile(
        _ entry: OpaquePointer?, _ pathInArchive: String, size: Int64, mode: Int32, modificationDate: Date
    ) {
        archive_entry_set_pathname(entry, pathInArchive)
        archive_entry_set_filetype(entry, UInt32(0o100000))
        archive_entry_set_perm(entry, mode_t(mode))
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, time_t(modificationDate.timeIntervalSince1970), 0)
    }

    static func archiveWriterMessage(_ archive: OpaquePointer) -> String {
        if let message = archive_error_string(archive) { return String(cString: message) }
        return "libarchive error \(archive_errno(archive))"
    }
}
