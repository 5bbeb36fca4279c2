/// A Connectware backup id: `<version>_<ISO-8601 UTC timestamp with milliseconds>`,
/// for example `1.0.73_2022-02-16T15:37:19.242Z`.
///
/// Operators save backups as `connectware-<id>.tgz` with `:` replaced by `-`, so the
/// time part is also accepted as `15-37-19.242Z`; `description` gives the canonical id.
public struct BackupID: Sendable, Hashable, CustomStringConvertible, Codable {
    public let version: Version
    /// The timestamp in canonical form, `YYYY-MM-DDTHH:MM:SS(.fff)Z`.
    public let timestamp: String

    public init(version: Version, timestamp: String) {
        self.version = version
        self.timestamp = timestamp
    }

    /// Parses a whole string as a backup id; nil when it is not one.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        guard let underscore = text.lastIndex(of: "_") else { return nil }
        guard let version = Version.parse(text[..<underscore]),
            let stamp = Self.canonicalTimestamp(text[text.index(after: underscore)...])
        else { return nil }
        self.init(version: version, timestamp: stamp)
    }

    /// Finds a backup id inside a longer name such as `connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz`.
    ///
    /// The version is looked for among the last `maximumVersionLength` characters before
    /// the `_`, so a long hostile name costs time in proportion to its length.
    public static func find(in name: some StringProtocol) -> BackupID? {
        let chars = Array(name)
        // Try each '_' as the separator; the version ends there and starts after the
        // nearest character that cannot belong to a version.
        for (i, c) in chars.enumerated() where c == "_" {
            var end = i + 1
            while end < chars.count, end - i <= longestTimestamp, Self.isTimestampCharacter(chars[end]) { end += 1 }
            // Neither '_' belongs to a version or a timestamp, so the id is the version
            // before this '_' and the longest timestamp after it.
            guard let stamp = Self.longestTimestamp(chars[(i + 1)..<end]) else { continue }
            var start = i
            while start > 0, i - start < maximumVersionLength, Self.isVersionCharacter(chars[start - 1]) { start -= 1 }
            // Let the version start at the first digit or 'v' so prefixes like "connectware-" fall off.
            for first in start..<i where Self.mayStartVersion(chars, first) {
                if let version = Version.parse(String(chars[first..<i])) {
                    return BackupID(version: version, timestamp: stamp)
                }
            }
        }
        return nil
    }

    /// Longer versions are not Connectware's; the bound keeps `find` linear.
    static let maximumVersionLength = 64
    /// `YYYY-MM-DDTHH:MM:SS.fffffffffZ`
    private static let longestTimestamp = 30

    private static func longestTimestamp(_ chars: ArraySlice<Character>) -> String? {
        var s = Substring(String(chars))
        while s.count >= 20 {
            if let stamp = canonicalTimestamp(s) { return stamp }
            s = s.dropLast()
        }
        return nil
    }

    /// A version starts with a digit, or a `v` before one; anything else cannot parse.
    private static func mayStartVersion(_ chars: [Character], _ index: Int) -> Bool {
        if chars[index].isASCIIDigit { return true }
        return (chars[index] == "v" || chars[index] == "V") && index + 1 < chars.count && chars[index + 1].isASCIIDigit
    }

    public var description: String { "\(version)_\(timestamp)" }

    /// The id with `:` replaced by `-`, as used in file names.
    public var fileSafe: String { description.replacingColons() }

    private static func isVersionCharacter(_ c: Character) -> Bool {
        c.isASCIIDigit || c.isASCIILetter || c == "." || c == "-" || c == "+"
    }

    private static func isTimestampCharacter(_ c: Character) -> Bool {
        c.isASCIIDigit || c == "-" || c == ":" || c == "." || c == "T" || c == "Z"
    }

    /// `2022-02-16T15:37:19.242Z` or `2022-02-16T15-37-19.242Z` (milliseconds optional).
    static func canonicalTimestamp(_ text: Substring) -> String? {
        let c = Array(text)
        guard c.count >= 20, c.last == "Z" else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            let part = c[r]
            guard part.allSatisfy(\.isASCIIDigit) else { return nil }
            return Int(String(part))
        }
        guard let year = digits(0..<4), c[4] == "-", let month = digits(5..<7), c[7] == "-",
            let day = digits(8..<10), c[10] == "T",
            let hour = digits(11..<13), c[13] == ":" || c[13] == "-",
            let minute = digits(14..<16), c[16] == c[13],
            let second = digits(17..<19)
        else { return nil }
        guard (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = ""
        if c[19] == "." {
            let frac = c[20..<(c.count - 1)]
            guard !frac.isEmpty, frac.count <= 9, frac.allSatisfy(\.isASCIIDigit) else { return nil }
            fraction = "." + String(frac)
        } else if c.count != 20 {
            return nil
        }
        let head = String(c[0..<11])
        return head + String(c[11..<13]) + ":" + String(c[14..<16]) + ":" + String(c[17..<19]) + fraction + "Z"
    }
}

extension String {
    package func replacingColons() -> String { String(map { $0 == ":" ? "-" : $0 }) }
}
