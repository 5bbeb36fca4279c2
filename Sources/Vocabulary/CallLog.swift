/// Where each call cwmigrate makes to another system is told when the operator asks
/// (`--verbose`): each HTTP request (Connectware's API, the Docker Engine's) and each program
/// run (compose, the installer). A line names the call and its outcome, never a secret: no
/// header, no body, no credentials in a URL, no environment.
///
/// Like a logging backend, it is set once by the executable before any call is made and not
/// changed afterwards; libraries only record into it. Without a sink nothing is recorded.
public enum CallLog {
    /// Set once at start-up (before any other thread runs), never after: so reads need no lock.
    nonisolated(unsafe) private static var sink: (@Sendable (String) -> Void)?

    /// Sends every recorded line to `sink` from now on.
    public static func bootstrap(_ sink: @escaping @Sendable (String) -> Void) { Self.sink = sink }

    /// Whether anyone listens; a caller may skip building a line when nobody does.
    public static var isEnabled: Bool { sink != nil }

    /// Records one call, as `http: GET https://host/api/… → 200 in 0.1 s`.
    public static func record(_ line: @autoclosure () -> String) {
        guard let sink else { return }
        sink(line())
    }
}
