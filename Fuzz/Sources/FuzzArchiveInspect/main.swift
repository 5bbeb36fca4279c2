import CFuzzerDriver
import Glibc
import ArchiveInspect

// Bytes as a backup archive: each input is inspected the quick way and with --verify.
// A clean ArchiveInspectError is a pass; a crash, a sanitizer report, a leak or a hang
// is what libFuzzer reports.
private func fuzzArchiveInspect(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = UnsafeRawBufferPointer(input)
    for verify in [false, true] {
        do {
            let facts = try inspectBackup(bytes: bytes, named: "backup.tgz", options: InspectOptions(verify: verify))
            precondition(facts.file == "backup.tgz", "the facts name the temporary file: \(facts.file)")
            precondition(facts.verified == verify)
            precondition(!verify || facts.sha256?.count == 64, "verify gave no SHA-256")
        } catch {
            _ = error
        }
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzArchiveInspect(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
