import HTTP
import Planner

/// What can go wrong talking to Connectware's maintenance API, with what the operator
/// needs to act on it: the HTTP status and the server's own message.
public enum ConnectwareAPIError: Error, Sendable, Equatable {
    /// The request never got an HTTP answer (connection, TLS, timeout); the text is the transport's.
    case transport(String)
    /// 401 or 403: the credentials were refused.
    case unauthorized(status: Int, message: String)
    /// 404: not a Connectware, or not this path.
    case notFound(url: String, message: String)
    /// 409, 423 and similar: another backup or restore is running.
    case busy(status: Int, message: String)
    /// The status says a backup or restore is running, so no new one is started.
    case alreadyRunning
    /// 5xx from the server.
    case serverError(status: Int, message: String)
    /// Any other status that the call did not expect.
    case unexpectedStatus(status: Int, expected: Int, message: String)
    /// The body was not JSON; the first line shows what it was instead.
    case notJSON(firstLine: String)
    case malformedStatus(reason: String)
    /// An operation this client did not start was still running after `seconds` of waiting.
    case stillRunning(seconds: Int, status: String?)
    /// The server gave no status for `seconds` while it was waited for; `lastAnswer` is what
    /// it said last (and when), `lastError` why the latest poll got no answer.
    case stoppedAnswering(seconds: Int, lastAnswer: String, lastError: String)
    /// The operation did not finish before the deadline.
    case timedOut(operation: String, seconds: Int)
    /// The server reports the operation as failed.
    case operationFailed(operation: String, message: String)
    /// A restore the server refused; the refusal carries the message and any named version.
    case restoreRefused(RestoreRefusal)
    case invalidURL(String)
    /// Writing or reading a local file failed.
    case file(path: String, reason: String)
    /// libcurl cannot be loaded on this host, so no request can be sent at all.
    case libraryUnavailable(reason: String)

    /// A transfer that got no HTTP answer, kept apart when the host lacks libcurl itself.
    init(_ error: HTTPError) {
        if case .libraryUnavailable(let reason) = error {
            self = .libraryUnavailable(reason: reason)
        } else {
            self = .transport(error.description)
        }
    }
}

extension ConnectwareAPIError: CustomStringConvertible {
    /// The error in one line, as the operator reads it: on the command line (with a hint and
    /// an exit code added by the CLI), in a run's journal and in a check.
    public var description: String {
        switch self {
        case .transport(let message): message
        case .invalidURL(let url): "'\(url)' is not a Connectware URL"
        case .unauthorized(let status, let message): "Connectware refused the credentials (HTTP \(status)): \(message)"
        case .notFound(let url, let message): "\(url) answered 404 (\(message))"
        case .busy(let status, let message): "Connectware is busy (HTTP \(status)): \(message)"
        case .alreadyRunning: "a backup or restore is already running on this Connectware"
        case .serverError(let status, let message): "Connectware failed (HTTP \(status)): \(message)"
        case .unexpectedStatus(let status, let expected, let message):
            "Connectware answered HTTP \(status) where \(expected) was expected: \(message)"
        case .notJSON(let firstLine): "the answer is not Connectware's status JSON; it begins: \(firstLine)"
        case .malformedStatus(let reason): "Connectware's answer cannot be read: \(reason)"
        case .timedOut(let operation, let seconds): "the \(operation) did not finish within \(seconds) s"
        case .stillRunning(let seconds, let status):
            "a backup or restore was still running on Connectware after waiting \(seconds) s"
                + (status.map { ": \($0)" } ?? "")
        case .stoppedAnswering(let seconds, let lastAnswer, let lastError):
            "Connectware stopped answering: no status for \(seconds) s (\(lastError)); its last answer: \(lastAnswer)"
        case .operationFailed(let operation, let message): "the \(operation) failed on Connectware: \(message)"
        case .restoreRefused(let refusal): "Connectware refused the restore: \(refusal.statusMessage)"
        case .file(let path, let reason): "\(path): \(reason)"
        case .libraryUnavailable(let reason): HTTPError.libraryUnavailable(reason: reason).description
        }
    }
}
