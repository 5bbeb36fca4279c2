import CArchive

/// The libarchive this process runs with and the compressions it handles on this host,
/// found by asking libarchive to enable each one rather than trusting its build flags.
public struct ArchiveLibraryInfo: Sendable, Equatable, Codable {
    /// How libarchive handles one compression.
    public enum Support: String, Sendable, Codable {
        /// Compiled into libarchive.
        case builtIn = "built-in"
        /// Through an external program (e.g. `zstd`) found at run time; slower.
        case externalProgram = "external-program"
        case unsupported
    }

    /// One compression and how it is read and written.
    public struct Compression: Sendable, Equatable, Codable {
        public let name: String
        public let read: Support
        public let write: Support
    }

    /// e.g. "3.6.2".
    public let version: String
    /// The libraries libarchive was built with, e.g. "zlib/1.2.13 liblzma/5.4.1 …".
    public let details: String
    public let compressions: [Compression]

    public static func current() -> ArchiveLibraryInfo {
        if let reason = ArchiveLibrary.unavailable {
            return ArchiveLibraryInfo(version: "not loaded", details: reason, compressions: [])
        }
        let details = String(cString: archive_version_details())
        return ArchiveLibraryInfo(
            version: String(String(cString: archive_version_string()).split(separator: " ").last ?? "unknown"),
            details: details.hasPrefix("libarchive ")
                ? details.split(separator: " ").dropFirst(2).joined(separator: " ") : details,
            compressions: probes.map { probe in
                Compression(name: probe.name, read: readSupport(probe.read), write: writeSupport(probe.write))
            })
    }

    private typealias Enable = @Sendable (OpaquePointer?) -> Int32

    private static let probes: [(name: String, read: Enable, write: Enable)] = [
        ("gzip", archive_read_support_filter_gzip, archive_write_add_filter_gzip),
        ("bzip2", archive_read_support_filter_bzip2, archive_write_add_filter_bzip2),
        ("xz", archive_read_support_filter_xz, archive_write_add_filter_xz),
        ("lzma", archive_read_support_filter_lzma, archive_write_add_filter_lzma),
        ("lzip", archive_read_support_filter_lzip, archive_write_add_filter_lzip),
        ("zstd", archive_read_support_filter_zstd, archive_write_add_filter_zstd),
        ("lz4", archive_read_support_filter_lz4, archive_write_add_filter_lz4),
        ("lzop", archive_read_support_filter_lzop, archive_write_add_filter_lzop),
        ("compress", archive_read_support_filter_compress, archive_write_add_filter_compress),
    ]

    private static func readSupport(_ enable: Enable) -> Support {
        guard let handle = archive_read_new() else { return .unsupported }
        defer { archive_read_free(handle) }
        return support(enable(handle))
    }

    private static func writeSupport(_ enable: Enable) -> Support {
        guard let handle = archive_write_new() else { return .unsupported }
        defer { archive_write_free(handle) }
        return support(enable(handle))
    }

    // ARCHIVE_WARN means libarchive will run an external program for this filter.
    private static func support(_ code: Int32) -> Support {
        switch code {
        case ARCHIVE_OK: .builtIn
        case ARCHIVE_WARN: .externalProgram
        default: .unsupported
        }
    }
}
