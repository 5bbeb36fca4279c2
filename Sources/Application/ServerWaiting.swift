import ConnectwareAPI
import Migration
import Vocabulary

/// How a command waits for an operation on Connectware and shows it: `--timeout`,
/// `--unanswered-timeout` and `--progress` of backup, restore and migrate.
public struct ServerWaiting: Sendable {
    /// How long the operation may take on the server.
    public var operation: Duration
    /// How long Connectware may give no answer at all before the wait stops with an error.
    public var unanswered: Duration
    public var progress: ProgressFormat

    public init(operation: Duration, unanswered: Duration, progress: ProgressFormat) {
        self.operation = operation
        self.unanswered = unanswered
        self.progress = progress
    }

    /// The wait's reports on the console's stderr: a line (or, with `--progress json`, a JSON
    /// line) every 30 s while an operation runs and once a silence has lasted 30 s; none with
    /// `--progress none`.
    public func settings(_ console: Console) -> WaitSettings {
        let format = progress
        return WaitSettings(unansweredLimit: unanswered) { update in
            switch format {
            case .none: return
            case .json: console.err(update.json)
            default: console.err(update.line)
            }
        }
    }

    /// The transfer's progress display `--progress` asks for; none under `--quiet`.
    public func reporter(_ console: Console) -> (any TransferProgressReporter)? {
        progress.reporter(on: console)
    }

    /// Says now and then that the server still works on `what` (`backup` or `restore`).
    public func waitingReporter(_ console: Console, what: String) -> WaitingReporter {
        WaitingReporter(console: console, what: what, enabled: progress != .none)
    }

    /// The waits of a migration's steps; a backup or restore already running is waited for
    /// `forRunning`.
    public func serverWaits(forRunning: Duration, _ console: Console) -> ServerWaits {
        ServerWaits(operation: operation, forRunning: forRunning, settings: settings(console))
    }
}

extension ProgressFormat {
    /// The reporter this format asks for on stderr; none under `--quiet`.
    public func reporter(on console: Console) -> (any TransferProgressReporter)? {
        console.quiet ? nil : reporter()
    }
}
