import Foundation

extension Plan {
    /// The plan for a person: decision, reason, then numbered steps with their commands
    /// indented; destructive steps marked. Colour only when `color` is true.
    public func renderText(color: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = "Decision: \(paint(decision, decision == "direct-restore" ? "32" : "33;1"))\n"
        out += "Backup version: \(backupVersion)\n"
        out += "Running version: \(runningVersion)\n"
        out += "Restore on: \(restoreVersion.map(\.description) ?? "unknown until the server answers")\n"
        if upgradePath.count > 1 || (decision == "downgrade-required" && !upgradePath.isEmpty) {
            out += "Upgrade path: \(upgradePath.map(\.description).joined(separator: " -> "))\n"
        }
        out +=
            "Installation: \(installation.rawValue) (\(installStrategy.rawValue)); volumes to remove: \(volumes.joined(separator: ", "))\n"
        out += "Why: \(reason)\n"
        if let refusalMessage { out += "Server said: \(refusalMessage)\n" }
        out += "\n"
        for (index, step) in steps.enumerated() {
            var heading = "\(index + 1). \(step.title) [\(step.id)]"
            if step.destructive { heading += " " + paint("[DESTROYS DATA]", "31;1") }
            out += (color ? paint(heading, "1") : heading) + "\n"
            func section(_ name: String, _ lines: [String]) {
                guard !lines.isEmpty else { return }
                out += "   \(name):\n"
                for line in lines { out += "     \(line)\n" }
            }
            section("check first", step.preconditions)
            section("run", step.commands)
            section("verify", step.verification)
            section("undo", step.undo)
        }
        return String(out.dropLast())
    }

    /// The plan as one JSON object with sorted keys; `Plan` decodes it back.
    public func renderJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding a value made only of strings, numbers and arrays cannot fail.
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
