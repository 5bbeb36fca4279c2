import Foundation
import TestSupport

@testable import Planner

func v(_ text: String) -> Version {
    guard let version = Version.parse(text) else { fatalError("bad test version \(text)") }
    return version
}

func barrier(_ since: String, before: String, last: String, example: Bool = false) -> RestoreBarrier {
    RestoreBarrier(since: v(since), refusesBackupsBefore: v(before), lastRestoringVersion: v(last), example: example)
}

func knowledge(_ barriers: RestoreBarrier..., stops: [String] = []) -> CompatibilityKnowledge {
    CompatibilityKnowledge(barriers: barriers, upgradeStops: stops.map(v))
}

/// The text of a bundled file in playbooks/.
func bundled(_ name: String) throws -> String {
    try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("playbooks/\(name)"), encoding: .utf8)
}

func bundledPlaybook(_ kind: InstallationKind = .dockerCompose) throws -> Playbook {
    try Playbook(yaml: bundled("\(kind.rawValue).yml"), source: "\(kind.rawValue).yml")
}

/// A small valid playbook; `volumes` and one extra step line vary per test.
func playbookText(
    volumes: [String] = ["postgresql", "service-manager"], restoreCommand: String = "restore {{backupFile}}"
) -> String {
    var text = """
        installation: docker-compose
        settings:
          project: connectware
        volumes:

        """
    for volume in volumes { text += "  - \(volume)\n" }
    text += "steps:\n"
    for kind in Playbook.stepKinds {
        let command = kind == "restore" ? restoreCommand : "\(kind) {{project}}"
        text += "  \(kind):\n    title: \(kind) title\n    commands:\n      - \(command)\n"
    }
    return text
}
