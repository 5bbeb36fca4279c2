#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Planner

/// What `GET /api/maintenance/db` says: whether an operation runs, and the last
/// backup and restore. A missing object means that operation never ran.
public struct MaintenanceStatus: Sendable, Equatable {
    public var running: Bool
    public var backup: Operation?
    public var restore: Operation?

    /// One backup or restore as the server reports it. Every field may be absent or null.
    public struct Operation: Sendable, Equatable {
        /// From `succeded` (the real server's spelling) or `succeeded`.
        public var succeeded: Bool?
        public var id: String?
        public var statusMessage: String?
        public var startDate: Date?
        public var endDate: Date?
        /// The dates as sent, for showing and for comparing without clock arithmetic.
        public var startDateText: String?
        public var endDateText: String?

        public init(
            succeeded: Bool? = nil, id: String? = nil, statusMessage: String? = nil,
            startDateText: String? = nil, endDateText: String? = nil
        ) {
            self.succeeded = succeeded
            self.id = id
            self.statusMessage = statusMessage
            self.startDateText = startDateText
            self.endDateText = endDateText
            self.startDate = startDateText.flatMap(MaintenanceStatus.parseDate)
            self.endDate = endDateText.flatMap(MaintenanceStatus.parseDate)
        }

        /// The id parsed as `<version>_<timestamp>`, when it has that form.
        public var backupID: BackupID? { id.flatMap { BackupID($0) } }
    }

    /// The operation that runs now, when `running` says one does: the record without an end
    /// date (a server may send `succeded: false` for it before it ends, which is no failure),
    /// the later started of two. Nil when nothing runs or no record tells which one it is.
    public var runningOperation: MaintenanceOperation? {
        guard running else { return nil }
        let open = [(MaintenanceOperation.backup, backup), (.restore, restore)].compactMap {
            kind, record -> (MaintenanceOperation, Operation)? in
            guard let record, record.endDateText == nil else { return nil }
            return (kind, record)
        }
        guard let first = open.first else { return nil }
        guard open.count == 2 else { return first.0 }
        let (backupStart, restoreStart) = (open[0].1.startDate ?? .distantPast, open[1].1.startDate ?? .distantPast)
        return restoreStart > backupStart ? .restore : .backup
    }

    /// The record of `operation`.
    public subscript(operation: MaintenanceOperation) -> Operation? {
        operation == .backup ? backup : restore
    }

    /// What the status says in one line: what runs and since when, else that nothing runs.
    public var summary: String {
        if let kind = runningOperation, let record = self[kind] {
            return "a \(kind.rawValue)" + (record.id.map { " (\($0))" } ?? "") + " is running"
                + (record.startDateText.map { " since \($0)" } ?? "")
        }
        if running { return "a backup or restore is running" }
        return "nothing is running"
    }

    public init(running: Bool, backup: Operation? = nil, restore: Operation? = nil) {
        self.running = running
        self.backup = backup
        self.restore = restore
    }

    /// Decodes a status body; unknown keys are ignored, a body that is not a JSON object
    /// is an error quoting its first line (a proxy's HTML error page, for instance).
    public init(body: [UInt8]) throws(ConnectwareAPIError) {
        guard let dict = (try? JSONValue(parsing: body))?.object else {
            throw .notJSON(firstLine: ServerMessage.firstLine(of: body))
        }
        switch dict["running"] {
        case .bool(let value): running = value
        case nil, .null: running = false
        default: throw .malformedStatus(reason: "\"running\" is not true or false")
        }
        backup = try Self.operation(dict["backup"], key: "backup")
        restore = try Self.operation(dict["restore"], key: "restore")
    }

    private static func operation(_ value: JSONValue?, key: String) throws(ConnectwareAPIError) -> Operation? {
        switch value {
        case nil, .null: return nil
        case .object(let dict):
            func text(_ k: String) -> String? { dict[k]?.string ?? dict[k]?.numberText }
            let succeeded = dict["succeded"]?.bool ?? dict["succeeded"]?.bool
            return Operation(
                succeeded: succeeded, id: text("id"), statusMessage: text("statusMessage"),
                startDateText: text("startDate"), endDateText: text("endDate"))
        default:
            throw .malformedStatus(reason: "\"\(key)\" is not an object")
        }
    }

    /// ISO-8601 as Connectware sends it, read by hand (`Timestamp`): ICU behind
    /// ISO8601DateFormatter crashed on a date a fuzzer made.
    static func parseDate(_ text: String) -> Date? { Timestamp.parse(text) }
}

/// Pulls the human message out of an error body: a JSON `message`/`error`/`statusMessage`
/// field, else the first line of the text.
enum ServerMessage {
    static func from(_ body: [UInt8]) -> String {
        if let object = (try? JSONValue(parsing: body))?.object {
            for key in ["message", "error", "statusMessage", "detail"] {
                if let text = object[key]?.string, !text.isEmpty { return text }
            }
        }
        return firstLine(of: body)
    }

    static func firstLine(of body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let trimmed = line.trimmingBlanks
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 200 ? String(trimmed.prefix(200)) + "…" : trimmed
    }
}
