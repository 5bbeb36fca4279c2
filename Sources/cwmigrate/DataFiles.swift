import Foundation

/// Where cwmigrate finds its bundled data (`playbooks/`) and keeps what it learns.
enum DataFiles {
    /// The bundled playbooks directory: `CWMIGRATE_DATA_DIR` (holding `playbooks/` or
    /// being it), then `<dir of executable>/../share/cwmigrate/playbooks`, then the first
    /// directory above the executable's real path that holds `playbooks/compat.yml`
    /// (so `.build/debug/cwmigrate` finds the repository's copy).
    static func playbooksDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(DataFilesError) -> URL
    {
        var searched: [String] = []
        let fm = FileManager.default
        func holdsCompat(_ dir: URL) -> Bool {
            if !searched.contains(dir.path) { searched.append(dir.path) }
            return fm.fileExists(atPath: dir.appendingPathComponent("compat.yml").path)
        }
        if let override = environment["CWMIGRATE_DATA_DIR"], !override.isEmpty {
            let base = URL(fileURLWithPath: override)
            for dir in [base.appendingPathComponent("playbooks"), base] where holdsCompat(dir) {
                return dir.standardizedFileURL
            }
            throw .notFound(searched: searched, fromEnvironment: true)
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
        throw .notFound(searched: searched, fromEnvironment: false)
    }

    /// The compat file `cwmigrate restore` writes what a server refusal taught:
    /// `$XDG_STATE_HOME/cwmigrate/learned-compat.yml`, else `~/.local/state/cwmigrate/…`.
    static func learnedCompatFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
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

/// The bundled data directory cannot be found.
enum DataFilesError: Error, OperatorFacing {
    case notFound(searched: [String], fromEnvironment: Bool)

    var failure: Failure {
        switch self {
        case .notFound(let searched, let fromEnvironment):
            Failure(
                message: "cannot find cwmigrate's playbooks directory (looked in \(searched.joined(separator: ", ")))",
                hint: fromEnvironment
                    ? "CWMIGRATE_DATA_DIR must name a directory holding playbooks/compat.yml"
                    : "set CWMIGRATE_DATA_DIR to the directory holding playbooks/, or install them to <prefix>/share/cwmigrate/playbooks",
                exitCode: ExitStatus.noInput)
        }
    }
}
