import ArgumentParser
import ConnectwareAPI
import Foundation

/// `cwmigrate status`: the last backup and restore, readable at a glance.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show Connectware's last backup and restore, and whether one is running.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    func run() throws {
        try guarded { terminal in
            let client = try connection.client(terminal)
            let status = try client.status()
            if json {
                terminal.out(StatusReport(url: client.baseURL, status: status).json())
            } else {
                terminal.out("Connectware: \(client.baseURL)")
                terminal.out("Now:          \(status.running ? "a backup or restore is running" : "idle")")
                terminal.out("Last backup:  \(Self.describe(status.backup))")
                terminal.out("Last restore: \(Self.describe(status.restore))")
            }
            return ExitStatus.ok
        }
    }

    static func describe(_ operation: MaintenanceStatus.Operation?) -> String {
        guard let operation else { return "never ran" }
        let outcome =
            switch operation.succeeded {
            case true?: "succeeded"
            case false?: "FAILED"
            case nil: "running"
            }
        var parts = [outcome]
        if let id = operation.id { parts.append(id) }
        if let start = operation.startDateText {
            var when = "started \(start)"
            if let begin = operation.startDate, let end = operation.endDate {
                when += String(format: ", took %.1f s", end.timeIntervalSince(begin))
            }
            parts.append(when)
        }
        var line = parts.joined(separator: "  ")
        if let message = operation.statusMessage, !message.isEmpty { line += "\n              \(message)" }
        return line
    }
}

/// The JSON form of `cwmigrate status` (schema in the README).
struct StatusReport: Encodable {
    struct Operation: Encodable {
        let succeeded: Bool?
        let id: String?
        let version: String?
        let statusMessage: String?
        let startDate: String?
        let endDate: String?

        init?(_ operation: MaintenanceStatus.Operation?) {
            guard let operation else { return nil }
            succeeded = operation.succeeded
            id = operation.id
            version = operation.backupID?.version.description
            statusMessage = operation.statusMessage
            startDate = operation.startDateText
            endDate = operation.endDateText
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(succeeded, forKey: .succeeded)
            try c.encode(id, forKey: .id)
            try c.encode(version, forKey: .version)
            try c.encode(statusMessage, forKey: .statusMessage)
            try c.encode(startDate, forKey: .startDate)
            try c.encode(endDate, forKey: .endDate)
        }

        enum CodingKeys: String, CodingKey { case succeeded, id, version, statusMessage, startDate, endDate }
    }

    let url: String
    let running: Bool
    let backup: Operation?
    let restore: Operation?

    init(url: String, status: MaintenanceStatus) {
        self.url = url
        running = status.running
        backup = Operation(status.backup)
        restore = Operation(status.restore)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(url, forKey: .url)
        try c.encode(running, forKey: .running)
        try c.encode(backup, forKey: .backup)
        try c.encode(restore, forKey: .restore)
    }

    enum CodingKeys: String, CodingKey { case url, running, backup, restore }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
