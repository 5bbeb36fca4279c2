import Planner
import Testing

@testable import Runbook

// What steps.yml's values mean, pinned while Yams loaded it: a wording field must be text,
// and a value YAML's core schema reads as something else (a bool, a number, null) is refused.

private func purpose(_ written: String) throws(RunbookError) -> String? {
    let wording = try loadStepWording(
        yaml: "steps:\n  restart:\n    purpose: \(written)\n", source: "steps.yml", installation: .dockerCompose)
    return wording["restart"]?.purpose
}

private func refusal(_ text: String) -> String? {
    do {
        _ = try loadStepWording(yaml: text, source: "steps.yml", installation: .dockerCompose)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct StepWordingTests {
    @Test(arguments: [
        ("Restart it.", "Restart it."), ("\"yes\"", "yes"), ("'1.10'", "1.10"), ("!!str 12", "12"),
        ("99999999999999999999", "99999999999999999999"), ("2024-13-45x", "2024-13-45x"), ("a: b", nil),
    ])
    func aWordingFieldThatIsTextIsTaken(written: String, read: String?) throws {
        if let read {
            #expect(try purpose(written) == read)
        } else {
            #expect(refusal("steps:\n  restart:\n    purpose: \(written)\n") != nil)
        }
    }

    @Test(arguments: ["yes", "on", "1.10", "~", "0x1F", "12", "2024-01-01", "null", "-.inf", ""])
    func aWordingFieldTheSchemaReadsAsNoTextIsRefused(written: String) {
        #expect(
            refusal("steps:\n  restart:\n    purpose: \(written)\n")?.contains("`steps.restart.purpose` must be text")
                == true)
    }

    @Test func aBlockScalarIsTextWithItsLines() throws {
        let wording = try loadStepWording(
            yaml: "steps:\n  restart:\n    purpose: |\n      one\n      two\n", source: "steps.yml",
            installation: .dockerCompose)
        #expect(wording["restart"]?.purpose == "one\ntwo\n")
    }

    @Test func aMergeKeyBringsInTheAnchoredFields() throws {
        let wording = try loadStepWording(
            yaml: "steps:\n  restart: &r\n    purpose: P\n    expected: E\n  restore:\n    <<: *r\n    expected: own\n",
            source: "steps.yml", installation: .dockerCompose)
        #expect(wording["restore"] == StepWording(purpose: "P", expected: "own", ifFails: ""))
    }

    @Test func theInstallationsSectionOverridesFieldByField() throws {
        let wording = try loadStepWording(
            yaml: "steps:\n  restart:\n    purpose: P\n    expected: E\ndocker-compose:\n  restart:\n    expected: D\n",
            source: "steps.yml", installation: .dockerCompose)
        #expect(wording["restart"] == StepWording(purpose: "P", expected: "D", ifFails: ""))
    }

    @Test(arguments: ["", "# only a comment\n", "just text\n", "- a list\n", "~\n"])
    func aDocumentThatIsNoMappingOfSectionsIsRefused(text: String) {
        #expect(refusal(text)?.contains("must be a mapping with a `steps` section") == true)
    }

    @Test func anEmptySectionIsRefused() {
        #expect(refusal("steps:\n")?.contains("`steps` must map step kinds to their wording") == true)
    }

    @Test func aKeyWrittenTwiceIsNotValidYAML() {
        #expect(refusal("steps:\n  restart:\n    purpose: a\n    purpose: b\n")?.contains("not valid YAML") == true)
    }

    @Test func brokenYAMLIsRefusedAsNotValidYAML() {
        #expect(refusal("steps: [\n")?.contains("not valid YAML") == true)
    }

    @Test func aKeyIsTakenAsItsTextWhateverTheSchemaReadsItAs() {
        #expect(
            refusal("1: numbered\n")?.hasSuffix("unknown section `1`; known: steps, docker-compose, kubernetes") == true
        )
        #expect(refusal("yes: true\n")?.contains("unknown section `yes`") == true)
        #expect(
            refusal("steps:\n  restart:\n    yes: x\n")?.contains("`steps.restart` has unknown field `yes`") == true)
        #expect(refusal("steps:\n  1: x\n")?.contains("`steps` names an unknown step `1`") == true)
    }
}
