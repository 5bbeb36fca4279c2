import Application
import ArgumentParser
import ConnectwareAPI
import Planner

/// `cwmigrate status`: the last backup and restore, readable at a glance.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show Connectware's last backup and restore, and whether one is running.")

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var jsonFlag: JSONFlag
    var json: Bool { jsonFlag.json }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try guarded(global) { terminal in
            let client = try connection.client(terminal)
            let status = try client.status()
            if json {
                terminal.out(StatusReport.json(url: client.baseURL, status: status))
            } else {
                terminal.out("Connectware: \(client.baseURL)")
                terminal.out("Now:          \(status.running ? "a backup or restore is running" : "idle")")
                terminal.out("Last backup:  \(Self.describe(status.backup, running: status.runningOperation == .backup))")
                terminal.out(
                    "Last restore: \(Self.describe(status.restore, running: status.runningOperation == .restore))")
            }
            return ExitStatus.ok
        }
    }

    /// `running` when the status says this operation runs now: a server may send `succeded:
    /// false` for it until it ends, which is not a failure.
    static func describe(_ operation: MaintenanceStatus.Operation?, running: Bool) -> String {
        guard let operation else { return "never ran" }
        let outcome =
            switch (running, operation.succeeded) {
            case (true, _), (false, nil): "running"
            case (false, true?): "succeeded"
            case (false, false?): "FAILED"
            }
        var parts = [outcome]
        if let id = operation.id { parts.append(id) }
        if let start = operation.startDateText {
            var when = "started \(start)"
            if let begin = operation.startDate, let end = operation.endDate {
                when += cFormat(", took %.1f s", end.timeIntervalSince(begin))
            }
            parts.append(when)
        }
        var line = parts.joined(separator: "  ")
        if let message = operation.statusMessage, !message.isEmpty { line += "\n              \(message)" }
        return line
    }
}

/// The JSON form of `cwmigrate status` (schema in the README); absent values are null.
enum StatusReport {
    static func json(url: String, status: MaintenanceStatus) -> String {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func operation(_ record: MaintenanceStatus.Operation?, _ kind: MaintenanceOperation) -> JSONValue {
            guard let record else { return .null }
            let running = status.runningOperation == kind
            return [
                "running": .bool(running), "succeeded": running ? .null : record.succeeded.map(JSONValue.bool) ?? .null,
                "id": text(record.id), "version": text(record.backupID?.version.description),
                "statusMessage": text(record.statusMessage), "startDate": text(record.startDateText),
                "endDate": text(record.endDateText),
            ]
        }
        let object: JSONValue = [
            "url": .string(url), "running": .bool(status.running), "backup": operation(status.backup, .backup),
            "restore": operation(status.restore, .restore),
        ]
        return object.text
    }
}
