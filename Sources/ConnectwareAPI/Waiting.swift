import Planner

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a wait for the server tells the operator while it lasts.
public enum WaitUpdate: Sendable, Equatable {
    /// Said every `WaitSettings.reportEvery` while an operation runs: which one (when the
    /// status tells), its id, its start as the server sent it, and how long this wait has been.
    case running(operation: MaintenanceOperation?, id: String?, since: String?, waitedSeconds: Int)
    /// The server has not answered for `seconds`; the wait gives up at `giveUpAt` unless it does.
    case notAnswering(seconds: Int, lastError: String, giveUpAt: Date)
    /// The server answers again after a silence of `afterSeconds`.
    case answeringAgain(afterSeconds: Int)
}

/// How a wait keeps the operator told, and how long a silent server is waited for.
public struct WaitSettings: Sendable {
    /// How long the server may stay silent (no status answer at all) before the wait ends
    /// with `stoppedAnswering`. Five minutes: longer than a restart of Connectware's API.
    public var unansweredLimit: Duration
    /// How often a running operation is reported, and after how long a silence is said.
    public var reportEvery: Duration
    public var onUpdate: @Sendable (WaitUpdate) -> Void

    public static let defaultUnansweredSeconds = 300

    public init(
        unansweredLimit: Duration = .seconds(defaultUnansweredSeconds), reportEvery: Duration = .seconds(30),
        onUpdate: @escaping @Sendable (WaitUpdate) -> Void = { _ in }
    ) {
        self.unansweredLimit = unansweredLimit
        self.reportEvery = reportEvery
        self.onUpdate = onUpdate
    }
}

extension WaitUpdate {
    /// One line for a person, e.g. `Connectware has not answered for 30 s; waiting until 10:31:05`.
    public var line: String {
        switch self {
        case .running(let operation, let id, let since, let waited):
            let what = operation.map { "a \($0.rawValue)" } ?? "a backup or restore"
            return "\(what)\(id.map { " (\($0))" } ?? "") is running on Connectware"
                + (since.map { " since \($0)" } ?? "") + "; waited \(waited) s so far"
        case .notAnswering(let seconds, let lastError, let giveUpAt):
            return "Connectware has not answered for \(seconds) s; waiting until "
                + "\(MaintenanceClient.clockTime(giveUpAt)) (\(lastError))"
        case .answeringAgain(let seconds):
            return "Connectware answers again after \(seconds) s"
        }
    }

    /// One JSON object for `--progress json`, with `event: "wait"`.
    public var json: String {
        var object: [String: JSONValue] = ["event": "wait"]
        switch self {
        case .running(let operation, let id, let since, let waited):
            object["state"] = "running"
            object["operation"] = operation.map { .string($0.rawValue) } ?? .null
            object["id"] = id.map(JSONValue.string) ?? .null
            object["since"] = since.map(JSONValue.string) ?? .null
            object["waitedSeconds"] = .integer(Int64(waited))
        case .notAnswering(let seconds, let lastError, let giveUpAt):
            object["state"] = "not-answering"
            object["silentSeconds"] = .integer(Int64(seconds))
            object["lastError"] = .string(lastError)
            object["giveUpAt"] = .string(Timestamp.format(giveUpAt))
        case .answeringAgain(let seconds):
            object["state"] = "answering"
            object["silentSeconds"] = .integer(Int64(seconds))
        }
        return JSONValue.object(object).text
    }
}

extension ConnectwareAPIError {
    /// The failure of one poll in a few words, for a wait's lines.
    var shortText: String {
        switch self {
        case .transport(let message): message
        case .serverError(let status, let message): "HTTP \(status): \(message)"
        case .busy(let status, let message): "HTTP \(status): \(message)"
        case .unexpectedStatus(let status, _, let message): "HTTP \(status): \(message)"
        default: "\(self)"
        }
    }
}
