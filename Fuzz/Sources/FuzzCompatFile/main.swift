import CFuzzerDriver
import Glibc
import Planner

// Bytes as a compat.yml edited by hand. What reads must render and read back the same,
// and deciding with it must end (upgrade paths are walked over its stops).
private func fuzzCompatFile(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    let knowledge: CompatibilityKnowledge
    do { knowledge = try CompatibilityKnowledge(yaml: text, source: "compat.yml") } catch {
        _ = error.description
        return
    }
    do {
        let again = try CompatibilityKnowledge(yaml: knowledge.renderYAML(header: "fuzz"), source: "again.yml")
        precondition(again.upgradeStops == knowledge.upgradeStops, "upgrade stops changed on reading back")
        precondition(again.barriers.count == knowledge.barriers.count, "barriers changed on reading back")
        for (a, b) in zip(again.barriers, knowledge.barriers) {
            precondition(
                a.since == b.since && a.refusesBackupsBefore == b.refusesBackupsBefore
                    && a.lastRestoringVersion == b.lastRestoringVersion && a.example == b.example
                    && a.note == b.note && a.source == b.source, "a barrier changed on reading back")
        }
    } catch {
        preconditionFailure("rendered compat.yml does not read back: \(error)")
    }
    var versions = knowledge.upgradeStops
    for barrier in knowledge.barriers.prefix(8) {
        versions += [barrier.since, barrier.refusesBackupsBefore, barrier.lastRestoringVersion]
    }
    versions.append(Version(major: 1, minor: 0, patch: 73))
    for backup in versions.prefix(6) {
        for running in versions.prefix(6) {
            _ = decide(backup: backup, running: running, knowledge: knowledge, refusal: nil)
        }
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzCompatFile(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
