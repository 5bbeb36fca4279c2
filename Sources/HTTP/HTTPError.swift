/// Why a transfer did not produce an answer, with what an operator needs to act on it.
/// URLs in these values never carry credentials.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL(String, message: String)
    case couldNotResolve(url: String, message: String)
    case couldNotConnect(url: String, message: String)
    /// The TLS handshake failed, usually because the server's certificate is not trusted.
    case tlsFailure(url: String, message: String)
    case timedOut(url: String, what: String)
    /// The request's own deadline (`HTTPRequest.deadline`) passed before the answer was complete.
    case deadlineExceeded(url: String, limit: Duration)
    case transferFailed(url: String, curlCode: Int, message: String)
    /// The connection ended before the announced body was complete.
    case partialTransfer(url: String, received: Int64, expected: Int64?)
    case file(path: String, message: String)
    case responseTooLarge(url: String, limit: Int)
    /// libcurl, which every request goes through, cannot be loaded on this host (or set up).
    case libraryUnavailable(reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let message):
            "invalid URL '\(url)': \(message)"
        case .couldNotResolve(let url, let message):
            "could not resolve the host of \(url): \(message)"
        case .couldNotConnect(let url, let message):
            "could not connect to \(url): \(message)"
        case .tlsFailure(let url, let message):
            "TLS failure with \(url): \(message) (use --cacert FILE to trust the server's CA certificate, "
                + "or --insecure to skip verification)"
        case .timedOut(let url, let what):
            "timed out \(what) at \(url)"
        case .deadlineExceeded(let url, let limit):
            "\(url) did not answer completely within \(limit.components.seconds) s"
        case .transferFailed(let url, let code, let message):
            "transfer with \(url) failed: \(message) (curl error \(code))"
        case .partialTransfer(let url, let received, let expected):
            if let expected {
                "transfer from \(url) ended after \(received) of \(expected) bytes"
            } else {
                "transfer from \(url) ended early after \(received) bytes"
            }
        case .file(let path, let message):
            "\(path): \(message)"
        case .responseTooLarge(let url, let limit):
            "the answer from \(url) is larger than \(limit) bytes"
        case .libraryUnavailable(let reason):
            "libcurl cannot be loaded: \(reason)"
        }
    }

    /// Whether sending the same request again could succeed: the connection failed, not the request.
    var isConnectionFailure: Bool {
        switch self {
        case .couldNotResolve, .couldNotConnect, .partialTransfer: true
        case .timedOut(_, let what): what.hasPrefix("connecting")
        case .transferFailed: true
        case .invalidURL, .tlsFailure, .file, .responseTooLarge, .deadlineExceeded, .libraryUnavailable: false
        }
    }
}
