import Foundation

/// Why cwsim cannot start or an operation failed, in words for the person running it.
enum SimulatorError: Error, CustomStringConvertible {
    case badBarrier(spec: String, reason: String)
    case unreadableFile(path: String, reason: String)
    case badDatabaseURL(String)
    case badListenAddress(String)
    case missingPassword
    case badInitialPassword(String)
    case childFailed(program: String, status: Int32, stderr: String)
    case cannotStart(program: String, reason: String)

    var description: String {
        switch self {
        case .badBarrier(let spec, let reason): return "restore barrier '\(spec)': \(reason)"
        case .unreadableFile(let path, let reason): return "cannot read \(path): \(reason)"
        case .badDatabaseURL(let reason): return "database URL: \(reason)"
        case .badListenAddress(let text):
            return
                "--listen \(text): give 127.0.0.1:PORT or another 127.x.y.z:PORT (cwsim binds loopback addresses only; PORT 0 picks a free one)"
        case .missingPassword:
            return
                "no initial admin password: set CYBUS_INITIAL_ADMIN_USER_PASSWORD (as .env has it), or give --password-file FILE or CWSIM_PASSWORD"
        case .badInitialPassword(let reason): return reason
        case .childFailed(let program, let status, let stderr):
            let detail = stderr.split(whereSeparator: \.isNewline).first.map(String.init) ?? "no message"
            return "\(program) exited with status \(status): \(detail)"
        case .cannotStart(let program, let reason): return "cannot run \(program): \(reason)"
        }
    }
}
