import Foundation
import Testing

@testable import Vocabulary

// The helpers that replaced Foundation-only calls in the libraries, checked against the
// Foundation calls they replaced (the tests may still link Foundation; the libraries do not).

/// Path, last component, path without it: what NSString's helpers give on macOS. (Linux's
/// Foundation crashes on `a/`, a relative path ending in a slash, in both helpers: it is no oracle.)
private let paths: [(String, String, String)] = [
    ("", "", ""), ("/", "/", "/"), ("//", "/", "/"), ("a", "a", ""), ("a/", "a", ""), ("/a", "a", "/"),
    ("/a/", "a", "/"), ("/a/b", "b", "/a"), ("/a/b/", "b", "/a"), ("a/b", "b", "a"), ("a//b", "b", "a"),
    ("/a//b//", "b", "/a"), ("./x", "x", "."), ("../x", "x", ".."), ("/tmp/cwm.tgz", "cwm.tgz", "/tmp"),
    ("dir/sub/file.tar.gz", "file.tar.gz", "dir/sub"), ("Grüße/名前", "名前", "Grüße"),
]

@Test func thePathHelpersSplitAPathAsNSStringDoes() {
    for (path, last, parent) in paths {
        #expect(lastPathComponent(path) == last, "lastPathComponent of '\(path)'")
        #expect(deletingLastPathComponent(path) == parent, "deletingLastPathComponent of '\(path)'")
    }
}

@Test func trimmingRemovesWhatCharacterSetsRemoved() {
    let texts = ["", " ", "\t a b \t", "\n a \n", " \u{A0}x\u{3000} ", "x", "a\r\n", " \r\n ", "Grüße  "]
    for text in texts {
        #expect(text.trimmingBlanks == text.trimmingCharacters(in: .whitespaces), "'\(text)'")
        #expect(text.trimmingWhitespace == text.trimmingCharacters(in: .whitespacesAndNewlines), "'\(text)'")
    }
    #expect("\"'v1.2' \"".trimming { " \"'".contains($0) } == "v1.2")
}

@Test func cFormatPrintsAsStringFormatDid() {
    #expect(cFormat("%.1f s", 2.25) == String(format: "%.1f s", 2.25))
    #expect(cFormat("%.2f", 0.005) == String(format: "%.2f", 0.005))
    #expect(cFormat("%d h %02d min %02d s", 1, 2, 3) == "1 h 02 min 03 s")
    #expect(cFormat("%02d:%02d:%02d", 7, 0, 59) == "07:00:59")
    let long = String(repeating: "x", count: 500)
    #expect(cFormat("\(long)%d", 1) == long + "1")
}

@Test func readFileStopsAtItsLimitAndSaysNilForAMissingFile() throws {
    let path = NSTemporaryDirectory() + "cwmigrate-readfile-\(getpid())"
    defer { unlink(path) }
    try Data((0..<200_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
    #expect(readFile(path, upTo: 10) == Array((0..<10).map { UInt8($0 % 251) }))
    #expect(readFile(path, upTo: 1 << 20)?.count == 200_000)
    #expect(readFile(path + ".missing", upTo: 10) == nil)
}

@Test func readAllGivesTheWholeFileAndNilPastItsLimit() throws {
    let path = NSTemporaryDirectory() + "cwmigrate-readall-\(getpid())"
    defer { unlink(path) }
    let bytes = (0..<200_000).map { UInt8($0 % 251) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let fd = open(path, O_RDONLY)
    #expect(fd >= 0)
    defer { close(fd) }
    #expect(readAll(fd, limit: 200_000) == bytes)
    lseek(fd, 0, SEEK_SET)
    #expect(readAll(fd, limit: 199_999) == nil)
    #expect(readAll(-1, limit: 10) == nil)
}

@Test func jsonValuesReadWhatJSONSerializationRead() throws {
    let text = #"{"a": [1, 2.5, -3, 1e3, true, false, null, "x\/y\u00e9"], "b": {"c": {}}, "d": 12345678901234}"#
    let value = try JSONValue(parsing: Array(text.utf8))
    #expect(value["a"]?.array?.map { $0.numberText ?? $0.string ?? "\($0)" } == [
        "1", "2.5", "-3", "1000", "bool(true)", "bool(false)", "null", "x/yé",
    ])
    #expect(value["b"]?["c"]?.object?.isEmpty == true)
    #expect(value["d"]?.numberText == "12345678901234")
    #expect(value["missing"] == nil)
    #expect(value["a"]?["x"] == nil)
    #expect(try JSONValue(parsing: Array("\"top\"".utf8)).string == "top")
    for bad in ["", "{", "{\"a\":}", "<html>", "{\"a\":1}x", "nul", "[1 2]"] {
        #expect(throws: (any Error).self, "'\(bad)'") { try JSONValue(parsing: Array(bad.utf8)) }
    }
}

@Test func theJSONReaderRefusesWhatRFC8259RefusesAndSaysWhere() {
    let refused: [(text: String, offset: Int)] = [
        ("[1,]", 3), ("{\"a\":1,}", 7), ("[,1]", 1), ("{,}", 1), ("[1,,2]", 3),
        ("01", 1), ("-", 1), ("1.", 2), (".5", 0), ("1e", 2), ("+1", 0), ("0x10", 1), ("1e400", 0),
        ("NaN", 0), ("'a'", 0), ("{a:1}", 1), ("\"tab\there\"", 4), ("\"\\x\"", 2),
        ("\"\\ud800\"", 7), ("\"\\udc00\"", 7), ("\"\\u12\"", 3), ("\"open", 0), ("\u{FEFF}\u{FEFF}1", 3),
        ("[1] [2]", 4), ("truefalse", 4), ("tru", 0),
        (String(repeating: "[", count: 513) + String(repeating: "]", count: 513), 512),
    ]
    for (text, offset) in refused {
        #expect(throws: JSONValue.SyntaxError.self, "'\(text)'") { try JSONValue(parsing: Array(text.utf8)) }
        do {
            _ = try JSONValue(parsing: Array(text.utf8))
        } catch {
            #expect(error.offset == offset, "'\(text)': \(error)")
        }
    }
    // Bytes that are not UTF-8 inside a string.
    #expect(throws: JSONValue.SyntaxError(reason: "a string that is not UTF-8", offset: 0)) {
        try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22])
    }
}

@Test func theJSONReaderTakesEveryFormRFC8259Allows() throws {
    let text = " \t\r\n{\"\": [0, -0, -1.5e-3, 2E+2, 9223372036854775807, -9223372036854775808, 9223372036854775808],"
        + " \"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00 é\", \"dup\": 1, \"dup\": 2} \n"
    let value = try JSONValue(parsing: Array(text.utf8))
    #expect(value[""] == [0, 0, .number(-0.0015), .number(200), .integer(.max), .integer(.min), .number(9223372036854775808)])
    #expect(value["s"]?.string == "\"\\/\u{8}\u{C}\n\r\tAé😀 é")
    #expect(value["dup"] == 2)
    #expect(try JSONValue(parsing: Array("\u{FEFF}{\"version\": \"1.8.0\"}".utf8))["version"] == "1.8.0")
    let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
    #expect(try JSONValue(parsing: Array(deep.utf8)).array?.count == 1)
}

@Test func jsonValuesWriteCompactSortedTextThatJSONSerializationReadsBack() throws {
    let value: JSONValue = [
        "z": "a/b \"q\" \n é", "a": [1, true, .null, .number(2.5)], "m": ["k": "v"],
    ]
    #expect(value.text == #"{"a":[1,true,null,2.5],"m":{"k":"v"},"z":"a/b \"q\" \n é"}"#)
    let back = try JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any]
    #expect(back?["z"] as? String == "a/b \"q\" \n é")
}
