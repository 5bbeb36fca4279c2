import CArchive

/// libarchive is opened on first use, not at start-up (CArchive's loader.c): a command that
/// reads or writes no archive does not load it, nor the libxml2, ICU and libstdc++ it brings.
/// So a host without it fails at the first archive, and this says why.
enum ArchiveLibrary {
    /// Why a libarchive call that creates `what` (a reader, a writer) returned nothing.
    static func creationFailure(_ what: String) -> String {
        guard let reason = cwm_archive_load() else { return "libarchive could not allocate \(what) (out of memory)" }
        return "libarchive cannot be loaded: \(String(cString: reason))"
            + " (install libarchive13 on Debian/Ubuntu, libarchive on RHEL)"
    }

    /// Why libarchive cannot be loaded, or nil when it is.
    static var unavailable: String? { cwm_archive_load().map { String(cString: $0) } }
}
