import Planner

/// Exit codes of cwmigrate: the plan outcomes, then sysexits(3) for errors.
public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let downgradeRequired: Int32 = 3
    public static let compatibilityUnknown: Int32 = 4
    public static let upgradeFirst: Int32 = 5
    public static let paused: Int32 = 10  // a migration run paused before a step the operator declined
    public static let restoreRefused: Int32 = 11  // a run's restore was refused where no new plan could follow
    public static let restoreFailed: Int32 = 12  // a restore failed for a reason other than the backup's version
    public static let usage: Int32 = 64  // EX_USAGE, also ArgumentParser's validation errors
    public static let dataError: Int32 = 65  // EX_DATAERR: bad input data (archive, compat file, version)
    public static let noInput: Int32 = 66  // EX_NOINPUT: a file that does not exist or cannot be read
    public static let unavailable: Int32 = 69  // EX_UNAVAILABLE: a service refused or is unreachable
    public static let software: Int32 = 70  // EX_SOFTWARE: a bug in cwmigrate
    public static let cantCreate: Int32 = 73  // EX_CANTCREAT: an output file cannot be written
    public static let ioError: Int32 = 74  // EX_IOERR
    public static let tempFailure: Int32 = 75  // EX_TEMPFAIL: try again later (busy, timed out)
    public static let noPermission: Int32 = 77  // EX_NOPERM: credentials refused
    public static let config: Int32 = 78  // EX_CONFIG

    /// The exit code that says what was decided.
    public static func of(_ decision: DecisionKind) -> Int32 {
        switch decision {
        case .directRestore: ok
        case .downgradeRequired: downgradeRequired
        case .upgradeFirst: upgradeFirst
        case .compatibilityUnknown: compatibilityUnknown
        }
    }
}

/// What the operator is told when a command fails: one `error:` line, maybe a `hint:`.
public struct Failure: Error, Sendable {
    public let message: String
    public var hint: String?
    public let exitCode: Int32

    public init(message: String, hint: String? = nil, exitCode: Int32) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
    }
}

/// A library error that knows how to present itself to the operator: its words (the library's
/// description), a hint and the exit code. Each library's mapping is in `Failure+<Library>.swift`.
public protocol OperatorFacing: Error {
    var failure: Failure { get }
}

extension Failure {
    /// What the operator is told about `error`: its own failure when it is one or words one
    /// (`OperatorFacing`), else an unexpected error, which is a bug (exit 70).
    public init(describing error: any Error) {
        if let failure = error as? Failure {
            self = failure
        } else if let facing = error as? any OperatorFacing {
            self = facing.failure
        } else {
            self.init(
                message: "unexpected: \(error)", hint: "this is a bug in cwmigrate; please report it",
                exitCode: ExitStatus.software)
        }
    }
}

extension Failure {
    /// The hint for a host without libcurl, which cwmigrate opens at its first request to
    /// Connectware, the Docker Engine or a registry.
    static let installLibcurlHint = "install libcurl4 (Ubuntu 24.04: libcurl4t64) on Debian/Ubuntu, libcurl on RHEL"
}
