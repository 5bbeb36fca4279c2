import CFuzzerDriver
import Glibc
import Planner

// Bytes as a playbook edited by hand. One that reads must never remove a protected
// volume, and a plan laid out with it must mark exactly the restore steps destructive.
private func fuzzPlaybook(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    let playbook: Playbook
    do { playbook = try Playbook(yaml: text, source: "playbook.yml") } catch {
        _ = error.description
        return
    }
    precondition(Playbook.protectedVolumes.isDisjoint(with: playbook.volumes), "a protected volume is to be removed")
    let backup = Version(major: 1, minor: 0, patch: 73)
    let running = Version(major: 1, minor: 8, patch: 0)
    let barrier = RestoreBarrier(
        since: Version(major: 1, minor: 5, patch: 0), refusesBackupsBefore: Version(major: 1, minor: 1, patch: 0),
        lastRestoringVersion: Version(major: 1, minor: 4, patch: 9))
    let knowledge = CompatibilityKnowledge(barriers: [barrier], upgradeStops: [Version(major: 1, minor: 5, patch: 0)])
    let plan = makePlan(
        backup: backup, running: running, knowledge: knowledge, playbook: playbook, backupFile: "/tmp/x y.tgz")
    for step in plan.steps {
        precondition(step.destructive == [StepKind.removeVolumes, .restore].contains(step.id), "\(step.id) destructive?")
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzPlaybook(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
