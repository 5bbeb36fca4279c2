#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import HTTP
import Planner

/// A user and password the client may log in with, and what it is in the operator's
/// words (`the production admin password`); the password never shows in a description.
public struct Login: Sendable, Equatable, CustomStringConvertible {
    public let user: String
    public let password: String
    /// What this login is, as an error names it.
    public let role: String

    public init(user: String, password: String, role: String) {
        self.user = user
        self.password = password
        self.role = role
    }

    public var description: String { "\(role) (user \(user))" }
}

/// The two long-running maintenance operations.
public enum MaintenanceOperation: String, Sendable {
    case backup, restore
}

/// A client of Connectware's maintenance API (`/api/maintenance/db…`, `/api/login`),
/// over the project's one HTTP transport. One call at a time.
public final class MaintenanceClient {
    public let baseURL: String
    private let http: HTTPClient
    /// The logins this client may use now, in order (`useLogins`); empty: `http.authentication` as given.
    private var logins: [Login] = []
    private var loginIndex = 0
    private var tokens = false
    private var tokenIsFresh = false
    /// The logins the server refused in the last request; nil once a request is accepted.
    public private(set) var refused: [Login]?

    public init(baseURL: String, authentication: Authentication, transport: TransportOptions)
        throws(ConnectwareAPIError)
    {
        var url = baseURL.trimmingBlanks
        while url.hasSuffix("/") { url.removeLast() }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count > "https://".count - 1 else {
            throw .invalidURL(baseURL)
        }
        self.baseURL = url
        self.http = HTTPClient(options: transport, authentication: authentication)
    }

    /// `GET /api/maintenance/db`; `retryable: false` for polls that repeat anyway.
    public func status(retryable: Bool = true) throws(ConnectwareAPIError) -> MaintenanceStatus {
        let response = try send(
            HTTPRequest(
                .get, baseURL + "/api/maintenance/db", headers: [HTTPHeader("Content-Type", "application/json")],
                retryable: retryable))
        try expect(200, response)
        return try MaintenanceStatus(body: response.body)
    }

    /// Whether the maintenance API answers with a status now: one attempt, no retry, for
    /// polls that repeat anyway (a retry's backoff would only make them late).
    public func answers() -> Bool {
        guard
            let response = try? send(
                HTTPRequest(
                    .get, baseURL + "/api/maintenance/db", headers: [HTTPHeader("Content-Type", "application/json")],
                    retryable: false)),
            response.status == 200
        else { return false }
        return (try? MaintenanceStatus(body: response.body)) != nil
    }

    /// `POST /api/maintenance/db/backup`: starts a backup (the server answers 202 and works on).
    public func startBackup() throws(ConnectwareAPIError) {
        let response = try send(HTTPRequest(.post, baseURL + "/api/maintenance/db/backup"))
        try expect(202, response)
    }

    /// `GET /api/maintenance/db/backup` streamed to `path` (mode 0600, complete or absent).
    public func downloadBackup(
        to path: String, replacing: Bool = false, progress: (any TransferProgressReporter)? = nil
    ) throws(ConnectwareAPIError) -> DownloadedFile {
        try prepareTransfer()
        let result: DownloadResult
        do {
            result = try http.download(
                HTTPRequest(.get, baseURL + "/api/maintenance/db/backup"), to: path, replacing: replacing,
                progress: progress)
        } catch {
            throw ConnectwareAPIError(error)
        }
        switch result {
        case .saved(let file): return file
        case .rejected(let response):
            noteTransferAnswer(response.status)
            try expect(200, response)
            throw .unexpectedStatus(status: response.status, expected: 200, message: ServerMessage.from(response.body))
        }
    }

    /// `POST /api/maintenance/db/restore` with the file as multipart field `file`, streamed from disk.
    public func startRestore(file path: String, progress: (any TransferProgressReporter)? = nil)
        throws(ConnectwareAPIError)
    {
        let name = lastPathComponent(path)
        let request = HTTPRequest(
            .post, baseURL + "/api/maintenance/db/restore",
            body: .multipartFile(field: "file", path: path, fileName: name, contentType: "application/gzip"))
        try prepareTransfer()
        let response: HTTPResponse
        do { response = try http.upload(request, progress: progress) } catch { throw ConnectwareAPIError(error) }
        noteTransferAnswer(response.status)
        try expect(202, response)
    }

    /// `POST /api/login`: exchanges a user and password for a bearer token.
    public func login(user: String, password: String) throws(ConnectwareAPIError) -> String {
        try requestToken(user: user, password: password)
    }

    private func requestToken(user: String, password: String) throws(ConnectwareAPIError) -> String {
        let body = JSONValue.object(["username": .string(user), "password": .string(password)]).bytes
        let response = try rawSend(
            HTTPRequest(
                .post, baseURL + "/api/login", headers: [HTTPHeader("Content-Type", "application/json")],
                body: .bytes(body)))
        try expect(200, response)
        guard let token = (try? JSONValue(parsing: response.body))?["token"]?.string, !token.isEmpty
        else {
            throw .malformedStatus(reason: "the login answer holds no token")
        }
        return token
    }

    /// Uses `token` for every later request.
    public func useBearerToken(_ token: String) {
        logins = []
        http.authentication = .bearer(token)
    }

    /// Authenticates with the first of `logins` from now on (with `tokens`, by a token it
    /// obtains with `POST /api/login`, afresh for each login and after a refused token),
    /// and moves on to the next one when the server answers 401: the users of a Connectware
    /// change when its database does, and a caller may know only that one of several holds.
    public func useLogins(_ logins: [Login], tokens: Bool) {
        self.logins = logins
        self.tokens = tokens
        loginIndex = 0
        refused = nil
        authenticate(with: 0)
    }

    /// The login requests use now; nil without `useLogins`.
    public var currentLogin: Login? { loginIndex < logins.count ? logins[loginIndex] : nil }

    private func authenticate(with index: Int) {
        loginIndex = index
        tokenIsFresh = false
        guard index < logins.count else { return }
        // With tokens, the first request logs in (in `send`); until then nothing is sent.
        http.authentication = tokens ? .none : .basic(user: logins[index].user, password: logins[index].password)
    }

    /// With tokens: a token of the current login, when there is none yet. False when the
    /// server refused the login's password.
    private func ensureToken() throws(ConnectwareAPIError) -> Bool {
        guard tokens, loginIndex < logins.count, !tokenIsFresh else { return true }
        let login = logins[loginIndex]
        do {
            let token = try requestToken(user: login.user, password: login.password)
            http.authentication = .bearer(token)
            tokenIsFresh = true
            return true
        } catch .unauthorized {
            return false
        }
    }

    /// Polls the status until `operation` has finished after `previous` (the record seen before
    /// the operation was requested), with a growing interval up to `maximumInterval` and an
    /// overall `deadline`. A new operation is recognised by its start date or id differing from
    /// `previous`, not by comparing clocks, so a server clock that is off does not matter.
    /// Failures of single polls (5xx, a dropped connection) are tolerated for `wait.unansweredLimit`
    /// and said after `wait.reportEvery` (see `pollStatus`). An operation the server stops
    /// reporting (nothing runs, no new record) for `vanishedAfter` is an `operationFailed`: a
    /// server that restarted does not finish what it forgot.
    public func waitForCompletion(
        of operation: MaintenanceOperation, after previous: MaintenanceStatus.Operation?,
        deadline: Duration, firstInterval: Duration = .milliseconds(250), maximumInterval: Duration = .seconds(5),
        vanishedAfter: Duration = .seconds(15), wait: WaitSettings = WaitSettings(),
        onPoll: (MaintenanceStatus) -> Void = { _ in }
    ) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation {
        let clock = ContinuousClock()
        var idleSince: ContinuousClock.Instant?
        return try pollStatus(
            what: operation.rawValue, deadline: deadline, firstInterval: firstInterval,
            maximumInterval: maximumInterval, wait: wait
        ) { (current: MaintenanceStatus) throws(ConnectwareAPIError) -> MaintenanceStatus.Operation? in
            onPoll(current)
            let record = current[operation]
            if !current.running, let record, Self.isNew(record, comparedWith: previous),
                record.succeeded != nil || record.endDate != nil
            {
                return record
            }
            // Nothing runs and no new record came: a server that restarted forgot the operation.
            if !current.running && (record.map { !Self.isNew($0, comparedWith: previous) } ?? true) {
                let since = idleSince ?? clock.now
                idleSince = since
                if since.duration(to: clock.now) >= vanishedAfter {
                    throw .operationFailed(
                        operation: operation.rawValue,
                        message:
                            "Connectware no longer reports the \(operation.rawValue) it was asked for (did it restart?)")
                }
            } else {
                idleSince = nil
            }
            return nil
        }
    }

    /// Polls until no backup or restore runs and returns that status: for an operation this
    /// client did not start, which it may neither adopt nor disturb.
    public func waitUntilIdle(
        deadline: Duration, wait: WaitSettings = WaitSettings(), maximumInterval: Duration = .seconds(5)
    ) throws(ConnectwareAPIError) -> MaintenanceStatus {
        try pollStatus(
            what: "running operation", deadline: deadline, firstInterval: .milliseconds(250),
            maximumInterval: maximumInterval, wait: wait
        ) { (current: MaintenanceStatus) throws(ConnectwareAPIError) -> MaintenanceStatus? in
            current.running ? nil : current
        }
    }

    /// The one polling loop of every wait: asks for the status (one attempt per poll, no retry
    /// backoff), hands each answer to `decide` until it returns a value, and keeps the operator
    /// told. While something runs, `wait.onUpdate` gets `.running` every `wait.reportEvery`;
    /// a server that has not answered for `wait.reportEvery` is `.notAnswering` (once per
    /// silence), and one silent for `wait.unansweredLimit` ends the wait with
    /// `stoppedAnswering`, naming its last answer. Credentials refused, a 404 or an answer that
    /// is not a status end it at once.
    func pollStatus<T>(
        what: String, deadline: Duration, firstInterval: Duration, maximumInterval: Duration, wait: WaitSettings,
        decide: (MaintenanceStatus) throws(ConnectwareAPIError) -> T?
    ) throws(ConnectwareAPIError) -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start.advanced(by: deadline)
        var interval = firstInterval
        var lastAnswer: (at: ContinuousClock.Instant, wall: Date, status: MaintenanceStatus)?
        var lastFailure: ConnectwareAPIError?
        var silenceAnnounced = false
        var lastReport = start
        while true {
            do throws(ConnectwareAPIError) {
                let current = try status(retryable: false)
                if silenceAnnounced, let lastAnswer {
                    wait.onUpdate(.answeringAgain(afterSeconds: Int(lastAnswer.at.duration(to: clock.now).components.seconds)))
                }
                silenceAnnounced = false
                lastAnswer = (clock.now, Date(), current)
                lastFailure = nil
                if let result = try decide(current) { return result }
                if current.running, lastReport.duration(to: clock.now) >= wait.reportEvery {
                    lastReport = clock.now
                    let kind = current.runningOperation
                    let record = kind.flatMap { current[$0] }
                    wait.onUpdate(
                        .running(
                            operation: kind, id: record?.id, since: record?.startDateText,
                            waitedSeconds: Int(start.duration(to: clock.now).components.seconds)))
                }
            } catch {
                switch error {
                case .unauthorized, .notFound, .notJSON, .malformedStatus, .operationFailed, .libraryUnavailable:
                    throw error
                default: lastFailure = error
                }
            }
            if let lastFailure {
                let silentSince = lastAnswer?.at ?? start
                let silence = silentSince.duration(to: clock.now)
                let giveUp = min(silentSince.advanced(by: wait.unansweredLimit), end)
                if silence >= wait.unansweredLimit || clock.now.advanced(by: interval) >= end {
                    throw .stoppedAnswering(
                        seconds: Int(silence.components.seconds),
                        lastAnswer: lastAnswer.map { "\($0.status.summary) (at \(Self.clockTime($0.wall)))" }
                            ?? "none since the wait began",
                        lastError: lastFailure.shortText)
                }
                if !silenceAnnounced, silence >= wait.reportEvery {
                    silenceAnnounced = true
                    wait.onUpdate(
                        .notAnswering(
                            seconds: Int(silence.components.seconds), lastError: lastFailure.shortText,
                            giveUpAt: Date().addingTimeInterval(Double(clock.now.duration(to: giveUp).components.seconds))))
                }
            }
            guard clock.now.advanced(by: interval) < end else {
                throw .timedOut(operation: what, seconds: Int(deadline.components.seconds))
            }
            pause(interval)
            interval = min(interval * 3 / 2, maximumInterval)
        }
    }

    /// `HH:MM:SS` in local time, as a wall clock shows it.
    public static func clockTime(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return cFormat("%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    static func isNew(_ record: MaintenanceStatus.Operation, comparedWith previous: MaintenanceStatus.Operation?)
        -> Bool
    {
        guard let previous else { return true }
        return record.startDateText != previous.startDateText || record.id != previous.id
    }

    // MARK: - Requests and statuses

    /// Sends with the current login; on 401 the same login once more with a new token (with
    /// tokens), then each later login in turn. `refused` says which were refused, if all were.
    private func send(_ request: HTTPRequest) throws(ConnectwareAPIError) -> HTTPResponse {
        guard !logins.isEmpty else { return try rawSend(request) }
        var refusedNow: [Login] = []
        var renewed = false
        while loginIndex < logins.count {
            if try ensureToken() {
                let response = try rawSend(request)
                guard response.status == 401 else {
                    refused = nil
                    return response
                }
                if tokens && !renewed {
                    // A token dies with the database that issued it: log in again once.
                    renewed = true
                    tokenIsFresh = false
                    continue
                }
            }
            refusedNow.append(logins[loginIndex])
            renewed = false
            guard loginIndex + 1 < logins.count else { break }
            authenticate(with: loginIndex + 1)
        }
        refused = refusedNow
        // Later requests start again from the first login: which one holds may change back.
        authenticate(with: 0)
        throw .unauthorized(status: 401, message: "Connectware refused " + refusedNow.map(\.description).joined(separator: " and "))
    }

    /// A streamed transfer is sent once, with the current login (and its token).
    private func prepareTransfer() throws(ConnectwareAPIError) {
        guard !logins.isEmpty else { return }
        if !(try ensureToken()), let login = currentLogin {
            refused = [login]
            throw .unauthorized(status: 401, message: "Connectware refused \(login)")
        }
    }

    private func noteTransferAnswer(_ status: Int) {
        guard !logins.isEmpty else { return }
        refused = status == 401 ? currentLogin.map { [$0] } : nil
    }

    private func rawSend(_ request: HTTPRequest) throws(ConnectwareAPIError) -> HTTPResponse {
        do { return try http.send(request) } catch { throw ConnectwareAPIError(error) }
    }

    /// Maps every answer but the expected one (or another 2xx) to the error an operator can act on.
    /// A server's Location as it may be shown: user and password dropped, control
    /// characters replaced, at most 200 characters.
    static func printableLocation(_ location: String) -> String {
        var text = location
        if let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
            !text[scheme.upperBound..<at].contains("/")
        {
            text.removeSubrange(scheme.upperBound...at)
        }
        let printable = String(
            text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return printable.count > 200 ? String(printable.prefix(200)) + "…" : printable
    }

    private func expect(_ expected: Int, _ response: HTTPResponse) throws(ConnectwareAPIError) {
        if response.status == expected || (200..<300).contains(response.status) { return }
        let message = ServerMessage.from(response.body)
        switch response.status {
        case 401, 403: throw .unauthorized(status: response.status, message: message)
        case 404: throw .notFound(url: response.url, message: message)
        case 409, 423: throw .busy(status: response.status, message: message)
        case 500...599: throw .serverError(status: response.status, message: message)
        case 300...399:
            // Redirects are never followed (credentials would go with them); say where it pointed.
            let location = response.headers.last { $0.name.lowercased() == "location" }?.value
            let shown = location.map(Self.printableLocation) ?? "no Location given"
            throw .unexpectedStatus(
                status: response.status, expected: expected,
                message: "a redirect to \(shown), not followed: credentials stay with the address given")
        default: throw .unexpectedStatus(status: response.status, expected: expected, message: message)
        }
    }
}
