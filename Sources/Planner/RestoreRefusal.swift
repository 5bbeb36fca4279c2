/// A restore that Connectware did not carry out, with the whole status message and the
/// last version able to restore the backup when the message is a refusal naming one.
public struct RestoreRefusal: Sendable, Equatable, Codable {
    public let statusMessage: String
    /// Only ever set for a message that reads as a refusal: a failed restore that merely
    /// mentions a version ("restore failed after upgrade to 1.8.0: disk full") names none.
    public let lastRestoringVersion: Version?
    /// When the server said it (ISO 8601, UTC), when known; set by whoever saw it happen.
    public var reportedAt: String?

    /// What a failed restore's message means.
    public enum Kind: Sendable, Equatable {
        /// A refusal for the backup's version, naming the last version that restores it.
        case versionRefusal(lastRestoring: Version)
        /// It reads as a refusal for the backup's version, but names no version that restores it.
        case refusalWithoutVersion
        /// The restore failed for another reason (disk, dump, network): nothing to learn from it.
        case failure
    }

    public var kind: Kind {
        if let lastRestoringVersion { return .versionRefusal(lastRestoring: lastRestoringVersion) }
        return Self.readsAsRefusal(statusMessage) ? .refusalWithoutVersion : .failure
    }

    public init(statusMessage: String, lastRestoringVersion: Version?, reportedAt: String? = nil) {
        self.statusMessage = statusMessage
        self.lastRestoringVersion = lastRestoringVersion
        self.reportedAt = reportedAt
    }

    /// Whether a message says the backup's version is the problem (incompatible, refused,
    /// too old, a last version that restores it), rather than that the restore broke.
    public static func readsAsRefusal(_ message: String) -> Bool {
        let text = message.lowercased()
        return refusalPhrases.contains { text.contains($0) }
    }

    private static let refusalPhrases = [
        "refus", "incompatib", "not compatible", "compatible version", "compatible until", "last compatible",
        "not supported", "unsupported", "too old", "too new", "newer than", "older than", "cannot restore",
        "can't restore", "can not restore", "cannot be restored", "can only be restored", "not restorable",
        "not possible", "downgrade", "last version", "latest version", "newest version", "highest version",
        "max version", "maximum version", "version able to restore", "requires connectware", "or older", "or lower",
        "or earlier", "<=", "≤",
    ]

    /// Finds the last restoring version in a free-text message whose wording is not
    /// public. Versions known to be the backup's or the running Connectware's own rank
    /// below others, since a message may mention them too. A message that does not read
    /// as a refusal names no last restoring version, whatever versions it mentions.
    ///
    /// The backup's own version is a sound answer too ("The last version that can restore
    /// this backup is 1.0.91" of a 1.0.91 backup: every version restores its own backups),
    /// so its lower rank only breaks ties: when no other version is named in a restoring
    /// sense, a mention of the backup's version in one (not "backup 1.0.91", "created
    /// 1.0.91") is the answer, and the plan restores on the backup's own version and
    /// upgrades from there. The running version is never the answer that way: restoring
    /// there is what was refused.
    public init(statusMessage: String, backupVersion: Version? = nil, runningVersion: Version? = nil) {
        self.statusMessage = statusMessage
        guard Self.readsAsRefusal(statusMessage) else {
            lastRestoringVersion = nil
            return
        }
        let mentions = VersionMention.scan(statusMessage)
        var best: (score: Int, version: Version)?
        var backupNamed = false
        for mention in mentions {
            var score = mention.score
            if mention.version == backupVersion {
                if score > 0, mention.version != runningVersion { backupNamed = true }
                score -= 2
            }
            if mention.version == runningVersion { score -= 3 }
            if score > 0, score >= (best?.score ?? Int.min) { best = (score, mention.version) }
        }
        lastRestoringVersion = best?.version ?? (backupNamed ? backupVersion : nil)
    }
}

/// A version number found in free text and how strongly its neighbouring words say
/// "this is the version that restores it".
struct VersionMention {
    let version: Version
    let score: Int

    private static let strong: Set<String> = [
        "last", "latest", "newest", "highest", "maximum", "max", "until", "downgrade", "use", "install",
    ]
    private static let weak: Set<String> = [
        "version", "versions", "compatible", "compatibility", "restore", "restored", "restoring", "restorable",
        "supported", "support", "supports", "supporting", "able", "can", "to", "with", "on", "using", "requires",
        "required", "connectware",
    ]
    /// Words right before a version that make it the backup's or the server's own.
    private static let ownVersion: Set<String> = [
        "backup", "backups", "created", "made", "from", "taken", "current", "running", "installed", "this",
    ]

    /// Linear in the message's length: each character is looked at a bounded number of
    /// times, so a hostile server's megabyte of text costs milliseconds, not hours.
    static func scan(_ text: String) -> [VersionMention] {
        let chars = Array(text)
        let words = Words(chars)
        var found: [VersionMention] = []
        var i = 0
        while i < chars.count {
            let startsHere =
                chars[i].isASCIIDigit
                && (i == 0 || !isPartOfToken(chars[i - 1]) || chars[i - 1] == "v" || chars[i - 1] == "V")
            guard startsHere else {
                i += 1
                continue
            }
            var end = i
            while end < chars.count, isPartOfToken(chars[end]) { end += 1 }
            // The longest version at the start of the token, so trailing punctuation
            // ("1.0.91." or "1.0.91-") falls off.
            guard let stop = longestVersionPrefix(chars, from: i, to: end),
                let version = Version.parse(String(chars[i..<stop]))
            else {
                i = end
                continue
            }
            // A version glued to an id or a longer number ("1.0.73_2022…", "1.2.3.4") is not a claim.
            let followedBy: Character? = stop < chars.count ? chars[stop] : nil
            if followedBy == "_" || (followedBy == "." && stop + 1 < chars.count && chars[stop + 1].isASCIIDigit) {
                i = end
                continue
            }
            found.append(
                VersionMention(
                    version: version,
                    score: score(
                        before: words.last(6, endingBy: i), after: words.first(3, startingAt: stop),
                        symbolBefore: String(chars[max(0, i - 4)..<i]).contains { $0 == "<" || $0 == "≤" })))
            i = end
        }
        return found
    }

    /// Where the longest prefix of `chars[from..<to]` that `Version.parse` accepts ends, in
    /// one pass; nil when no prefix is a version. `from` is at a digit, so there is no `v`.
    static func longestVersionPrefix(_ chars: [Character], from: Int, to: Int) -> Int? {
        var p = from
        // major and minor: the whole digit run, then a dot.
        for _ in 0..<2 {
            let run = digitRun(chars, p, to)
            guard run >= 1, run <= 9, run == 1 || chars[p] != "0", p + run < to, chars[p + run] == "." else {
                return nil
            }
            p += run + 1
        }
        // patch: a prefix of the run may be the version ("1.0.01" holds "1.0.0").
        let run = digitRun(chars, p, to)
        guard run >= 1 else { return nil }
        if chars[p] == "0" && run > 1 { return p + 1 }
        if run > 9 { return p + 9 }
        p += run
        var longest = p
        guard p < to, chars[p] == "-" || chars[p] == "+" else { return longest }
        // Pre-release (numeric identifiers without leading zeros), then build; each a
        // dot-separated list of non-empty [0-9A-Za-z-] identifiers.
        var inBuild = chars[p] == "+"
        var length = 0
        var allDigits = true
        var leadingZero = false
        func identifierValid() -> Bool {
            length > 0 && (inBuild || !(length > 1 && leadingZero && allDigits))
        }
        p += 1
        while p < to {
            let c = chars[p]
            if c == "." || (c == "+" && !inBuild) {
                guard identifierValid() else { return longest }
                if c == "+" { inBuild = true }
                length = 0
                allDigits = true
                leadingZero = false
            } else if c.isASCIIDigit || c.isASCIILetter || c == "-" {
                if length == 0 { leadingZero = c == "0" }
                if !c.isASCIIDigit { allDigits = false }
                length += 1
                if identifierValid() { longest = p + 1 }
            } else {
                return longest
            }
            p += 1
        }
        return longest
    }

    private static func digitRun(_ chars: [Character], _ from: Int, _ to: Int) -> Int {
        var end = from
        while end < to, chars[end].isASCIIDigit { end += 1 }
        return end - from
    }

    /// The message's words (runs of letters, lowercased), found once, so each mention's
    /// neighbours are looked up rather than cut out of the whole message again.
    struct Words {
        private let chars: [Character]
        private var starts: [Int] = []
        private var ends: [Int] = []
        private var lowered: [String] = []

        init(_ chars: [Character]) {
            self.chars = chars
            var i = 0
            while i < chars.count {
                guard chars[i].isLetter else {
                    i += 1
                    continue
                }
                var end = i
                while end < chars.count, chars[end].isLetter { end += 1 }
                starts.append(i)
                ends.append(end)
                lowered.append(String(chars[i..<end]).lowercased())
                i = end
            }
        }

        /// The last `count` words ending at or before `position`.
        func last(_ count: Int, endingBy position: Int) -> ArraySlice<String> {
            let n = firstIndex { ends[$0] > position }
            return lowered[max(0, n - count)..<n]
        }

        /// The first `count` words from `position` on; a word `position` cuts counts from there.
        func first(_ count: Int, startingAt position: Int) -> ArraySlice<String> {
            let k = firstIndex { ends[$0] > position }
            var result: [String] = []
            var j = k
            while j < starts.count, result.count < count {
                if starts[j] < position {
                    result.append(String(chars[position..<ends[j]]).lowercased())
                } else {
                    result.append(lowered[j])
                }
                j += 1
            }
            return result[...]
        }

        /// The first word index for which `isPast` holds (binary search; `isPast` is monotone).
        private func firstIndex(where isPast: (Int) -> Bool) -> Int {
            var low = 0
            var high = ends.count
            while low < high {
                let mid = (low + high) / 2
                if isPast(mid) { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }

    private static func isPartOfToken(_ c: Character) -> Bool {
        c.isASCIIDigit || c.isASCIILetter || c == "." || c == "-" || c == "+"
    }

    static func score(before: ArraySlice<String>, after: ArraySlice<String>, symbolBefore: Bool) -> Int {
        var score = symbolBefore ? 2 : 0
        for word in before {
            if strong.contains(word) { score += 3 } else if weak.contains(word) { score += 1 }
        }
        let nearest = Array(before.suffix(2))
        if let last = nearest.last {
            if ownVersion.contains(last) { score -= 3 }
            // "backup version 1.0.73", "current version: 1.8.0"
            if ["version", "v"].contains(last), nearest.count == 2, ownVersion.contains(nearest[0]) { score -= 3 }
        }
        let following = Array(after)
        if following.count >= 2, following[0] == "or", ["lower", "older", "earlier", "below", "before"].contains(following[1]) {
            score += 2
        }
        if following.first.map({ ["can", "restores", "supports"].contains($0) }) == true { score += 1 }
        if following.first.map({ ["backup", "backups"].contains($0) }) == true { score -= 1 }
        return score
    }
}
