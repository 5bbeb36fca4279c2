import Foundation

/// A Connectware version as cwsim reads it: dotted numbers with an optional
/// pre-release suffix. Deliberately independent of the Planner's `Version`, so
/// the simulator and the client are two separate readings of the protocol.
struct SimVersion: Comparable, CustomStringConvertible, Sendable {
    let numbers: [Int]
    let preRelease: String?
    let description: String

    init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let core = trimmed.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= 4 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCII), let number = Int(part), number >= 0 else { return nil }
            numbers.append(number)
        }
        self.numbers = numbers
        preRelease = trimmed.contains("-") ? String(trimmed.drop(while: { $0 != "-" }).dropFirst()) : nil
        description = trimmed
    }

    static func == (lhs: SimVersion, rhs: SimVersion) -> Bool {
        !(lhs < rhs) && !(rhs < lhs)
    }

    static func < (lhs: SimVersion, rhs: SimVersion) -> Bool {
        let length = max(lhs.numbers.count, rhs.numbers.count)
        for index in 0..<length {
            let left = index < lhs.numbers.count ? lhs.numbers[index] : 0
            let right = index < rhs.numbers.count ? rhs.numbers[index] : 0
            if left != right { return left < right }
        }
        switch (lhs.preRelease, rhs.preRelease) {
        case (nil, nil), (nil, _?): return false
        case (_?, nil): return true
        case (let left?, let right?): return left < right
        }
    }
}

/// One of the simulated server's restore barriers: backups made by a version older
/// than `before` are refused from `before` on, and `last` is the newest version that
/// still restores them.
struct RestoreBarrier: Sendable, CustomStringConvertible {
    let before: SimVersion
    let last: SimVersion

    var description: String { "before=\(before),last=\(last)" }

    /// Parses `before=1.1.0,last=1.0.91` (keys in any order).
    init(spec: String) throws(SimulatorError) {
        var before: SimVersion?
        var last: SimVersion?
        for field in spec.split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw .badBarrier(spec: spec, reason: "'\(field)' is not key=value") }
            guard let version = SimVersion(pair[1]) else {
                throw .badBarrier(spec: spec, reason: "'\(pair[1])' is not a version")
            }
            switch pair[0] {
            case "before": before = version
            case "last": last = version
            default: throw .badBarrier(spec: spec, reason: "unknown key '\(pair[0])' (use before= and last=)")
            }
        }
        guard let before, let last else {
            throw .badBarrier(spec: spec, reason: "both before= and last= are needed")
        }
        guard last < before else {
            throw .badBarrier(spec: spec, reason: "last=\(last) must be older than before=\(before)")
        }
        self.before = before
        self.last = last
    }

    /// Reads one barrier spec per line; blank lines and `#` comments are ignored.
    static func load(file: URL) throws(SimulatorError) -> [RestoreBarrier] {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw .unreadableFile(path: file.path, reason: "\(error.localizedDescription)")
        }
        var barriers: [RestoreBarrier] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let spec = content.trimmingCharacters(in: .whitespaces)
            if !spec.isEmpty { barriers.append(try RestoreBarrier(spec: spec)) }
        }
        return barriers
    }

    /// Whether a server running `server` refuses a backup made by `backup`.
    func refuses(backup: SimVersion, on server: SimVersion) -> Bool {
        backup < before && server >= before
    }
}
