import Testing
import TestSupport

@testable import Planner

@Test func readsBarriersAndUpgradeStopsWithTheirOrigin() throws {
    let text = """
        schema: 1
        barriers:
          - since: 1.8.0
            refusesBackupsBefore: 1.1.0
            lastRestoringVersion: 1.7.3
            note: "schema change"
            source: ticket 42
        upgradeStops: [1.5.0, 1.2.0]
        """
    let known = try CompatibilityKnowledge(yaml: text, source: "site.yml")
    #expect(known.barriers.count == 1)
    #expect(known.barriers[0].since == v("1.8.0"))
    #expect(known.barriers[0].lastRestoringVersion == v("1.7.3"))
    #expect(known.barriers[0].note == "schema change")
    #expect(known.barriers[0].example == false)
    #expect(known.barriers[0].origin == "site.yml:3")
    #expect(known.upgradeStops == [v("1.2.0"), v("1.5.0")])
}

@Test func anEmptyFileIsEmptyKnowledge() throws {
    #expect(try CompatibilityKnowledge(yaml: "", source: "empty.yml") == .empty)
    #expect(try CompatibilityKnowledge(yaml: "# nothing\nbarriers: []\n", source: "c.yml").barriers.isEmpty)
}

@Test func theBundledFileHoldsNoBarrierAndTheExampleFileOnlyMarkedOnes() throws {
    let known = try CompatibilityKnowledge(yaml: bundled("compat.yml"), source: "compat.yml", authority: .shipped)
    #expect(known.barriers.isEmpty)
    let example = try CompatibilityKnowledge(
        yaml: String(contentsOfFile: TestSupport.exampleCompat, encoding: .utf8), source: "compat-example.yml")
    #expect(!example.barriers.isEmpty)
    #expect(example.barriers.allSatisfy { $0.example })
}

/// Each mistake, with the line the operator has to look at.
@Test(arguments: [
    (
        "barriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n    colour: red\n",
        5, "unknown key 'colour'"
    ),
    ("barriers:\n  - since: 1.8.0\n    lastRestoringVersion: 1.7.3\n", 2, "missing 'refusesBackupsBefore'"),
    (
        "barriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.x\n    lastRestoringVersion: 1.7.3\n", 3,
        "'1.x' is not a version"
    ),
    (
        "# a comment\n\nbarriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.8.0\n",
        4, "must be older than since"
    ),
    (
        "barriers:\n  - since: 1.5.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.0.91\n", 2,
        "could be restored nowhere"
    ),
    (
        "barriers:\n  - since: 1.5.0\n    refusesBackupsBefore: 1.6.0\n    lastRestoringVersion: 1.4.0\n", 2,
        "must not be newer than since"
    ),
    (
        "barriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n    example: maybe\n",
        5, "true or false"
    ),
    ("barriers: {since: 1.8.0}\n", 1, "must be a list"),
    ("upgradeStops:\n  - 1.5.0\n  - latest\n", 3, "'latest' is not a version"),
    ("barriers:\n  - since: [1.8.0\n", 3, "not valid YAML"),
    ("schema: 2\n", 1, "schema 2 is not supported"),
    ("stops: []\n", 1, "unknown key 'stops'"),
])
func aMistakeIsReportedWithItsLine(text: String, line: Int, message: String) {
    do throws(PlannerError) {
        _ = try CompatibilityKnowledge(yaml: text, source: "bad.yml")
        Issue.record("accepted: \(text)")
    } catch {
        guard case .invalidDataFile(let source, let problems) = error else { return }
        #expect(source == "bad.yml")
        #expect(problems.first?.line == line)
        #expect(problems.first?.message.contains(message) == true, "\(problems)")
        #expect(problems.first?.description.hasPrefix("bad.yml:\(line): ") == true)
    }
}

@Test func everyMistakeOfAFileIsReportedAtOnce() throws {
    let text =
        "barriers:\n  - since: 1.x\n    refusesBackupsBefore: 1.1.0\n    lastRestoringVersion: 1.7.3\n  - since: 1.9.0\n    wrong: 1\n"
    let error = try #require(captured(text))
    guard case .invalidDataFile(_, let problems) = error else { return }
    #expect(problems.map(\.line) == [2, 6, 5, 5])
}

private func captured(_ text: String) -> PlannerError? {
    do { _ = try CompatibilityKnowledge(yaml: text, source: "b.yml") } catch { return error }
    return nil
}

@Test func mergingKeepsEachBarrierOnceAndJoinsStops() {
    let a = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3"), stops: ["1.5.0"])
    let b = knowledge(
        barrier("1.8.0", before: "1.1.0", last: "1.7.3"), barrier("1.5.0", before: "1.0.50", last: "1.4.0"),
        stops: ["1.2.0", "1.5.0"])
    let merged = a.merging(b)
    #expect(merged.barriers.count == 2)
    #expect(merged.upgradeStops == [v("1.2.0"), v("1.5.0")])
}

@Test func renderedYAMLReadsBackToTheSameKnowledge() throws {
    var learned = barrier("1.8.0", before: "1.0.74", last: "1.0.91")
    learned.note = "Restore refused: \"last\" version is 1.0.91\nsecond line\\"
    learned.source = "restore refused by Connectware 1.8.0"
    let original = knowledge(
        learned, barrier("1.5.0", before: "1.0.50", last: "1.4.0", example: true), stops: ["1.2.0"])
    let text = original.renderYAML(header: "learned by cwmigrate restore\nedit freely")
    let back = try CompatibilityKnowledge(yaml: text, source: "learned.yml")
    #expect(back.barriers.map(\.since) == original.barriers.map(\.since))
    #expect(back.barriers[0].note == learned.note)
    #expect(back.barriers[1].example)
    #expect(back.upgradeStops == original.upgradeStops)
    #expect(text.hasPrefix("# learned by cwmigrate restore\n# edit freely\n"))
}

@Test func oneLearnedBarrierAppendsUnderAnExistingList() throws {
    let base = "barriers:\n  - since: 1.5.0\n    refusesBackupsBefore: 1.0.50\n    lastRestoringVersion: 1.4.0\n"
    let refusal = RestoreRefusal(statusMessage: "use 1.0.91", lastRestoringVersion: v("1.0.91"))
    let learned = try #require(RestoreBarrier.learned(from: refusal, backup: v("1.0.73"), running: v("1.8.0")))
    let known = try CompatibilityKnowledge(yaml: base + learned.yamlListItem, source: "learned.yml")
    #expect(known.barriers.count == 2)
    // What the refusal means: no version after 1.0.91 up to 1.8.0 restores a 1.0.73 backup.
    #expect(known.barriers[1].refuses(backup: v("1.0.73"), on: v("1.8.0")))
    #expect(known.barriers[1].refuses(backup: v("1.0.73"), on: v("1.7.3")))
    #expect(known.barriers[1].refuses(backup: v("1.0.73"), on: v("1.0.92")))
    #expect(!known.barriers[1].refuses(backup: v("1.0.73"), on: v("1.0.91")))
    #expect(!known.barriers[1].refuses(backup: v("1.0.74"), on: v("1.8.0")))
}

@Test func aLearnedBarrierKeepsTheServerAndTheDateItSaidIt() throws {
    var refusal = RestoreRefusal(statusMessage: "Restore refused; last version 1.4.2", lastRestoringVersion: v("1.4.2"))
    refusal.reportedAt = "2026-11-29T10:00:00Z"
    let learned = try #require(RestoreBarrier.learned(from: refusal, backup: v("1.0.73"), running: v("1.10.2")))
    let back = try #require(
        try CompatibilityKnowledge(yaml: "barriers:\n" + learned.yamlListItem, source: "l.yml", authority: .server)
            .barriers.first)
    #expect(back.refusedBy == v("1.10.2"))
    #expect(back.refusedAt == "2026-11-29T10:00:00Z")
    #expect(back.factSource.text == "Connectware 1.10.2 on 2026-11-29T10:00:00Z (l.yml:2)")
}

@Test func aRefusalWithoutAVersionTeachesNoBarrier() {
    let refusal = RestoreRefusal(statusMessage: "incompatible", lastRestoringVersion: nil)
    #expect(RestoreBarrier.learned(from: refusal, backup: v("1.0.73"), running: v("1.8.0")) == nil)
}

@Test func aBarrierLearnedAtTheBackupsOwnVersionIsConsistent() throws {
    let refusal = RestoreRefusal(statusMessage: "only 1.0.73 can restore it", lastRestoringVersion: v("1.0.73"))
    let learned = try #require(RestoreBarrier.learned(from: refusal, backup: v("1.0.73"), running: v("1.8.0")))
    #expect(try CompatibilityKnowledge(yaml: "barriers:\n" + learned.yamlListItem, source: "l.yml").barriers.count == 1)
}
