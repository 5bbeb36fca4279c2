#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

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
        if let invoked = invokedExecutable() { locations.append(URL(fileURLWithPath: invoked).standardizedFileURL) }
        if let real = ownExecutable() {
            locations.append(URL(fileURLWithPath: real))
        } else if let invoked = locations.first {
            locations.append(invoked.resolvingSymlinksInPath())
        }
        return locations
    }

    /// The executable now running, its symbolic links resolved (`/proc/self/exe`); nil when unknown.
    public static func ownExecutable() -> String? {
        let real = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return real == "/proc/self/exe" ? nil : real
    }

    /// The program's path as it was started: `argv[0]` when it names a path, else the first
    /// executable of that name on `PATH` (a shell found it there); nil when neither is known.
    private static func invokedExecutable() -> String? {
        guard let name = CommandLine.arguments.first, !name.isEmpty else { return nil }
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
