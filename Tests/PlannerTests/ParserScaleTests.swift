import Testing

@testable import Planner

// The fuzzing found two parsers whose time grew with the square of their input (or
// worse): the refusal-message scan and the backup id search in names. A hostile server
// controls the first, a hostile archive's entry names the second. These tests give each
// a megabyte and check the answer; the old versions took hours on such input.

@Test func aMegabyteRefusalMessageStillNamesTheLastRestoringVersion() {
    let noise = String(
        repeating: "backup version 1.0.73 was not restored because the database schema did not match; ", count: 12_500)
    let message = "Restore failed. " + noise + "The last version that can restore it is 1.7.3."
    #expect(message.utf8.count > 1_000_000)
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == v("1.7.3"))
}

@Test func aMegabyteTokenInARefusalMessageIsNotAVersion() {
    let message = "use 1" + String(repeating: "a", count: 1_000_000) + " or the latest version 1.7.2"
    #expect(RestoreRefusal(statusMessage: message).lastRestoringVersion == v("1.7.2"))
}

@Test func aBackupIDIsFoundAtTheEndOfAMegabyteName() {
    let name = String(repeating: "a-", count: 500_000) + "connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz"
    #expect(BackupID.find(in: name)?.description == "1.0.73_2022-02-16T15:37:19.242Z")
    let digits = String(repeating: "1", count: 300_000) + "_2022-02-16T15-37-19.242Z"
    #expect(BackupID.find(in: digits) == nil)
    let underscores = String(repeating: "1.0.0_", count: 50_000) + "1.0.73_2022-02-16T15-37-19Z"
    #expect(BackupID.find(in: underscores)?.description == "1.0.73_2022-02-16T15:37:19Z")
}

/// The one-pass scan gives exactly the mentions the old cut-and-retry scan gave, on
/// many short messages made of the pieces that matter (digits, dots, dashes, words).
@Test func theLinearScanAgreesWithTheOldOneOnManyShortMessages() {
    var random = SplitMix(seed: 7)
    let pieces = [
        "1", "0", "01", "7", "12", ".", ".", "-", "+", "_", " ", " ", "v", "V", "rc", "a", "Z", "é", "<", "last",
        "version", "backup", "or", "older", "can", "use", "1.0.73", "1.7.3", "1.7.3-rc.1", ",", "x0",
    ]
    for _ in 0..<4_000 {
        let count = Int(random.next() % 12) + 1
        let message = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
        let new = VersionMention.scan(message).map { "\($0.version.description)@\($0.score)" }
        let old = OldScan.scan(message)
        #expect(new == old, "message: \(message)")
        if new != old { return }
    }
}

/// `find` gives what the old search gave, on many short names.
@Test func theBoundedBackupIDSearchAgreesWithTheOldOneOnManyShortNames() {
    var random = SplitMix(seed: 11)
    let pieces = [
        "1", "0", "01", "7", "73", ".", "-", "+", "_", "v", "connectware", "rc", "Z", "T", ":", "2022-02-16",
        "T15:37:19", "T15-37-19", ".242", ".1234567890", "Z.tgz", "1.0.73", "_2022-02-16T15:37:19.242Z",
    ]
    for _ in 0..<1_000 {
        let count = Int(random.next() % 8) + 1
        let name = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
        let new = BackupID.find(in: name)?.description
        let old = OldScan.findBackupID(in: name)?.description
        #expect(new == old, "name: \(name)")
        if new != old { return }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The parsers as they were before they were made linear, kept as the reference.
enum OldScan {
    static func scan(_ text: String) -> [String] {
        let chars = Array(text)
        var found: [String] = []
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
            let followedBy: Character? = stop < chars.count ? chars[stop] : nil
            if followedBy == "_" || (followedBy == "." && stop + 1 < chars.count && chars[stop + 1].isASCIIDigit) {
                i = end
                continue
            }
            let score = VersionMention.score(
                before: words(in: chars[..<i]).suffix(6), after: words(in: chars[stop...]).prefix(3),
                symbolBefore: String(chars[max(0, i - 4)..<i]).contains { $0 == "<" || $0 == "≤" })
            found.append("\(version.description)@\(score)")
            i = end
        }
        return found
    }

    static func findBackupID(in name: String) -> BackupID? {
        let chars = Array(name)
        for (i, c) in chars.enumerated() where c == "_" {
            var start = i
            while start > 0, isPartOfToken(chars[start - 1]) { start -= 1 }
            var end = i + 1
            while end < chars.count, isTimestampCharacter(chars[end]) { end += 1 }
            while start < i {
                var s = Substring(String(chars[start..<end]))
                while !s.isEmpty {
                    if let id = BackupID(s) { return id }
                    s = s.dropLast()
                }
                start += 1
            }
        }
        return nil
    }

    private static func isPartOfToken(_ c: Character) -> Bool {
        c.isASCIIDigit || c.isASCIILetter || c == "." || c == "-" || c == "+"
    }

    private static func isTimestampCharacter(_ c: Character) -> Bool {
        c.isASCIIDigit || c == "-" || c == ":" || c == "." || c == "T" || c == "Z"
    }

    private static func words(in chars: ArraySlice<Character>) -> [String] {
        String(chars).lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }
}
