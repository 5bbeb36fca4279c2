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
}
