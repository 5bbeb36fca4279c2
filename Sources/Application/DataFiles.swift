import Foundation

/// Where cwmigrate finds its bundled data (`playbooks/`) and keeps what it learns.
public enum DataFiles {
    /// The bundled playbooks directory: `--playbooks DIR` (`explicit`), then
    /// `CWMIGRATE_DATA_DIR` (each holding `playbooks/` or being it), then `<dir of executable>/../share/cwmigrate/playbooks`, then the first
    /// directory above the executable's real path that holds `playbooks/compat.yml`
    /// (so `.build/debug/cwmigrate` finds the repository's copy).
    public static func playbooksDirectory(
        explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KnowledgeError) -> URL {
        var searched: [String] = []
        let fm = FileManager.default
        func holdsCompat(_ dir: URL) -> Bool {
            if !searched.contains(dir.path) { searched.append(dir.path) }
            return fm.fileExists(atPath: dir.appendingPathComponent("compat.yml").path)
        }
        if let explicit {
            let base = URL(fileURLWithPath: explicit)
            for dir in [base, base.appendingPathComponent("playbooks")] where holdsCompat(dir) {
                return dir.standardizedFileURL
            }
            throw .dataDirectoryNotFound(searched: searched, given: "--playbooks")
        }
        if let override = environment["CWMIGRATE_DATA_DIR"], !override.isEmpty {
            let base = URL(fileURLWithPath: override)
            for dir in [base.appendingPathComponent("playbooks"), base] where holdsCompat(dir) {
                return dir.standardizedFileURL
            }
            throw .dataDirectoryNotFound(searched: searched, given: "CWMIGRATE_DATA_DIR")
        }
        for executable in executableLocations() {
            let share = executable.deletingLastPathComponent()
                .appendingPathComponent("../share/cwmigrate/playbooks").standardizedFileURL
            if holdsCompat(share) { return share }
        }
        if let real = executableLocations().last {
            var dir = real.deletingLastPathComponent()
            while dir.path != "/" {
                let candidate = dir.appendingPathComponent("playbooks")
                if fm.fileExists(atPath: candidate.appendingPathComponent("compat.yml").path) { return candidate }
                dir.deleteLastPathComponent()
            }
            searched.append("every directory above \(real.deletingLastPathComponent().path)")
        }
        throw .dataDirectoryNotFound(searched: searched, given: nil)
    }

    /// The compat file `cwmigrate restore` writes what a server refusal taught:
    /// `$XDG_STATE_HOME/cwmigrate/learned-compat.yml`, else `~/.local/state/cwmigrate/…`.
    public static func learnedCompatFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let state: URL
        if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            state = URL(fileURLWithPath: xdg)
        } else if let home = environment["HOME"], !home.isEmpty {
            state = URL(fileURLWithPath: home).appendingPathComponent(".local/state")
        } else {
            return nil
        }
        return state.appendingPathComponent("cwmigrate/learned-compat.yml")
    }

    /// The executable as invoked (a symlink in a bin directory) and as it really is.
    private static func executableLocations() -> [URL] {
        var locations: [URL] = []
        if let invoked = Bundle.main.executableURL { locations.append(invoked.standardizedFileURL) }
        let real = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if real.path != "/proc/self/exe" {
            locations.append(real)
        } else if let invoked = locations.first {
            locations.append(invoked.resolvingSymlinksInPath())
        }
        return locations
    }
}
