import ConnectwareAPI
import Vocabulary

// What `backup` and `restore` print about the operation on the server.

/// The result of `cwmigrate backup`: its lines for a person, and its JSON form (schema in the README).
public struct BackupResult: Encodable {
    let file: String
    let id: String?
    let version: String
    let bytes: Int64
    let sha256: String
    let verified: Bool

    public init(_ taken: TakenBackup) {
        file = taken.file
        id = taken.record.id
        version = taken.facts.version.description
        bytes = taken.bytes
        sha256 = taken.facts.sha256 ?? ""
        verified = taken.facts.verified
    }

    public func json() -> String { (try? sortedJSON(self)) ?? "{}" }

    public var lines: [String] {
        [
            "Saved backup \(id ?? "(no id)") to \(file)", "  version  \(version)",
            "  size     \(formatBytes(bytes)) (\(bytes) bytes)", "  sha256   \(sha256)", "  verified yes (read to its end)",
        ]
    }
}

/// Tells the operator, now and then, that the server is still working on an operation.
public final class WaitingReporter {
    private let console: Console
    private let what: String
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var announced = false

    public init(console: Console, what: String, enabled: Bool) {
        self.console = console
        self.what = what
        self.enabled = enabled
        if enabled { console.err("waiting for the \(what) on Connectware…") }
    }

    /// The first poll after the request: the wait's own lines (every 30 s) follow from `WaitSettings`.
    public func poll(_ status: MaintenanceStatus) {
        guard enabled, !announced else { return }
        announced = true
        if let kind = status.runningOperation, kind.rawValue == what, let record = status[kind] {
            console.err("the \(what) \(record.id ?? "") runs on Connectware since \(record.startDateText ?? "now")")
        }
    }

    public func done() {
        guard enabled else { return }
        console.err("the \(what) finished after \((ContinuousClock.now - start).components.seconds) s")
    }
}
