import CFuzzerDriver
import Glibc
import Planner

private let backup = Version(major: 1, minor: 0, patch: 73)
private let running = Version(major: 1, minor: 8, patch: 0)

// Bytes as a refusal's statusMessage, whose wording is not public. What cwmigrate learns
// from it is written to the operator's compat file, so it must read back unchanged.
private func fuzzRestoreRefusal(_ input: UnsafeBufferPointer<UInt8>) {
    let message = String(decoding: input, as: UTF8.self)
    _ = RestoreRefusal(statusMessage: message)
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: backup, runningVersion: running)
    if let last = refusal.lastRestoringVersion {
        precondition(
            message.contains("\(last.major).\(last.minor).\(last.patch)"), "\(last) is not in the message")
    }
    guard let barrier = RestoreBarrier.learned(from: refusal, backup: backup, running: running) else { return }
    let written = CompatibilityKnowledge(barriers: [barrier]).renderYAML(header: "learned")
    do {
        let read = try CompatibilityKnowledge(yaml: written, source: "learned.yml")
        precondition(read.barriers.count == 1, "the learned barrier did not read back")
        precondition(read.barriers[0].note == message, "the note changed on its way through compat.yml")
        precondition(read.barriers[0].lastRestoringVersion == barrier.lastRestoringVersion)
    } catch {
        preconditionFailure("a learned barrier's compat.yml does not read back: \(error)")
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzRestoreRefusal(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
