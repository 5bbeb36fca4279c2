import Foundation
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

    public init(running: Bool, backup: Operation? = nil, restore: Operation? = nil) {
        self.running = running
        self.backup = backup
        self.restore = restore
    }

    /// Decodes a status body; unknown keys are ignored, a body that is not a JSON object
    /// is an error quoting its first line (a proxy's HTML error page, for instance).
    public init(body: [UInt8]) throws(ConnectwareAPIError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw .notJSON(firstLine: ServerMessage.firstLine(of: body))
        }
        guard let dict = object as? [String: Any] else {
            throw .notJSON(firstLine: ServerMessage.firstLine(of: body))
        }
        switch dict["running"] {
        case let value as Bool: running = value
        case nil, is NSNull: running = false
        default: throw .malformedStatus(reason: "\"running\" is not true or false")
        }
        backup = try Self.operation(dict["backup"], key: "backup")
        restore = try Self.operation(dict["restore"], key: "restore")
    }

    private static func operation(_ value: Any?, key: String) throws(ConnectwareAPIError) -> Operation? {
        switch value {
        case nil, is NSNull: return nil
        case let dict as [String: Any]:
            func text(_ k: String) -> String? {
                switch dict[k] {
                case let s as String: return s
                case let n as NSNumber: return n.stringValue
                default: return nil
                }
            }
            let succeeded = (dict["succeded"] as? Bool) ?? (dict["succeeded"] as? Bool)
            return Operation(
                succeeded: succeeded, id: text("id"), statusMessage: text("statusMessage"),
                startDateText: text("startDate"), endDateText: text("endDate"))
        default:
            throw .malformedStatus(reason: "\"\(key)\" is not an object")
        }
    }

    /// ISO-8601 as Connectware sends it: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z`
    /// or `±HH:MM`. Parsed by hand: Foundation's ISO8601DateFormatter hands the text to
    /// ICU, which crashed (SIGFPE) on a date a fuzzer made, and a server's answer must
    /// never be able to crash cwmigrate.
    static func parseDate(_ text: String) -> Date? {
        let c = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= c.count else { return nil }
            var value = 0
            for byte in c[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard c.count >= 20, let year = number(0..<4), c[4] == 45, let month = number(5..<7), c[7] == 45,
            let day = number(8..<10), c[10] == 84 || c[10] == 116, let hour = number(11..<13), c[13] == 58,
            let minute = number(14..<16), c[16] == 58, let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if c[index] == 46 {
            var scale = 0.1
            index += 1
            let start = index
            while index < c.count, c[index] >= 48, c[index] <= 57 {
                fraction += Double(c[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }
        guard index < c.count else { return nil }
        var offset = 0
        if c[index] == 90 || c[index] == 122 {
            index += 1
        } else if c[index] == 43 || c[index] == 45, let hours = number((index + 1)..<(index + 3)),
            index + 3 < c.count, c[index + 3] == 58, let minutes = number((index + 4)..<(index + 6)),
            hours < 24, minutes < 60
        {
            offset = (hours * 3600 + minutes * 60) * (c[index] == 45 ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == c.count else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146097 + dayOfEra - 719468
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}

/// Pulls the human message out of an error body: a JSON `message`/`error`/`statusMessage`
/// field, else the first line of the text.
enum ServerMessage {
    static func from(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            for key in ["message", "error", "statusMessage", "detail"] {
                if let text = object[key] as? String, !text.isEmpty { return text }
            }
        }
        return firstLine(of: body)
    }

    static func firstLine(of body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 200 ? String(trimmed.prefix(200)) + "…" : trimmed
    }
}
