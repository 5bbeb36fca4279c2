import Foundation
import TestSupport
import Testing

@testable import Vocabulary

/// Words a path, a password-free message or a server's text may hold, awkward for a shell.
private let awkwardWords = [
    "", " ", "a b", "it's", "'", "''", "a'b\"c", "$HOME", "${x}", "`id`", "$(id)", "*", "?", "[a]", "~root", "-n",
    "--backup=x", "a;b", "a|b", "a&b", "a>b", "a\\b", "line\nbreak", "tab\there", "Grüße", "名前", "!", "#x", "x#",
    "%20", "=", "\u{7F}", "\u{1B}[31m",
]

@Test func aQuotedWordIsReadBackByTheShellAsItself() throws {
    let line = awkwardWords.map(shellQuoted).joined(separator: " ")
    let result = try TestSupport.shell("printf '%s\\0' " + line)
    let read = result.stdout.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    #expect(read == awkwardWords)
}

@Test func aPlainWordIsLeftUnquotedAndEverythingElseIsSingleQuoted() {
    for plain in ["cwmigrate", "/var/backups/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz", "a.b_c-d:e+f=g@h%i,j"] {
        #expect(shellQuoted(plain) == plain)
    }
    #expect(shellQuoted("") == "''")
    #expect(shellQuoted("a b") == "'a b'")
    #expect(shellQuoted("it's") == "'it'\\''s'")
    #expect(shellQuoted("Grüße") == "'Grüße'")
}

/// Every scalar YAML forbids raw or a reader folds or drops, plus the plain, the quote and the backslash.
private let strictText: String = {
    var scalars: [Unicode.Scalar] = []
    for value in Array(0x00...0x20) + Array(0x7E...0xA0) + [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF] {
        scalars.append(Unicode.Scalar(UInt32(value))!)
    }
    var text = "plain \"quoted\" back\\slash é 名 😀 "
    text.unicodeScalars.append(contentsOf: scalars)
    return text
}()

@Test func aQuotedScalarEscapesEveryControlLineSeparatorAndByteOrderMark() {
    let quoted = yamlQuoted(strictText)
    let raw = quoted.unicodeScalars.filter {
        $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF].contains($0.value)
    }
    #expect(raw.isEmpty)
    #expect(quoted.contains("\\u0085") && quoted.contains("\\u2028") && quoted.contains("\\uFEFF"))
    #expect(quoted.hasPrefix("\"plain \\\"quoted\\\" back\\\\slash é 名 😀 \\u0000"))
    #expect(yamlQuoted("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"")
}

@Test func aQuotedScalarIsReadBackAsItselfByAYAMLAndAJSONReader() throws {
    let directory = try TestSupport.temporaryDirectory("quoting")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("scalar.txt")
    try Data(yamlQuoted(strictText).utf8).write(to: file)
    let result = try TestSupport.shell(
        """
        python3 -c 'import json, sys, yaml
        text = open(sys.argv[1], encoding="utf-8").read()
        print(" ".join(str(ord(c)) for c in json.loads(text)))
        print(" ".join(str(ord(c)) for c in yaml.safe_load("key: " + text)["key"]))' \(file.path)
        """)
    let expected = strictText.unicodeScalars.map { String($0.value) }.joined(separator: " ")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines == [expected, expected])
}

@Test func htmlEscapingLeavesNoMarkupAndReadsBackAsTheText() throws {
    let text = "<a href=\"x\" title='y'>Tom & Jerry</a> 名"
    let escaped = htmlEscaped(text)
    #expect(escaped == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt; 名")
    let result = try TestSupport.shell("python3 -c 'import html, sys; print(html.unescape(sys.argv[1]), end=\"\")' \(shellQuoted(escaped))")
    #expect(result.stdout == text)
}

@Test(arguments: [
    (1_795_733_941.999, "2026-11-26T22:59:01Z", "2026-11-26 22:59 UTC", "20261126T225901Z"),
    (0, "1970-01-01T00:00:00Z", "1970-01-01 00:00 UTC", "19700101T000000Z"),
    (-0.5, "1969-12-31T23:59:59Z", "1969-12-31 23:59 UTC", "19691231T235959Z"),
    (1_709_164_799.9, "2024-02-28T23:59:59Z", "2024-02-28 23:59 UTC", "20240228T235959Z"),
])
func aTimeIsWrittenInUTCToTheSecondTheMinuteAndCompactlyWithTheFractionDropped(
    seconds: Double, whole: String, minute: String, compact: String
) {
    let date = Date(timeIntervalSince1970: seconds)
    #expect(Timestamp.format(date, .seconds) == whole)
    #expect(Timestamp.format(date, .minute) == minute)
    #expect(Timestamp.format(date, .compact) == compact)
    #expect(Timestamp.parse(whole).map { Timestamp.format($0, .seconds) } == whole)
}
