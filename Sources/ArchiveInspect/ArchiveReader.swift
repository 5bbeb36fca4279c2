import CArchive

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One tar entry's header, as far as inspection cares.
struct EntryHeader {
    enum Kind { case regular, directory, symlink(target: String), hardlink(target: String), other }
    let path: String
    let kind: Kind
    /// Size in bytes, nil when the header does not say.
    let size: Int64?
}

/// What libarchive said when something went wrong.
struct ReadFailure: Error {
    let message: String
    /// libarchive recognised nothing it can read, as opposed to data that broke.
    var unrecognised = false
}

/// Owns every `archive_*` call: a streaming tar reader over a `FileFeed`, in any
/// compression libarchive knows. Nothing is written to disk.
final class ArchiveReader {
    private let archive: OpaquePointer
    private let feed: FileFeed
    private var entry: OpaquePointer?

    init(feed: FileFeed) throws(ReadFailure) {
        guard let archive = archive_read_new() else { throw ReadFailure(message: ArchiveLibrary.creationFailure("a reader")) }
        self.archive = archive
        self.feed = feed
        // A backup is a tar file: other formats (zip, cpio, mtree, ...) are refused, so a
        // text file is never mistaken for an archive.
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        for support in [
            archive_read_support_filter_gzip, archive_read_support_filter_bzip2, archive_read_support_filter_xz,
            archive_read_support_filter_lzma, archive_read_support_filter_zstd, archive_read_support_filter_lz4,
            archive_read_support_filter_compress,
        ] {
            // ARCHIVE_WARN only means an external program would be used; that is acceptable.
            _ = support(archive)
        }
        let context = Unmanaged.passUnretained(feed).toOpaque()
        archive_read_set_callback_data(archive, context)
        archive_read_set_read_callback(archive) { _, context, buffer in
            let feed = Unmanaged<FileFeed>.fromOpaque(context!).takeUnretainedValue()
            guard let block = feed.nextBlock() else {
                buffer?.pointee = nil
                return feed.failure == nil ? 0 : -1
            }
            buffer?.pointee = block.baseAddress
            return block.count
        }
        if feed.canSkip {
            archive_read_set_skip_callback(archive) { _, context, request in
                let feed = Unmanaged<FileFeed>.fromOpaque(context!).takeUnretainedValue()
                return feed.skip(request)
            }
        }
        guard archive_read_open1(archive) == ARCHIVE_OK else {
            // deinit frees the reader.
            throw failure()
        }
    }

    deinit { archive_read_free(archive) }

    enum Next {
        case entry(EntryHeader, warning: String?)
        case end
    }

    func next() throws(ReadFailure) -> Next {
        var e: OpaquePointer?
        let status = archive_read_next_header(archive, &e)
        switch status {
        case ARCHIVE_EOF: return .end
        case ARCHIVE_OK, ARCHIVE_WARN:
            guard let e else { throw ReadFailure(message: "libarchive returned no entry") }
            entry = e
            return .entry(Self.header(e), warning: status == ARCHIVE_WARN ? Self.message(archive) : nil)
        default:
            // Including RETRY, which libarchive's tar reader gives for a header that fails its
            // checksum before skipping ahead to the next valid one: carrying on would drop
            // entries unseen and let --verify call a damaged archive sound.
            throw failure()
        }
    }

    /// Reads past the current entry's data to its end, so damage inside it shows.
    func skipData() throws(ReadFailure) {
        if archive_read_data_skip(archive) < ARCHIVE_WARN { throw failure() }
    }

    /// The current entry's data, or nil when it is longer than `limit` bytes.
    func readData(limit: Int) throws(ReadFailure) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if n == 0 { return bytes }
            if n < 0 {
                if n == ARCHIVE_RETRY || n == ARCHIVE_WARN { continue }
                throw failure()
            }
            if bytes.count + n > limit { return nil }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// "gzip", "bzip2", "xz", "zstd", or "none"; stacked filters outermost first.
    var compression: String {
        if feed.gzip != nil { return "gzip" }
        let names = (0..<archive_filter_count(archive)).reversed().compactMap { index -> String? in
            guard archive_filter_code(archive, index) != ARCHIVE_FILTER_NONE,
                let name = archive_filter_name(archive, index)
            else { return nil }
            return String(cString: name)
        }
        return names.isEmpty ? "none" : names.joined(separator: "+")
    }

    /// Bytes of the archive file libarchive has consumed: where decoding has got to,
    /// which is more precise than what was read ahead.
    var fileBytesConsumed: Int64 { feed.decodedOffset ?? archive_filter_bytes(archive, -1) }

    var formatCode: Int32 { archive_format(archive) }

    var formatName: String {
        archive_format_name(archive).map { String(cString: $0) } ?? "unknown"
    }

    /// Whether libarchive recognised a tar archive at all (it may still break later).
    var recognisedTar: Bool { formatCode & ARCHIVE_FORMAT_BASE_MASK == ARCHIVE_FORMAT_TAR }

    private func failure() -> ReadFailure {
        if let failure = feed.failure { return ReadFailure(message: failure) }
        // libarchive sets ARCHIVE_ERRNO_FILE_FORMAT (EILSEQ on Linux) when no format matched.
        return ReadFailure(message: Self.message(archive), unrecognised: archive_errno(archive) == EILSEQ)
    }

    private static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "libarchive gave no reason"
    }

    private static func header(_ e: OpaquePointer) -> EntryHeader {
        let path = text(archive_entry_pathname_utf8(e)) ?? text(archive_entry_pathname(e)) ?? "<unnamed>"
        let size: Int64? = archive_entry_size_is_set(e) != 0 ? archive_entry_size(e) : nil
        if let target = text(archive_entry_hardlink_utf8(e)) ?? text(archive_entry_hardlink(e)) {
            return EntryHeader(path: path, kind: .hardlink(target: target), size: size)
        }
        let kind: EntryHeader.Kind
        // AE_IFREG, AE_IFDIR, AE_IFLNK: the header's cast macros do not import into Swift.
        switch archive_entry_filetype(e) {
        case 0o100000: kind = .regular
        case 0o040000: kind = .directory
        case 0o120000:
            kind = .symlink(target: text(archive_entry_symlink_utf8(e)) ?? text(archive_entry_symlink(e)) ?? "")
        default: kind = .other
        }
        return EntryHeader(path: path, kind: kind, size: size)
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
