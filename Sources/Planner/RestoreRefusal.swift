/// A restore that Connectware refused, with the whole status message and the last
/// version able to restore the backup when the message names one.
public struct RestoreRefusal: Sendable, Equatable, Codable {
    public let statusMessage: String
    public let lastRestoringVersion: Version?

    public init(statusMessage: String, lastRestoringVersion: Version?) {
        self.statusMessage = statusMessage
        self.lastRestoringVersion = lastRestoringVersion
    }

    /// Finds the last restoring version in a free-text message whose wording is not
    /// public. Versions known to be the backup's or the running Connectware's own rank
    /// below others, since a message may mention them too.
    public init(statusMessage: String, backupVersion: Version? = nil, runningVersion: Version? = nil) {
        self.statusMessage = statusMessage
        let mentions = VersionMention.scan(statusMessage)
        var best: (score: Int, version: Version)?
        for mention in mentions {
            var score = mention.score
            if mention.version == backupVersion { score -= 2 }
            if mention.version == runningVersion { score -= 3 }
            if score > 0, score >= (best?.score ?? Int.min) { best = (score, mention.version) }
        }
        lastRestoringVersion = best?.version
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

    static func scan(_ text: String) -> [VersionMention] {
        let chars = Array(text)
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
            // Shrink from the right so trailing punctuation ("1.0.91." or "1.0.91-") falls off.
            var stop = end
            var version: Version?
            while stop > i, version == nil {
                version = Version.parse(String(chars[i..<stop]))
                if version == nil { stop -= 1 }
            }
            guard let version else {
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
                        before: words(in: chars[..<i]).suffix(6), after: words(in: chars[stop...]).prefix(3),
                        symbolBefore: String(chars[max(0, i - 4)..<i]).contains { $0 == "<" || $0 == "≤" })))
            i = end
        }
        return found
    }

    private static func isPartOfToken(_ c: Character) -> Bool {
        c.isASCIIDigit || c.isASCIILetter || c == "." || c == "-" || c == "+"
    }

    private static func words(in chars: ArraySlice<Character>) -> [String] {
        String(chars).lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }

    private static func score(before: ArraySlice<String>, after: ArraySlice<String>, symbolBefore: Bool) -> Int {
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
