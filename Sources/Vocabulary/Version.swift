/// A Connectware version: `major.minor.patch`, an optional leading `v`, optional
/// pre-release and build parts, ordered by semantic-versioning precedence.
///
/// Equality follows precedence, so build metadata never makes two versions differ
/// (`1.0.73+a == 1.0.73+b`); `description` keeps it for the operator.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int
    /// Dot-separated pre-release identifiers (`rc.1` is `["rc", "1"]`); empty for a release.
    public let preRelease: [String]
    public let build: String?

    public init(major: Int, minor: Int, patch: Int, preRelease: [String] = [], build: String? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.preRelease = preRelease
        self.build = build
    }

    /// Parses a whole string as a version, or says why it is not one.
    public init(parsing text: String) throws(VersionError) {
        var rest = Substring(text)
        if rest.first == "v" || rest.first == "V" { rest = rest.dropFirst() }
        guard !rest.isEmpty else { throw VersionError(text: text, reason: "it is empty") }

        var build: String?
        if let plus = rest.firstIndex(of: "+") {
            let part = rest[rest.index(after: plus)...]
            guard Self.isValidDotted(part, numericLeadingZeroAllowed: true) else {
                throw VersionError(
                    text: text, reason: "the build part '\(part)' is not dot-separated [0-9A-Za-z-] identifiers")
            }
            build = String(part)
            rest = rest[..<plus]
        }
        var preRelease: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            let part = rest[rest.index(after: dash)...]
            guard Self.isValidDotted(part, numericLeadingZeroAllowed: false) else {
                throw VersionError(
                    text: text, reason: "the pre-release part '\(part)' is not dot-separated [0-9A-Za-z-] identifiers")
            }
            preRelease = part.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3 else {
            throw VersionError(text: text, reason: "it needs three numbers, major.minor.patch")
        }
        var numbers: [Int] = []
        for part in core {
            guard !part.isEmpty, part.allSatisfy(\.isASCIIDigit), let n = Int(part), part.count <= 9 else {
                throw VersionError(text: text, reason: "'\(part)' is not a number")
            }
            guard part == "0" || part.first != "0" else {
                throw VersionError(text: text, reason: "'\(part)' has a leading zero")
            }
            numbers.append(n)
        }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2], preRelease: preRelease, build: build)
    }

    /// The version if `text` is one, else nil; for tolerant scanning, not for user input.
    public static func parse(_ text: some StringProtocol) -> Version? {
        try? Version(parsing: String(text))
    }

    public var description: String {
        var s = "\(major).\(minor).\(patch)"
        if !preRelease.isEmpty { s += "-" + preRelease.joined(separator: ".") }
        if let build { s += "+" + build }
        return s
    }

    public var isPreRelease: Bool { !preRelease.isEmpty }

    public static func == (a: Version, b: Version) -> Bool {
        a.major == b.major && a.minor == b.minor && a.patch == b.patch && a.preRelease == b.preRelease
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(preRelease)
    }

    public static func < (a: Version, b: Version) -> Bool {
        if a.major != b.major { return a.major < b.major }
        if a.minor != b.minor { return a.minor < b.minor }
        if a.patch != b.patch { return a.patch < b.patch }
        // A release ranks above every pre-release of the same core version.
        switch (a.preRelease.isEmpty, b.preRelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (x, y) in zip(a.preRelease, b.preRelease) where x != y {
            switch (Int(x), Int(y)) {
            case (let nx?, let ny?): return nx < ny
            case (_?, nil): return true  // numeric identifiers rank below alphanumeric ones
            case (nil, _?): return false
            case (nil, nil): return x < y
            }
        }
        return a.preRelease.count < b.preRelease.count
    }

    private static func isValidDotted(_ part: Substring, numericLeadingZeroAllowed: Bool) -> Bool {
        let ids = part.split(separator: ".", omittingEmptySubsequences: false)
        return ids.allSatisfy { id in
            guard !id.isEmpty, id.allSatisfy({ $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" }) else { return false }
            if !numericLeadingZeroAllowed, id.count > 1, id.first == "0", id.allSatisfy(\.isASCIIDigit) { return false }
            return true
        }
    }
}

/// A string that is not a version, and why.
public struct VersionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String {
        "'\(text)' is not a version (\(reason)); expected major.minor.patch such as 1.0.73"
    }
}

extension Version: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try Version(parsing: text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension Character {
    package var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    package var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
