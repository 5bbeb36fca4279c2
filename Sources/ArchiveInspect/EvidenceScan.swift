#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Vocabulary
import YAML

/// Collects version evidence from entry names, metadata files, VERSION files and the
/// archive's own file name; pure, so every rule is testable without an archive.
struct EvidenceScan {
    enum Candidate: Equatable { case metadataJSON, metadataYAML, versionFile }

    static let metadataStems: Set<String> = [
        "metadata", "manifest", "backup", "meta", "version", "info", "backup-info", "backup_info",
    ]
    static let versionKeys = ["version", "connectwareVersion", "connectware_version"]
    static let idKeys = ["backupId", "backup_id", "id"]
    /// Sub-objects that may carry the keys; others (e.g. `postgres: {version: ...}`) describe
    /// something else and would only produce false conflicts.
    static let nestedObjects = ["connectware", "backup"]

    static let lookedFor = [
        "a metadata file (\(metadataStems.sorted().map { "\($0).json" }.joined(separator: ", ")) or .yaml/.yml) "
            + "with a key \((versionKeys + idKeys).joined(separator: ", "))",
        "a regular file named VERSION or version holding a version",
        "a directory named like a backup id, <version>_<timestamp>",
        "a backup id or connectware-<version> in the archive's file name",
    ]

    /// How deep in a path a directory named like a backup id still counts as evidence.
    static let pathLevelsScanned = 8

    private(set) var evidence: [VersionEvidence] = []
    private(set) var warnings: [String] = []
    private var seenPrefixes: Set<String> = []

    /// Whether an entry's name makes it a candidate for evidence (before its type is checked).
    static func candidate(forEntry path: String) -> Candidate? {
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        if name == "VERSION" || name == "version" { return .versionFile }
        let lower = name.lowercased()
        guard let dot = lower.lastIndex(of: ".") else { return nil }
        let stem = String(lower[..<dot])
        guard metadataStems.contains(stem) else { return nil }
        switch lower[lower.index(after: dot)...] {
        case "json": return .metadataJSON
        case "yaml", "yml": return .metadataYAML
        default: return nil
        }
    }

    /// Unsafe names are reported, never acted upon (nothing is extracted anyway).
    static func unsafeReason(forEntry path: String) -> String? {
        if path.hasPrefix("/") { return "is an absolute path" }
        if path.split(separator: "/").contains("..") { return "has a '..' component" }
        return nil
    }

    mutating func warn(_ text: String) { warnings.append(text) }

    /// A directory (or file) named like a backup id; each distinct one counts once.
    mutating func notePath(_ path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        // Only the first levels: each level's prefix is kept, so a path nesting thousands of
        // id-named directories would otherwise cost time and memory quadratic in its length.
        for (index, part) in parts.prefix(Self.pathLevelsScanned).enumerated() {
            guard let id = BackupID(part) else { continue }
            let prefix = parts[...index].joined(separator: "/")
            guard seenPrefixes.insert(prefix).inserted else { continue }
            evidence.append(VersionEvidence(source: .pathComponent, detail: prefix, version: id.version, backupID: id))
        }
    }

    mutating func readMetadata(_ bytes: [UInt8], entry path: String, as candidate: Candidate) {
        let fields: [(key: String, value: String)]
        switch candidate {
        case .metadataJSON:
            guard let object = (try? JSONValue(parsing: bytes))?.object else {
                warn("'\(path)' is not a JSON object; it was not used as evidence")
                return
            }
            fields = Self.fields(in: object)
        case .metadataYAML:
            // Only a few top-level scalars are read and nothing walks the tree, so aliases, which
            // share their anchor's node, cost nothing however far they would expand: no node budget.
            guard let node = try? composeYAML(String(decoding: bytes, as: UTF8.self), nodeLimit: .max),
                let mapping = node.mapping
            else {
                warn("'\(path)' is not a YAML mapping; it was not used as evidence")
                return
            }
            fields = Self.fields(in: mapping)
        case .versionFile:
            return readVersionFile(bytes, entry: path)
        }
        if fields.isEmpty {
            let keys = (Self.versionKeys + Self.idKeys).joined(separator: ", ")
            warn("'\(path)' has none of the keys \(keys); it was not used as evidence")
        }
        for (key, value) in fields {
            let detail = "\(path): \(key) = \(value)"
            let leaf = key.split(separator: ".").last.map(String.init) ?? key
            if Self.versionKeys.contains(leaf) {
                if record(.metadataFile, detail: detail, text: value) { continue }
                warn("'\(path)': \(key) = '\(Self.shown(value))' is not a Connectware version; not used as evidence")
            } else if let id = BackupID(value) {
                evidence.append(VersionEvidence(source: .metadataFile, detail: detail, version: id.version, backupID: id))
            } else if leaf != "id" {
                // A plain `id` may well be something else; a `backupId` that is not one is worth a word.
                warn("'\(path)': \(key) = '\(Self.shown(value))' is not a backup id (<version>_<timestamp>); not used as evidence")
            }
        }
    }

    mutating func readVersionFile(_ bytes: [UInt8], entry path: String) {
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        if !record(.versionFile, detail: "\(path): \(text)", text: text) {
            warn("'\(path)' holds '\(Self.shown(text))', which is not a version (\(Self.reason(text))); not used as evidence")
        }
    }

    /// Records `text` as evidence when it is a version or a backup id; false when it is neither.
    private mutating func record(_ source: VersionEvidence.Source, detail: String, text: String) -> Bool {
        if let version = Version.parse(text) {
            evidence.append(VersionEvidence(source: source, detail: detail, version: version))
        } else if let id = BackupID(text) {
            evidence.append(VersionEvidence(source: source, detail: detail, version: id.version, backupID: id))
        } else {
            return false
        }
        return true
    }

    /// The archive's own name: a backup id, else `connectware-<version>.<ext>`.
    mutating func noteFileName(_ archivePath: String) {
        let name = lastPathComponent(archivePath)
        if let id = BackupID.find(in: name) {
            evidence.append(VersionEvidence(source: .fileName, detail: name, version: id.version, backupID: id))
            return
        }
        // A bare version is trusted only in the shape operators and the vendor use, so
        // names like "backup-2.tgz" or "pg-15.2.0.tgz" are never read as versions.
        var stem = Substring(name)
        for ext in [".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz2", ".txz", ".tzst", ".tar"]
        where stem.lowercased().hasSuffix(ext) {
            stem = stem.dropLast(ext.count)
            break
        }
        for prefix in ["connectware-backup-", "connectware_backup_", "connectware-", "connectware_"]
        where stem.lowercased().hasPrefix(prefix) {
            if let version = Self.fileNameVersion(stem.dropFirst(prefix.count)) {
                evidence.append(VersionEvidence(source: .fileName, detail: name, version: version))
            }
            return
        }
    }

    /// `1.8.0`, `1.8.0-rc.1`; in `1.8.0-before-migration` or `1.8.0-start` what follows the
    /// version is the operator's label, not a pre-release, so only `1.8.0` counts.
    static func fileNameVersion(_ text: Substring) -> Version? {
        let core = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard let plain = Version.parse(core) else { return nil }
        let rest = text.dropFirst(core.count)
        guard rest.hasPrefix("-") else { return rest.isEmpty || rest.hasPrefix("_") ? plain : nil }
        let tag = rest.dropFirst()
        let word = tag.prefix { $0.isLetter }.lowercased()
        guard ["alpha", "beta", "rc", "pre", "dev", "snapshot"].contains(word) else { return plain }
        return Version.parse(core + rest) ?? plain
    }

    private static func fields(in object: [String: JSONValue]) -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        for key in versionKeys + idKeys {
            if let value = object[key].flatMap(scalarText) { result.append((key, value)) }
        }
        for outer in nestedObjects {
            guard let inner = object[outer]?.object else { continue }
            for key in versionKeys + idKeys {
                if let value = inner[key].flatMap(scalarText) { result.append(("\(outer).\(key)", value)) }
            }
        }
        return result
    }

    private static func fields(in mapping: YAMLNode.Mapping) -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        for key in versionKeys + idKeys {
            if let value = mapping[key]?.scalar?.string { result.append((key, value)) }
        }
        for outer in nestedObjects {
            guard let inner = mapping[outer]?.mapping else { continue }
            for key in versionKeys + idKeys {
                if let value = inner[key]?.scalar?.string { result.append(("\(outer).\(key)", value)) }
            }
        }
        return result
    }

    private static func scalarText(_ value: JSONValue) -> String? { value.string ?? value.numberText }

    private static func reason(_ text: String) -> String {
        do {
            _ = try Version(parsing: text)
            return "unreadable"
        } catch {
            return error.reason
        }
    }

    static func shown(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let clipped = line.count > 80 ? line.prefix(80) + "…" : Substring(line)
        return clipped + (line == text ? "" : " …")
    }
}
