import Planner
import Testing

// What the data files' scalars mean to their readers, pinned while Yams read them, so the
// YAML reader that replaced it keeps every one: text stays text exactly as written, and
// only the call site decides what a value means.

private let barrierHead =
    "barriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n"

private func barrier(with extra: String) throws -> RestoreBarrier {
    let knowledge = try CompatibilityKnowledge(yaml: barrierHead + extra, source: "c.yml")
    return try #require(knowledge.barriers.first)
}

private func problems(_ text: String) -> [DataFileProblem] {
    do {
        _ = try CompatibilityKnowledge(yaml: text, source: "c.yml")
    } catch {
        if case .invalidDataFile(_, let problems) = error { return problems }
    }
    return []
}

@Suite struct ScalarMeaningTests {
    @Test(arguments: [
        ("1.10", "1.10"), ("yes", "yes"), ("on", "on"), ("~", "~"), ("null", "null"), ("0x1F", "0x1F"), ("012", "012"),
        ("1e3", "1e3"), ("2024-01-01", "2024-01-01"), ("'quoted: yes'", "quoted: yes"), ("\"tab\\there\"", "tab\there"),
        ("!!str 12", "12"), ("\"\"", ""),
    ])
    func aTextFieldKeepsTheScalarAsWritten(written: String, read: String) throws {
        #expect(try barrier(with: "    note: \(written)\n").note == read)
    }

    @Test func aBlockScalarKeepsItsLines() throws {
        #expect(try barrier(with: "    note: |\n      one\n      two\n").note == "one\ntwo\n")
        #expect(try barrier(with: "    note: >\n      one\n      two\n").note == "one two\n")
    }

    @Test(arguments: [
        ("yes", true), ("true", true), ("True", true), ("\"yes\"", true), ("no", false), ("FALSE", false),
    ])
    func aFlagReadsTrueOrFalseWords(written: String, read: Bool) throws {
        #expect(try barrier(with: "    example: \(written)\n").example == read)
    }

    @Test(arguments: ["on", "off", "1", "~", "y"])
    func aFlagRefusesOtherWords(written: String) {
        #expect(
            problems(barrierHead + "    example: \(written)\n").map(\.message) == [
                "example must be true or false, not '\(written)'"
            ])
    }

    @Test func aVersionWrittenAsANumberKeepsItsDigits() throws {
        let knowledge = try CompatibilityKnowledge(yaml: "upgradeStops:\n  - 1.10.0\n  - \"1.20.0\"\n", source: "c.yml")
        #expect(knowledge.upgradeStops.map(\.description) == ["1.10.0", "1.20.0"])
    }

    @Test func anEmptyDocumentIsNoKnowledge() throws {
        #expect(try CompatibilityKnowledge(yaml: "# nothing yet\n", source: "c.yml").barriers.isEmpty)
        #expect(try CompatibilityKnowledge(yaml: "", source: "c.yml").barriers.isEmpty)
        #expect(try CompatibilityKnowledge(yaml: "~\n", source: "c.yml").barriers.isEmpty)
    }

    @Test func aKeyWrittenTwiceIsReportedAtItsFirstLine() {
        let found = problems("schema: 1\nupgradeStops: []\n\"schema\": 1\n")
        #expect(found.map(\.message) == ["duplicate key schema"])
        #expect(found.map(\.line) == [1])
    }

    @Test func everyKeyWrittenTwiceInAMappingIsNamed() {
        let found = problems(barrierHead + "    note: a\n    note: b\n    since: 1.8.0\n")
        #expect(found.map(\.message) == ["duplicate key note, since"])
        #expect(found.map(\.line) == [5])
    }

    @Test func aSecondDocumentIsRefusedWhereItStarts() {
        let found = problems("schema: 1\n---\nschema: 1\n")
        #expect(found.map(\.message) == ["not valid YAML: but found another document"])
        #expect(found.map(\.line) == [2])
    }

    @Test func anAliasToNoAnchorIsRefused() {
        let found = problems("upgradeStops:\n  - *nothing\n")
        #expect(found.map(\.message) == ["not valid YAML: found undefined alias"])
        #expect(found.map(\.line) == [2])
    }

    @Test func anAliasReadsAsItsAnchoredValue() throws {
        let knowledge = try CompatibilityKnowledge(
            yaml: barrierHead + "    note: &n shared words\n    source: *n\n", source: "c.yml")
        #expect(knowledge.barriers.first?.source == "shared words")
    }

    @Test func aMergeKeyIsNotAppliedButReportedAsAKey() {
        let text =
            "barriers:\n  - &b\n    since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n  - <<: *b\n    note: again\n"
        #expect(problems(text).map(\.message).contains { $0.hasPrefix("unknown key '<<' in a barrier") })
    }

    @Test func aTabWhereIndentationIsExpectedIsRefusedWithItsLine() {
        let found = problems("upgradeStops:\n\t- 1.5.0\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 2)
        #expect(found.first?.message.hasPrefix("not valid YAML: ") == true)
    }

    @Test(arguments: [
        ("1.10", "1.10"), ("yes", "yes"), ("~", "~"), ("0x1F", "0x1F"), ("'{{backupFile}}'", "{{backupFile}}"),
    ])
    func aSettingKeepsItsTextExactly(written: String, read: String) throws {
        let text = playbookText().replacingOccurrences(
            of: "  project: connectware\n", with: "  project: connectware\n  site: \(written)\n")
        let playbook = try Playbook(yaml: text, source: "p.yml")
        #expect(playbook.settings["site"] == read)
    }
}
