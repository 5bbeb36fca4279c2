import Foundation
import TestSupport
import Testing
import YAML

private func root(_ text: String) throws -> YAMLNode {
    try #require(try composeYAML(text))
}

private func failure(_ text: String, nodeLimit: Int = 100_000) -> YAMLError? {
    do {
        _ = try composeYAML(text, nodeLimit: nodeLimit)
        return nil
    } catch {
        return error
    }
}

@Suite struct ComposeTests {
    @Test func scalarsKeepTheirTextAndStyle() throws {
        let text = "a: 1.10\nb: 'yes'\nc: \"x\\ty\"\nd: |\n  one\n  two\ne: >\n  one\n  two\nf: ~\n"
        let pairs = try #require(try root(text).mapping).pairs
        #expect(pairs.map { $0.value.string } == ["1.10", "yes", "x\ty", "one\ntwo\n", "one two\n", "~"])
        #expect(
            pairs.map { $0.value.scalar?.style }
                == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded, .plain])
    }

    @Test func aQuotedScalarKeepsANulCharacter() throws {
        #expect(try root("\"a\\0b\"\n").string == "a\u{0}b")
    }

    @Test func mappingsKeepTheirOrder() throws {
        let mapping = try #require(try root("z: 1\na: 2\nm: 3\n").mapping)
        #expect(mapping.keys.map(\.string) == ["z", "a", "m"])
        #expect(mapping.values.map(\.string) == ["1", "2", "3"])
    }

    @Test func sequencesKeepTheirItemsBlockOrFlow() throws {
        #expect(try root("- a\n- [b, c]\n- {d: e}\n").sequence?.count == 3)
        #expect(try root("[a, 'b', \"c\"]").sequence?.map(\.string) == ["a", "b", "c"])
    }

    @Test func everyNodeHasItsLineAndColumn() throws {
        let top = try root("# comment\nservices:\n  web:\n    depends_on: [db]\n")
        #expect(top.mark == YAMLMark(line: 2, column: 1))
        let web = try #require(top["services"]?["web"])
        #expect(web.mark == YAMLMark(line: 4, column: 5))
        #expect(web["depends_on"]?.sequence?.first?.mark == YAMLMark(line: 4, column: 18))
    }

    @Test func aKeyIsFoundByItsTextQuotedOrNotUnlessTheTextMeansSomethingElse() throws {
        let top = try root("\"name\": a\n'1.10': b\n1.10: c\n")
        #expect(top["name"]?.string == "a")
        // A quoted "1.10" is text; looked up by name, 1.10 is the number.
        #expect(top["1.10"]?.string == "c")
        #expect(top["missing"] == nil)
        #expect(try root("- a\n")["a"] == nil)
    }

    @Test func anEmptyStreamHasNoDocument() throws {
        #expect(try composeYAML("") == nil)
        #expect(try composeYAML("# only a comment\n\n") == nil)
        #expect(try composeYAML("---\n")?.scalar?.string == "")
    }

    @Test func tagsAreKeptAndPlainScalarsResolveAsYAML11Does() throws {
        let top = try root("a: !!str 12\nb: !custom x\nc: !!int \"7\"\nd: ! y\n")
        #expect(top["a"]?.scalar?.tag == YAMLTag.str)
        #expect(top["a"]?.scalar?.resolvedTag == YAMLTag.str)
        #expect(top["b"]?.scalar?.tag == "!custom")
        #expect(top["c"]?.scalar?.resolvedTag == YAMLTag.int)
        #expect(top["d"]?.scalar?.tag == "!")
    }

    @Test(arguments: [
        ("yes", YAMLTag.bool), ("No", YAMLTag.bool), ("ON", YAMLTag.bool), ("off", YAMLTag.bool), ("y", YAMLTag.str),
        ("0", YAMLTag.int), ("-12", YAMLTag.int), ("+1_000", YAMLTag.int), ("0x1F", YAMLTag.int),
        ("0b101", YAMLTag.int),
        ("012", YAMLTag.int), ("0o17", YAMLTag.int), ("190:20:30", YAMLTag.int), ("0x", YAMLTag.str),
        ("1.10", YAMLTag.float), ("1e3", YAMLTag.float), ("1.", YAMLTag.float), (".5", YAMLTag.float),
        ("-.inf", YAMLTag.float), (".NaN", YAMLTag.float), ("-.nan", YAMLTag.str), ("190:20:30.15", YAMLTag.float),
        ("1.8.0", YAMLTag.str), ("09", YAMLTag.float), ("~", YAMLTag.null), ("null", YAMLTag.null),
        ("NULL", YAMLTag.null), ("nULL", YAMLTag.str), ("", YAMLTag.null), ("<<", YAMLTag.merge), ("=", YAMLTag.value),
        ("2024-01-01", YAMLTag.timestamp), ("2001-12-14t21:59:43.10-05:00", YAMLTag.timestamp),
        ("2001-12-14 21:59:43.10 -5", YAMLTag.timestamp), ("2001-12-14 21:59:43.10 Z", YAMLTag.timestamp),
        ("2001-1-4", YAMLTag.str), ("2001-1-4 1:59:43", YAMLTag.timestamp), ("2024-01-01x", YAMLTag.str),
        ("1.8.0_2024-01-01T00-00-00.000Z", YAMLTag.str), ("connectware", YAMLTag.str),
    ])
    func aPlainScalarResolvesToTheCoreSchemasTag(text: String, tag: String) {
        #expect(YAMLTag.resolve(plain: text) == tag)
    }

    @Test func aQuotedOrBlockScalarIsAlwaysText() throws {
        let top = try root("a: 'yes'\nb: \"12\"\nc: |\n  ~\n")
        #expect(top.mapping?.values.map(\.resolvedTag) == [YAMLTag.str, YAMLTag.str, YAMLTag.str])
    }

    @Test func anAliasIsTheNodeItsAnchorNames() throws {
        let top = try root("base: &b {x: 1, y: [2, 3]}\ncopy: *b\nword: &w hello\nagain: *w\n")
        #expect(top["copy"]?["y"]?.sequence?.map(\.string) == ["2", "3"])
        #expect(top["again"]?.string == "hello")
    }

    @Test func aMergeKeyStaysAKeyUntilTheMappingIsMerged() throws {
        let top = try root("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  z: 5\n")
        let c = try #require(top["c"]?.mapping)
        #expect(c.keys.map(\.string) == ["<<", "z"])
        let merged = c.merged()
        // The merged pairs first, the first listed mapping's last, so a loader's later-wins keeps it.
        #expect(merged.pairs.map { "\($0.key.string!)=\($0.value.string!)" } == ["y=3", "z=4", "x=1", "y=2", "z=5"])
    }

    @Test func aKeyWrittenTwiceIsRefusedWithItsFirstPlace() {
        #expect(failure("a: 1\nb: 2\n\"a\": 3\n") == .duplicateKeys(["a"], mark: YAMLMark(line: 1, column: 1)))
        #expect(
            failure("x:\n  b: 1\n  a: 2\n  b: 3\n  a: 4\n")
                == .duplicateKeys(["a", "b"], mark: YAMLMark(line: 3, column: 3)))
        #expect(
            failure("{[1, 2]: a, [1, 2]: b}") == .duplicateKeys(["<not a scalar>"], mark: YAMLMark(line: 1, column: 2)))
    }

    @Test func keysOfTheSameTextButAnotherMeaningAreDifferentKeys() throws {
        #expect(try root("1: a\n\"1\": b\n").mapping?.count == 2)
        #expect(try root("~: a\nnull: b\n").mapping?.count == 2)
    }

    @Test func anAliasToNoAnchorIsRefusedWhereItStands() {
        #expect(
            failure("a: 1\nb: *nowhere\n")
                == .syntax(problem: "found undefined alias", mark: YAMLMark(line: 2, column: 4)))
    }

    @Test func aSecondDocumentIsRefusedWhereItStarts() {
        #expect(
            failure("a: 1\n---\nb: 2\n")
                == .syntax(problem: "but found another document", mark: YAMLMark(line: 2, column: 1)))
    }

    @Test(arguments: [
        ("a: [1, 2\n", 2, "did not find expected ',' or ']'"),
        ("a:\n\t- 1\n", 2, "found character that cannot start any token"),
        ("a: b: c\n", 1, "mapping values are not allowed in this context"),
        ("a: 'open\n", 2, "found unexpected end of stream"),
        ("- a\nb: c\n", 2, "did not find expected '-' indicator"),
        ("a: *\n", 1, "did not find expected alphabetic or numeric character"),
        ("a: !<x\n", 1, "did not find the expected '>'"),
        ("a: 1\n b: 2\n", 2, "mapping values are not allowed in this context"),
    ])
    func malformedTextIsRefusedWithLibyamlsProblemAndLine(text: String, line: Int, problem: String) throws {
        let error = try #require(failure(text))
        guard case .syntax(let found, let mark) = error else {
            Issue.record("not a syntax error: \(error)")
            return
        }
        #expect(found == problem)
        #expect(mark.line == line)
        #expect(error.description.hasPrefix("line \(line), column "))
    }

    @Test func aControlCharacterIsRefusedAtItsLineAndColumn() throws {
        let error = try #require(failure("a: 1\nb: x\u{01}y\n"))
        #expect(error == .syntax(problem: "control characters are not allowed", mark: YAMLMark(line: 2, column: 5)))
    }

    @Test func aBillionLaughsIsRefusedBeforeItExpands() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let started = ContinuousClock.now
        let error = try #require(failure(text))
        #expect(ContinuousClock.now - started < .seconds(2))
        guard case .tooLarge(let limit, let mark) = error else {
            Issue.record("not refused as too large: \(error)")
            return
        }
        #expect(limit == 100_000)
        #expect(mark.line == 5)
        #expect(error.problem == "more than 100000 nodes once its aliases are expanded")
    }

    @Test func aDocumentWithinTheNodeBudgetIsRead() throws {
        // 16 nodes: the mapping, a, its list of 3, b, its list, and each alias at its full size of 4.
        #expect(failure("a: &a [1, 2, 3]\nb: [*a, *a]\n", nodeLimit: 16) == nil)
        #expect(
            failure("a: &a [1, 2, 3]\nb: [*a, *a]\n", nodeLimit: 15)
                == .tooLarge(limit: 15, mark: YAMLMark(line: 2, column: 9)))
    }

    @Test func nestingDeeperThanTheLimitIsRefused() throws {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(failure(deep) == .tooDeep(limit: 256, mark: YAMLMark(line: 1, column: 257)))
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(failure(fine) == nil)
    }

    @Test(arguments: [
        "examples/compat-example.yml", "playbooks/compat.yml", "playbooks/docker-compose.yml",
        "playbooks/kubernetes.yml",
        "playbooks/runbook/steps.yml",
    ])
    func everyShippedYAMLFileIsRead(path: String) throws {
        let text = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent(path), encoding: .utf8)
        let top = try root(text)
        #expect(top.mapping?.isEmpty == false)
    }

    @Test(arguments: [("1.0.91", "1.0"), ("1.6.2", "1.6"), ("1.8.0", "1.8")])
    func theLabsComposeFilesAreRead(version: String, shape: String) throws {
        let script = TestSupport.packageRoot.appendingPathComponent("scripts/lab.d/compose.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c", "source \"$0\" && lab_compose \"$1\" \"$2\" 127.0.0.1:5000 ''", script, version, shape,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let services = try #require(try root(String(decoding: data, as: UTF8.self))["services"]?.mapping)
        #expect(services["postgresql"]?["image"]?.string == "127.0.0.1:5000/cybus/postgresql:\(version)")
        #expect(services["service-manager"]?["depends_on"]?.sequence?.map(\.string) == ["system-control-server"])
    }
}

@Suite struct AliasSharingTests {
    @Test func withoutANodeBudgetABillionLaughsIsReadSharingItsNodes() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        text += "version: 1.0.73\n"
        let top = try #require(try composeYAML(text, nodeLimit: .max))
        #expect(top["version"]?.string == "1.0.73")
    }

    @Test func aCollectionKeyTooLargeToCompareIsRefusedEvenWithoutABudget() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...3 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        text += "? *a3\n: one\n? *a3\n: two\n"
        #expect(throws: YAMLError.tooLarge(limit: 1_000, mark: YAMLMark(line: 4, column: 5))) {
            try composeYAML(text, nodeLimit: .max)
        }
    }
}
