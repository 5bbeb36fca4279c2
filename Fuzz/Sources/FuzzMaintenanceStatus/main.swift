import CFuzzerDriver
import Glibc
import ConnectwareAPI

// Bytes as the body of GET /api/maintenance/db, as a proxy or a hostile server may send it.
private func fuzzMaintenanceStatus(_ input: UnsafeBufferPointer<UInt8>) {
    let body = Array(input)
    do {
        let status = try MaintenanceStatus(body: body)
        for operation in [status.backup, status.restore].compactMap({ $0 }) {
            // The id is parsed on demand; a date that was sent must not vanish silently if it parsed.
            _ = operation.backupID
            precondition(operation.startDate == nil || operation.startDateText != nil)
            precondition(operation.endDate == nil || operation.endDateText != nil)
        }
    } catch {
        _ = "\(error)"
    }
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzMaintenanceStatus(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
