import CArchive
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
import Vocabulary

/// Reads a backup archive with libarchive, streaming and in constant memory, and finds
/// out which Connectware version it came from.
///
/// Without `verify` the scan stops after the entry whose metadata file gave a version,
/// so a multi-GB backup with its metadata first is inspected in milliseconds; the facts
/// then say `complete: false` and count only the entries read, and evidence further on
/// (a disagreeing VERSION file, an unsafe name) goes unseen. With `verify` every byte is
/// read (damage is reported with the entry and offset), gzip CRCs are checked, and the
/// file is hashed as it is read. `progress` hears how far the read is (bytes of the file); a
/// quick look that ends before its first report says nothing.
public func inspectBackup(
    at path: String, options: InspectOptions = InspectOptions(), progress: (any TransferProgressReporter)? = nil
) throws(ArchiveInspectError) -> ArchiveFacts {
    var info = stat()
    guard stat(path, &info) == 0 else { throw ArchiveInspectError.opening(path, errno: errno) }
    guard info.st_mode & S_IFMT != S_IFDIR else { throw ArchiveInspectError.unreadable(path, reason: "it is a directory") }
    guard info.st_size > 0 || info.st_mode & S_IFMT != S_IFREG else {
        throw ArchiveInspectError.notAnArchive(path, libarchiveMessage: "the file is empty")
    }

    let feed = try FileFeed(path: path, hashing: options.verify)
    if let progress {
        let size = info.st_mode & S_IFMT == S_IFREG ? Int64(info.st_size) : nil
        feed.meter = ProgressMeter(
            direction: options.verify ? .verify : .read, total: size, reporter: progress,
            silentWhenQuick: !options.verify)
    }
    if let reason = ArchiveLibrary.unavailable { throw ArchiveInspectError.libraryUnavailable(reason: reason) }
    let reader: ArchiveReader
    do {
        reader = try ArchiveReader(feed: feed)
    } catch where feed.readFailure != nil {
        throw ArchiveInspectError.unreadable(path, reason: error.message)
    } catch where !error.unrecognised {
        // Data that libarchive recognised (e.g. gzip) but that broke before the first tar
        // header is a damaged archive: the operator should fetch it again.
        throw ArchiveInspectError.damaged(path, entry: nil, offset: feed.consumed, message: error.message)
    } catch {
        throw ArchiveInspectError.notAnArchive(path, libarchiveMessage: error.message)
    }

    var pass = EntryPass(path: path, options: options, feed: feed, reader: reader)
    try pass.run()

    if let failure = feed.finishDecoding() {
        throw ArchiveInspectError.damaged(path, entry: pass.current, offset: reader.fileBytesConsumed, message: failure)
    }
    if feed.gzip?.trailingData == true {
        pass.scan.warn("the file has data after the end of the gzip stream; it was ignored, as gzip does")
    }
    let digest = try feed.finishHashing()
    // Only a read that found no damage ends with `done`; a damaged one ends in its error.
    feed.meter?.finish(bytes: feed.consumed)
    pass.scan.noteFileName(path)

    let evidence = pass.scan.evidence.enumerated()
        .sorted { ($0.element.source, $0.offset) < ($1.element.source, $1.offset) }
        .map(\.element)
    let (version, resolution) = try resolveVersion(path: path, evidence: evidence, assumed: options.assumedVersion)

    return ArchiveFacts(
        file: path, version: version,
        backupID: evidence.lazy.compactMap(\.backupID).first { $0.version == version },
        evidence: evidence, entries: pass.entries, uncompressedBytes: pass.bytes, compression: reader.compression,
        format: pass.format.isEmpty ? reader.formatName : pass.format, verified: options.verify, sha256: digest,
        warnings: pass.scan.warnings + pass.unsafeNameWarnings + resolution, complete: pass.complete)
}

/// One walk over the archive's entries, collecting evidence, counts and warnings.
private struct EntryPass {
    let path: String
    let options: InspectOptions
    let feed: FileFeed
    let reader: ArchiveReader

    var scan = EvidenceScan()
    var entries = 0
    var bytes: Int64 = 0
    var format = ""
    var unsafeNames: [String] = []
    /// The entry being read, for damage reports.
    var current: String?
    var complete = true

    init(path: String, options: InspectOptions, feed: FileFeed, reader: ArchiveReader) {
        self.path = path
        self.options = options
        self.feed = feed
        self.reader = reader
    }

    mutating func run() throws(ArchiveInspectError) {
        while true {
            let next: ArchiveReader.Next
            do { next = try reader.next() } catch {
                throw damaged(error, while: current == nil ? "reading the first header" : "reading the next header")
            }
            guard case .entry(let header, let warning) = next else { break }
            entries += 1
            current = header.path
            bytes += header.size ?? 0
            // Python's tarfile writes plain ustar headers in a pax archive until one needs
            // more, so the archive's dialect is the richest one any header showed.
            if format.isEmpty || reader.formatCode == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE {
                format = reader.formatName
            }
            if let warning { scan.warn("'\(header.path)': \(warning)") }
            if let reason = EvidenceScan.unsafeReason(forEntry: header.path) {
                unsafeNames.append("entry '\(header.path)' \(reason); it was not acted upon")
            }
            scan.notePath(header.path)

            let before = scan.evidence.count
            if let candidate = EvidenceScan.candidate(forEntry: header.path) {
                try read(candidate, header: header)
            } else if options.verify {
                try skipData()
            }
            if !options.verify && scan.evidence[before...].contains(where: { $0.source == .metadataFile }) {
                complete = false
                return
            }
        }
        if entries == 0 && !reader.recognisedTar {
            throw ArchiveInspectError.notAnArchive(path, libarchiveMessage: "no tar entries were found")
        }
    }

    /// A file named like evidence: read it only when it is a regular file of modest size.
    private mutating func read(_ candidate: EvidenceScan.Candidate, header: EntryHeader) throws(ArchiveInspectError) {
        let what = candidate == .versionFile ? "a version file" : "a metadata file"
        switch header.kind {
        case .regular:
            break
        case .symlink(let target):
            scan.warn("'\(header.path)' is named like \(what) but is a symbolic link to '\(target)'; \(Self.notFollowed)")
            return
        case .hardlink(let target):
            scan.warn("'\(header.path)' is named like \(what) but is a hard link to '\(target)'; \(Self.notFollowed)")
            return
        case .directory, .other:
            return
        }
        let limit = options.metadataSizeLimit
        if let size = header.size, size > Int64(limit) {
            scan.warn("'\(header.path)' is \(size) bytes, over the \(limit)-byte limit for \(what); it was not read")
            if options.verify { try skipData() }
            return
        }
        let data: [UInt8]?
        do { data = try reader.readData(limit: limit) } catch { throw damaged(error, while: "reading its data") }
        guard let data else {
            scan.warn("'\(header.path)' is over the \(limit)-byte limit for \(what); it was not read")
            if options.verify { try skipData() }
            return
        }
        scan.readMetadata(data, entry: header.path, as: candidate)
    }

    private static let notFollowed = "links are never followed, so it is not evidence"

    private func skipData() throws(ArchiveInspectError) {
        do { try reader.skipData() } catch { throw damaged(error, while: "reading its data") }
    }

    private func damaged(_ failure: ReadFailure, while doing: String) -> ArchiveInspectError {
        if entries == 0 && !reader.recognisedTar && (failure.unrecognised || reader.compression == "none") {
            return .notAnArchive(path, libarchiveMessage: failure.message)
        }
        return .damaged(path, entry: current, offset: reader.fileBytesConsumed, message: "\(doing): \(failure.message)")
    }

    /// Many unsafe names make one summary line, not hundreds.
    var unsafeNameWarnings: [String] {
        let shown = 10
        var lines = Array(unsafeNames.prefix(shown))
        if unsafeNames.count > shown {
            lines.append("\(unsafeNames.count - shown) more entries have unsafe names; none was acted upon")
        }
        return lines
    }
}

/// The one version the evidence agrees on, or the operator's assumed version (with
/// warnings saying what it overruled).
private func resolveVersion(path: String, evidence: [VersionEvidence], assumed: Version?)
    throws(ArchiveInspectError) -> (Version, warnings: [String])
{
    var versions: [Version] = []
    for item in evidence where !versions.contains(item.version) { versions.append(item.version) }
    if let assumed {
        if versions.isEmpty {
            return (assumed, ["no evidence of the version was found; going by --assume-version \(assumed)"])
        }
        if versions != [assumed] {
            let said = evidence.map { "\($0.source.rawValue) said \($0.version)" }.joined(separator: ", ")
            return (assumed, ["the evidence (\(said)) is overruled by --assume-version \(assumed)"])
        }
        return (assumed, [])
    }
    guard versions.count <= 1 else { throw ArchiveInspectError.conflictingEvidence(path, evidence) }
    guard let only = versions.first else { throw ArchiveInspectError.noEvidence(path, lookedFor: EvidenceScan.lookedFor) }
    return (only, [])
}
