import Vocabulary

/// How `inspectBackup` reads an archive.
public struct InspectOptions: Sendable {
    /// Read every byte to the end (catching truncation and corruption) and hash the file.
    public var verify: Bool
    /// The operator's word on the version; it wins over disagreeing or missing evidence.
    public var assumedVersion: Version?
    /// Metadata files larger than this are named in a warning and not read.
    public var metadataSizeLimit: Int

    public init(verify: Bool = false, assumedVersion: Version? = nil, metadataSizeLimit: Int = 1 << 20) {
        self.verify = verify
        self.assumedVersion = assumedVersion
        self.metadataSizeLimit = metadataSizeLimit
    }

    /// With the operator's word as given (`--assume-version`): a text that is no version is
    /// refused, showing it.
    public init(verify: Bool, assumedVersionText text: String?) throws(ArchiveInspectError) {
        self.init(verify: verify)
        guard let text else { return }
        do { assumedVersion = try Version(parsing: text) } catch {
            throw .badAssumedVersion(text, reason: "\(error)")
        }
    }
}

/// One place in or around the archive that names the Connectware version it came from.
public struct VersionEvidence: Sendable, Codable, Equatable {
    /// Where the evidence came from, in order of trust.
    public enum Source: String, Sendable, Codable, Comparable, CaseIterable {
        case metadataFile = "metadata-file"
        case versionFile = "version-file"
        case pathComponent = "path-component"
        case fileName = "file-name"

        public static func < (a: Source, b: Source) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public let source: Source
    /// What was read where, e.g. `backup/metadata.json: version = 1.0.73`.
    public let detail: String
    public let version: Version
    /// The backup id this evidence carried, when it carried one.
    public let backupID: BackupID?

    public init(source: Source, detail: String, version: Version, backupID: BackupID? = nil) {
        self.source = source
        self.detail = detail
        self.version = version
        self.backupID = backupID
    }

    enum CodingKeys: String, CodingKey { case source, detail, version }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(Source.self, forKey: .source)
        detail = try c.decode(String.self, forKey: .detail)
        version = try c.decode(Version.self, forKey: .version)
        backupID = nil
    }
}

/// What inspecting a backup archive found out.
public struct ArchiveFacts: Sendable, Codable, Equatable {
    public var file: String
    public var version: Version
    public var backupID: BackupID?
    public var evidence: [VersionEvidence]
    /// Entries read; partial when `complete` is false.
    public var entries: Int
    /// Sum of the entries' sizes; partial when `complete` is false.
    public var uncompressedBytes: Int64
    /// The compression libarchive detected: gzip, bzip2, xz, zstd, none, ...
    public var compression: String
    /// The tar dialect as libarchive names it, e.g. "POSIX pax interchange format".
    public var format: String
    /// Every byte was read to the end without an error.
    public var verified: Bool
    /// SHA-256 of the archive file; only with verification.
    public var sha256: String?
    public var warnings: [String]
    /// False when inspection stopped at the metadata file without reading the rest.
    public var complete: Bool

    enum CodingKeys: String, CodingKey {
        case file, version, backupID = "backupId", evidence, entries, uncompressedBytes
        case compression, format, verified, sha256, warnings, complete
    }

    // Written by hand so absent values appear as `null`, as the JSON schema promises.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(version, forKey: .version)
        if let backupID { try c.encode(backupID.description, forKey: .backupID) } else { try c.encodeNil(forKey: .backupID) }
        try c.encode(evidence, forKey: .evidence)
        try c.encode(entries, forKey: .entries)
        try c.encode(uncompressedBytes, forKey: .uncompressedBytes)
        try c.encode(compression, forKey: .compression)
        try c.encode(format, forKey: .format)
        try c.encode(verified, forKey: .verified)
        if let sha256 { try c.encode(sha256, forKey: .sha256) } else { try c.encodeNil(forKey: .sha256) }
        try c.encode(warnings, forKey: .warnings)
        try c.encode(complete, forKey: .complete)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decode(String.self, forKey: .file)
        version = try c.decode(Version.self, forKey: .version)
        backupID = try c.decodeIfPresent(String.self, forKey: .backupID).flatMap { BackupID($0) }
        evidence = try c.decode([VersionEvidence].self, forKey: .evidence)
        entries = try c.decode(Int.self, forKey: .entries)
        uncompressedBytes = try c.decode(Int64.self, forKey: .uncompressedBytes)
        compression = try c.decode(String.self, forKey: .compression)
        format = try c.decode(String.self, forKey: .format)
        verified = try c.decode(Bool.self, forKey: .verified)
        sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)
        warnings = try c.decode([String].self, forKey: .warnings)
        complete = try c.decode(Bool.self, forKey: .complete)
    }

    public init(
        file: String, version: Version, backupID: BackupID?, evidence: [VersionEvidence], entries: Int,
        uncompressedBytes: Int64, compression: String, format: String, verified: Bool, sha256: String?,
        warnings: [String], complete: Bool
    ) {
        self.file = file
        self.version = version
        self.backupID = backupID
        self.evidence = evidence
        self.entries = entries
        self.uncompressedBytes = uncompressedBytes
        self.compression = compression
        self.format = format
        self.verified = verified
        self.sha256 = sha256
        self.warnings = warnings
        self.complete = complete
    }
}
