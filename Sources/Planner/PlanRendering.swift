#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Plan {
    /// The plan for a person: decision, reason, then numbered steps with their commands
    /// indented; destructive steps marked. Colour only when `color` is true.
    public func renderText(color: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = "Decision: \(paint(decision.rawValue, decision == .directRestore ? "32" : "33;1"))\n"
        out += "Backup version: \(backupVersion)"
        if partialRead { out += " (read from the archive's metadata only, --quick: the archive was not verified)" }
        out += "\n"
        out += "Running version: \(runningVersion)\n"
        out += "Restore on: \(restoreOnText)\n"
        if upgradePath.count > 1 || (decision == .downgradeRequired && !upgradePath.isEmpty) {
            out += "Upgrade path: \(upgradePath.map(\.description).joined(separator: " -> "))\n"
        }
        // The install strategy only says something for Compose, where an older version is installed.
        let strategy = installation == .dockerCompose ? " (\(installStrategy.rawValue))" : ""
        let removed = steps.contains { $0.id == .removeVolumes } ? volumes.joined(separator: ", ") : "none"
        out += "Installation: \(installation.rawValue)\(strategy); volumes to remove: \(removed)\n"
        out += "Why: \(reason)\n"
        if let refusalMessage { out += "Server said: \(refusalMessage)\n" }
        if !facts.isEmpty {
            out += "Facts:\n"
            for fact in facts {
                out += "  - \(fact.statement) [\(fact.source.text)]\(fact.overruled ? " (overruled)" : "")\n"
            }
        }
        if !disagreements.isEmpty {
            out += "Disagreements:\n"
            for disagreement in disagreements { out += "  - \(disagreement.text)\n" }
        }
        if partialRead {
            out +=
                "Made on a partial read: run without --quick to verify the whole archive before acting on this plan.\n"
        }
        if steps.isEmpty {
            out += "\nNo plan: nothing can be carried out (see Why)."
            return out
        }
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

    /// Where the backup is restored, in words.
    var restoreOnText: String {
        if steps.isEmpty { return "nowhere: there is no plan" }
        if let restoreVersion {
            return decision == .upgradeFirst ? "\(restoreVersion), after upgrading to it" : restoreVersion.description
        }
        return "\(runningVersion), the running version, if it accepts the backup (unknown until it answers)"
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
