import Yams

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
    /// The file and line it was read from, for messages; not written back.
    public var origin: String?

    public init(
        since: Version, refusesBackupsBefore: Version, lastRestoringVersion: Version,
        example: Bool = false, note: String? = nil, source: String? = nil, origin: String? = nil
    ) {
        self.since = since
        self.refusesBackupsBefore = refusesBackupsBefore
        self.lastRestoringVersion = lastRestoringVersion
        self.example = example
        self.note = note
        self.source = source
        self.origin = origin
    }

    /// Whether Connectware `target` refuses a backup made by `backup` because of this barrier.
    public func refuses(backup: Version, on target: Version) -> Bool {
        target >= since && backup < refusesBackupsBefore
    }

    /// What a server refusal teaches: `running` refuses backups of `backup`, and the
    /// version the server named restores them. Nil when the refusal named no version.
    public static func learned(from refusal: RestoreRefusal, backup: Version, running: Version) -> RestoreBarrier? {
        guard let last = refusal.lastRestoringVersion, last >= backup, last < running else { return nil }
        // Claim no more than was seen: only the refusing version, only backups up to this one.
        return RestoreBarrier(
            since: running, refusesBackupsBefore: backup.nextRelease, lastRestoringVersion: last,
            note: refusal.statusMessage, source: "restore refused by Connectware \(running)")
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
        case since, refusesBackupsBefore, lastRestoringVersion, example, note, source
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

    public init(barriers: [RestoreBarrier] = [], upgradeStops: [Version] = []) {
        self.barriers = barriers
        self.upgradeStops = Array(Set(upgradeStops)).sorted()
    }

    public static let empty = CompatibilityKnowledge()

    /// Reads compat.yml text; `source` names the file in every problem reported.
    public init(yaml text: String, source: String) throws(PlannerError) {
        var reader = DataFileReader(source: source)
        var barriers: [RestoreBarrier] = []
        var stops: [Version] = []
        if let root = reader.root(of: text), !reader.isNull(root),
            let top = reader.mapping(root, "the compat file", allowed: ["schema", "barriers", "upgradeStops"])
        {
            if let schema = top["schema"], let value = reader.string(schema, "schema"), value != "1" {
                reader.report("schema \(value) is not supported; this cwmigrate reads schema 1", at: schema)
            }
            if let list = top["barriers"], let items = reader.sequence(list, "barriers") {
                for item in items {
                    if let barrier = Self.barrier(item, reader: &reader) { barriers.append(barrier) }
                }
            }
            if let list = top["upgradeStops"], let items = reader.sequence(list, "upgradeStops") {
                stops = items.compactMap { reader.version($0, "an upgrade stop") }
            }
        }
        try reader.finish()
        self.init(barriers: barriers, upgradeStops: stops)
    }

    private static func barrier(_ node: Node, reader: inout DataFileReader) -> RestoreBarrier? {
        let keys = ["since", "refusesBackupsBefore", "lastRestoringVersion"]
        guard let m = reader.mapping(node, "a barrier", allowed: keys + ["example", "note", "source"], required: keys)
        else {
            return nil
        }
        let since = reader.version(m["since"], "since")
        let before = reader.version(m["refusesBackupsBefore"], "refusesBackupsBefore")
        let last = reader.version(m["lastRestoringVersion"], "lastRestoringVersion")
        let example = reader.bool(m["example"], "example") ?? false
        let note = reader.string(m["note"], "note")
        let source = reader.string(m["source"], "source")
        guard let since, let before, let last else { return nil }
        let line = reader.line(of: node)
        let barrier = RestoreBarrier(
            since: since, refusesBackupsBefore: before, lastRestoringVersion: last, example: example,
            note: note, source: source, origin: line.map { "\(reader.source):\($0)" } ?? reader.source)
        let problems = barrier.inconsistencies
        for problem in problems { reader.report("inconsistent barrier: \(problem)", at: node) }
        return problems.isEmpty ? barrier : nil
    }

    /// This knowledge followed by `other`'s; a barrier known twice is kept once.
    public func merging(_ other: CompatibilityKnowledge) -> CompatibilityKnowledge {
        var barriers = self.barriers
        for barrier in other.barriers where !barriers.contains(where: { $0.sameBarrier(as: barrier) }) {
            barriers.append(barrier)
        }
        return CompatibilityKnowledge(barriers: barriers, upgradeStops: upgradeStops + other.upgradeStops)
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
        return out
    }

    func sameBarrier(as other: RestoreBarrier) -> Bool {
        since == other.since && refusesBackupsBefore == other.refusesBackupsBefore
            && lastRestoringVersion == other.lastRestoringVersion
    }
}
