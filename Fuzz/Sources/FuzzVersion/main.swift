import CFuzzerDriver
import Glibc
import Planner

// Bytes as a version, a backup id, or a file name holding one. What parses must print
// as something that parses back to the same value.
private func fuzzVersion(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    do {
        let version = try Version(parsing: text)
        let again = try Version(parsing: version.description)
        precondition(again == version && again.description == version.description, "\(version) does not read back")
        precondition(!(version < again) && !(again < version), "\(version) is ordered against itself")
    } catch {
        _ = error.description
    }
    if let id = BackupID(text) {
        precondition(BackupID(id.description) == id, "\(id) does not read back")
        precondition(BackupID(id.fileSafe) == id, "\(id.fileSafe) does not read back")
    }
    if let found = BackupID.find(in: text) {
        precondition(BackupID(found.description) == found, "\(found) found in a name does not read back")
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzVersion(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
