import Foundation
import Planner
import Runbook
import TestSupport
import Testing

// Every shipped template rendered for a spread of plans, compared byte for byte with the
// files in Fixtures/rendered, which were written by swift-mustache 2.1.1 before the
// renderer changed (CWMIGRATE_RECORD_RUNBOOK_FIXTURES=1 writes them anew instead of comparing);
// since then re-recorded only where a playbook's commands changed, the diff read line by line
// (the Kubernetes copy pods' image, no longer busybox).
// The checkout's directory, where a relative backup path is made absolute, stands as /srv in
// them, so the comparison does not depend on where the checkout lives.

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Fixtures/rendered")
private let root = TestSupport.packageRoot

struct RenderCase: CustomStringConvertible, Sendable {
    let name: String
    let backup: String
    let running: String
    let installation: InstallationKind
    let compat: String
    let backupFile: String
    let instance: String?
    let given: [String: String]
    let learned: Bool

    var description: String { name }
}

let renderCases: [RenderCase] = [
    RenderCase(
        name: "downgrade-compose", backup: "1.7.3", running: "1.8.0", installation: .dockerCompose,
        compat:
            "schema: 1\nbarriers:\n  - since: 1.8.0\n    refusesBackupsBefore: 1.7.4\n    lastRestoringVersion: 1.7.3\n",
        backupFile: "/srv/backups/connectware-1.7.3.tgz", instance: "https://connectware.plant.example", given: [:],
        learned: true),
    RenderCase(
        name: "example-backup-kubernetes", backup: "1.0.73", running: "1.8.0", installation: .kubernetes,
        compat: (try? String(contentsOf: root.appendingPathComponent("examples/compat-example.yml"), encoding: .utf8))
            ?? "",
        backupFile: "/srv/examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz",
        instance: nil, given: ["namespace": "plant <a&b> \"q\" 'x'"], learned: false),
    RenderCase(
        name: "direct-restore-odd-names", backup: "1.8.0", running: "1.8.0", installation: .dockerCompose,
        compat: "", backupFile: "backups/odd \"{{ name }}\" <&> 'it''s'.tgz",
        instance: "http://10.0.0.1:8080/?a=1&b=<2>",
        given: ["project": "line`code`{{x}}"], learned: false),
    RenderCase(
        name: "upgrade-path-compose", backup: "1.0.73", running: "1.8.0", installation: .dockerCompose,
        compat: "schema: 1\nupgradeStops:\n  - 1.2.0\n  - 1.5.0\n", backupFile: "/b.tgz", instance: nil, given: [:],
        learned: true),
]

private func rendered(_ c: RenderCase, _ format: RunbookFormat) throws -> [RunbookFile] {
    let path = root.appendingPathComponent("playbooks/\(c.installation.rawValue).yml").path
    let (playbook, names) = resolveSiteNames(
        try Playbook(yaml: String(contentsOfFile: path, encoding: .utf8), source: path), given: c.given,
        trustPlaybookValues: false)
    let plan = makePlan(
        backup: try Version(parsing: c.backup), running: try Version(parsing: c.running),
        knowledge: try CompatibilityKnowledge(yaml: c.compat, source: "compat.yml"), playbook: playbook,
        backupFile: c.backupFile)
    var subject = RunbookSubject(
        instanceURL: c.instance, backupFile: c.backupFile,
        backupID: c.learned ? "\(c.backup)_2026-11-20T10:00:00.000Z" : nil,
        backupSHA256: c.learned ? String(repeating: "ab", count: 32) : nil,
        generatedAt: Date(timeIntervalSince1970: 1_795_000_000), names: names,
        cwmigrateBinary: c.learned ? "/usr/local/bin/cwmigrate" : nil, generator: "cwmigrate 9.9.9",
        dataDirectory: c.learned ? "/usr/local/share/cwmigrate" : nil)
    if c.learned {
        subject.compatCopies = [RunbookFile(name: "site compat.yml", text: c.compat)]
        subject.learnedCopy = RunbookFile(name: "learned.yml", text: "schema: 1\n")
    }
    return try renderRunbook(
        plan, subject: subject, format: format,
        templates: RunbookTemplates(directory: root.appendingPathComponent("playbooks/runbook").path))
}

@Suite struct RenderedFixtureTests {
    @Test(arguments: renderCases, RunbookFormat.allCases)
    func everyShippedTemplateRendersAsBefore(_ c: RenderCase, _ format: RunbookFormat) throws {
        let record = ProcessInfo.processInfo.environment["CWMIGRATE_RECORD_RUNBOOK_FIXTURES"] == "1"
        let files = try rendered(c, format).filter { $0.name != "plan.json" }
        #expect(!files.isEmpty)
        let here = FileManager.default.currentDirectoryPath + "/"
        for file in files {
            let text = file.text.replacingOccurrences(of: here, with: "/srv/")
            let fixture = fixtures.appendingPathComponent("\(c.name).\(format.rawValue).\(file.name)")
            if record {
                try Data(text.utf8).write(to: fixture)
            } else {
                let expected = try String(contentsOf: fixture, encoding: .utf8)
                #expect(text == expected, "\(fixture.lastPathComponent) differs")
            }
        }
    }
}
