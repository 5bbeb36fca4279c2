import YAML

/// Whose word a piece of compatibility knowledge is; a higher one outranks a lower one
/// when they disagree: what a Connectware server said beats an operator's file, which
/// beats the data shipped with cwmigrate.
public enum KnowledgeAuthority: Int, Sendable, Comparable, Codable, CaseIterable {
    case shipped = 0
    case operatorFile = 1
    case server = 2

    /// The name used in JSON.
    public var name: String {
        switch self {
        case .shipped: "shipped"
        case .operatorFile: "operator"
        case .server: "server"
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self.allCases.first(where: { $0.name == text }) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown authority \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

/// Where one fact of a plan comes from: a file and line, or the Connectware that said it and when.
public struct FactSource: Sendable, Equatable, Codable {
    public var authority: KnowledgeAuthority
    /// The file the fact was read from, when it was read from one.
    public var file: String?
    public var line: Int?
    /// The Connectware version whose restore refusal is the fact.
    public var server: Version?
    /// When that server said it (ISO 8601, UTC), when known.
    public var date: String?

    public init(
        authority: KnowledgeAuthority, file: String? = nil, line: Int? = nil, server: Version? = nil,
        date: String? = nil
    ) {
        self.authority = authority
        self.file = file
        self.line = line
        self.server = server
        self.date = date
    }

    /// The source in words: `compat.yml:24 (shipped)`, `Connectware 1.10.2 on 2026-11-30T06:50:00Z (learned-compat.yml:5)`.
    public var text: String {
        let place = file.map { f in line.map { "\(f):\($0)" } ?? f }
        switch authority {
        case .server:
            var words = "Connectware \(server?.description ?? "(version not recorded)")"
            words += date.map { " on \($0)" } ?? " (date not recorded)"
            if let place { words += " (\(place))" }
            return words
        case .operatorFile: return "\(place ?? "an operator's file") (operator's file)"
        case .shipped: return "\(place ?? "compat.yml") (shipped with cwmigrate)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case authority = "kind"
        case file, line, server, date, text
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        authority = try c.decode(KnowledgeAuthority.self, forKey: .authority)
        file = try c.decodeIfPresent(String.self, forKey: .file)
        line = try c.decodeIfPresent(Int.self, forKey: .line)
        server = try c.decodeIfPresent(Version.self, forKey: .server)
        date = try c.decodeIfPresent(String.self, forKey: .date)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(authority, forKey: .authority)
        try c.encode(file, forKey: .file)
        try c.encode(line, forKey: .line)
        try c.encode(server, forKey: .server)
        try c.encode(date, forKey: .date)
        try c.encode(text, forKey: .text)
    }
}

/// A known restore barrier: from Connectware `since` on, backups older than
/// `refusesBackupsBefore` are refused, and `lastRestoringVersion` still restores them.
public struct RestoreBarrier: Sendable, Equatable, Codable {
    public var since: Version
    public var refusesBackupsBefore: Version
    public var lastRestoringVersion: Version
    /// Illustration data shipped with cwmigrate, not a real barrier.
    public var example: Bool
    public var note: String?
    /// Where the knowledge came from (a release note, a server refusal, a ticket).
    public var source: String?
    /// The Connectware version whose refusal taught this barrier, and when (ISO 8601).
    public var refusedBy: Version?
    public var refusedAt: String?
    /// The file and line it was read from, for messages; not written back.
    public var origin: String?
    /// Whose word it is, as the file it was read from says; not written back.
    public var authority: KnowledgeAuthority

    public init(
        since: Version, refusesBackupsBefore: Version, lastRestoringVersion: Version,
        example: Bool = false, note: String? = nil, source: String? = nil, origin: String? = nil,
        refusedBy: Version? = nil, refusedAt: String? = nil, authority: KnowledgeAuthority = .operatorFile
    ) {
        self.since = since
        self.refusesBackupsBefore = refusesBackupsBefore
        self.lastRestoringVersion = lastRestoringVersion
        self.example = example
        self.note = note
        self.source = source
        self.origin = origin
        self.refusedBy = refusedBy
        self.refusedAt = refusedAt
        self.authority = authority
    }

    /// Where this barrier comes from, for a plan: its file and line, and the server that said it.
    public var factSource: FactSource {
        var file = origin
        var line: Int?
        if let origin, let colon = origin.lastIndex(of: ":"), let number = Int(origin[origin.index(after: colon)...]) {
            file = String(origin[..<colon])
            line = number
        }
        return FactSource(
            authority: authority, file: file, line: line, server: authority == .server ? refusedBy : nil,
            date: authority == .server ? refusedAt : nil)
    }

    /// Whether Connectware `target` refuses a backup made by `backup` because of this barrier.
    public func refuses(backup: Version, on target: Version) -> Bool {
        target >= since && backup < refusesBackupsBefore
    }

    /// What a server refusal teaches: Connectware `running` refused a backup made by `backup`
    /// and named `last` as the last version that restores it, so no version after `last`, up
    /// to `running`, restores that backup. Nil when the refusal named no usable version.
    public static func learned(
        from refusal: RestoreRefusal, backup: Version, running: Version, at date: String? = nil
    ) -> RestoreBarrier? {
        guard let last = refusal.lastRestoringVersion, last >= backup, last < running else { return nil }
        // Claim no more than was seen: only backups up to this one.
        return RestoreBarrier(
            since: last.nextRelease, refusesBackupsBefore: backup.nextRelease, lastRestoringVersion: last,
            note: refusal.statusMessage, source: "restore refused by Connectware \(running)", refusedBy: running,
            refusedAt: date ?? refusal.reportedAt, authority: .server)
    }

    /// Problems with the three versions among themselves, as sentences.
    var inconsistencies: [String] {
        var found: [String] = []
        if lastRestoringVersion >= since {
            found.append(
                "lastRestoringVersion \(lastRestoringVersion) must be older than since \(since), the first version that refuses"
            )
        }
        if refusesBackupsBefore > since {
            found.append(
                "refusesBackupsBefore \(refusesBackupsBefore) must not be newer than since \(since): a version always restores its own backups"
            )
        }
        if lastRestoringVersion.nextRelease < refusesBackupsBefore {
            found.append(
                "lastRestoringVersion \(lastRestoringVersion) is older than refusesBackupsBefore \(refusesBackupsBefore): backups made between them could be restored nowhere"
            )
        }
        return found
    }

    enum CodingKeys: String, CodingKey {
        case since, refusesBackupsBefore, lastRestoringVersion, example, note, source, refusedBy, refusedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            since: try c.decode(Version.self, forKey: .since),
            refusesBackupsBefore: try c.decode(Version.self, forKey: .refusesBackupsBefore),
            lastRestoringVersion: try c.decode(Version.self, forKey: .lastRestoringVersion),
            example: try c.decodeIfPresent(Bool.self, forKey: .example) ?? false,
            note: try c.decodeIfPresent(String.self, forKey: .note),
            source: try c.decodeIfPresent(String.self, forKey: .source),
            refusedBy: try c.decodeIfPresent(Version.self, forKey: .refusedBy),
            refusedAt: try c.decodeIfPresent(String.self, forKey: .refusedAt))
    }

    var summary: String {
        "from \(since) on, backups older than \(refusesBackupsBefore) are refused; \(lastRestoringVersion) is the last version that restores them"
    }
}

extension Version {
    /// The first release after this version's core: 1.0.73 → 1.0.74, 1.8.0-rc.1 → 1.8.0.
    var nextRelease: Version {
        isPreRelease
            ? Version(major: major, minor: minor, patch: patch)
            : Version(major: major, minor: minor, patch: patch + 1)
    }
}

/// Everything cwmigrate knows about restore barriers and required upgrade stops,
/// merged from the bundled compat.yml, the operator's files and what restores taught.
public struct CompatibilityKnowledge: Sendable, Equatable, Codable {
    public var barriers: [RestoreBarrier]
    /// Versions an upgrade must pass through, ascending.
    public var upgradeStops: [Version]
    /// Where each upgrade stop was read, when it was read from a file.
    public var upgradeStopSources: [Version: FactSource] = [:]

    public init(
        barriers: [RestoreBarrier] = [], upgradeStops: [Version] = [], upgradeStopSources: [Version: FactSource] = [:]
    ) {
        self.barriers = barriers
        self.upgradeStops = Array(Set(upgradeStops)).sorted()
        self.upgradeStopSources = upgradeStopSources
    }

    enum CodingKeys: String, CodingKey { case barriers, upgradeStops }

    public static let empty = CompatibilityKnowledge()

    /// Reads compat.yml text; `source` names the file in every problem reported, and
    /// `authority` says whose word the file's barriers are.
    public init(yaml text: String, source: String, authority: KnowledgeAuthority = .operatorFile) throws(PlannerError) {
        var reader = DataFileReader(source: source)
        var barriers: [RestoreBarrier] = []
        var stops: [Version] = []
        var stopSources: [Version: FactSource] = [:]
        if let root = reader.root(of: text), !reader.isNull(root),
            let top = reader.mapping(root, "the compat file", allowed: ["schema", "barriers", "upgradeStops"])
        {
            if let schema = top["schema"], let value = reader.string(schema, "schema"), value != "1" {
                reader.report("schema \(value) is not supported; this cwmigrate reads schema 1", at: schema)
            }
            if let list = top["barriers"], let items = reader.sequence(list, "barriers") {
                for item in items {
                    if let barrier = Self.barrier(item, reader: &reader, authority: authority) {
                        barriers.append(barrier)
                    }
                }
            }
            if let list = top["upgradeStops"], let items = reader.sequence(list, "upgradeStops") {
                for item in items {
                    guard let stop = reader.version(item, "an upgrade stop") else { continue }
                    stops.append(stop)
                    if stopSources[stop] == nil {
                        stopSources[stop] = FactSource(authority: authority, file: source, line: reader.line(of: item))
                    }
                }
            }
        }
        try reader.finish()
        self.init(barriers: barriers, upgradeStops: stops, upgradeStopSources: stopSources)
    }

    private static func barrier(_ node: YAMLNode, reader: inout DataFileReader, authority: KnowledgeAuthority)
        -> RestoreBarrier?
    {
        let keys = ["since", "refusesBackupsBefore", "lastRestoringVersion"]
        let optional = ["example", "note", "source", "refusedBy", "refusedAt"]
        guard let m = reader.mapping(node, "a barrier", allowed: keys + optional, required: keys)
        else {
            return nil
        }
        let since = reader.version(m["since"], "since")
        let before = reader.version(m["refusesBackupsBefore"], "refusesBackupsBefore")
        let last = reader.version(m["lastRestoringVersion"], "lastRestoringVersion")
        let example = reader.bool(m["example"], "example") ?? false
        let note = reader.string(m["note"], "note")
        let source = reader.string(m["source"], "source")
        let refusedBy = reader.version(m["refusedBy"], "refusedBy")
        let refusedAt = reader.string(m["refusedAt"], "refusedAt")
        guard let since, let before, let last else { return nil }
        let line = reader.line(of: node)
        let barrier = RestoreBarrier(
            since: since, refusesBackupsBefore: before, lastRestoringVersion: last, example: example,
            note: note, source: source, origin: line.map { "\(reader.source):\($0)" } ?? reader.source,
            refusedBy: refusedBy, refusedAt: refusedAt, authority: authority)
        let problems = barrier.inconsistencies
        for problem in problems { reader.report("inconsistent barrier: \(problem)", at: node) }
        return problems.isEmpty ? barrier : nil
    }

    /// This knowledge followed by `other`'s; a barrier known twice is kept once.
    public func merging(_ other: CompatibilityKnowledge) -> CompatibilityKnowledge {
        var barriers = self.barriers
        for barrier in other.barriers {
            if let known = barriers.firstIndex(where: { $0.sameBarrier(as: barrier) }) {
                // The same barrier said by a higher authority is kept as that authority's word.
                if barrier.authority > barriers[known].authority { barriers[known] = barrier }
            } else {
                barriers.append(barrier)
            }
        }
        return CompatibilityKnowledge(
            barriers: barriers, upgradeStops: upgradeStops + other.upgradeStops,
            upgradeStopSources: upgradeStopSources.merging(other.upgradeStopSources) { mine, theirs in
                theirs.authority > mine.authority ? theirs : mine
            })
    }

    /// The knowledge as a compat.yml document that `init(yaml:source:)` reads back.
    public func renderYAML(header: String? = nil) -> String {
        var out = ""
        if let header {
            for line in header.split(separator: "\n", omittingEmptySubsequences: false) { out += "# \(line)\n" }
        }
        out += "schema: 1\n"
        if barriers.isEmpty {
            out += "barriers: []\n"
        } else {
            out += "barriers:\n"
            for barrier in barriers { out += barrier.yamlListItem }
        }
        if !upgradeStops.isEmpty {
            out += "upgradeStops:\n"
            for stop in upgradeStops { out += "  - \(stop)\n" }
        }
        return out
    }
}

extension RestoreBarrier {
    /// The barrier as one item of the `barriers:` list, ready to append under it.
    public var yamlListItem: String {
        var out = "  - since: \(since)\n"
        out += "    refusesBackupsBefore: \(refusesBackupsBefore)\n"
        out += "    lastRestoringVersion: \(lastRestoringVersion)\n"
        if example { out += "    example: true\n" }
        if let note { out += "    note: \(yamlQuoted(note))\n" }
        if let source { out += "    source: \(yamlQuoted(source))\n" }
        if let refusedBy { out += "    refusedBy: \(refusedBy)\n" }
        if let refusedAt { out += "    refusedAt: \(yamlQuoted(refusedAt))\n" }
        return out
    }

    func sameBarrier(as other: RestoreBarrier) -> Bool {
        since == other.since && refusesBackupsBefore == other.refusesBackupsBefore
            && lastRestoringVersion == other.lastRestoringVersion
    }
}
