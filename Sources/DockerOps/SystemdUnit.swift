#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Vocabulary

/// The systemd unit that runs Connectware on hosts installed with the installer's `-S`
/// (`/etc/systemd/system/connectware.service`: `Type=oneshot`, `EnvironmentFile=DIR/.env`,
/// `ExecStart=<compose> up -d`, `ExecStop=<compose> down`). Where it exists, Connectware is
/// stopped and started through `systemctl`, and the vendor's installer restarts it itself.
public struct SystemdUnit: Sendable, Codable, Equatable {
    /// The unit file's path.
    public var path: String
    /// The unit's name for `systemctl` (`connectware` for `connectware.service`).
    public var name: String
    public var type: String?
    public var environmentFile: String?
    public var execStart: String?
    public var execStop: String?
    public var workingDirectory: String?

    /// The unit's settings, read from its text; later lines win, as systemd reads them.
    public init(path: String, text: String) {
        self.path = path
        var base = lastPathComponent(path)
        if base.hasSuffix(".service") { base = String(base.dropLast(".service".count)) }
        name = base
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingBlanks
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), let equals = trimmed.firstIndex(of: "=") else {
                continue
            }
            let key = trimmed[..<equals].trimmingBlanks
            let value = trimmed[trimmed.index(after: equals)...].trimmingBlanks
            switch key {
            case "Type": type = value
            // A leading `-` only tells systemd to ignore a missing file.
            case "EnvironmentFile": environmentFile = value.hasPrefix("-") ? String(value.dropFirst()) : value
            case "ExecStart": execStart = value
            case "ExecStop": execStop = value
            case "WorkingDirectory": workingDirectory = value
            default: continue
            }
        }
    }
}

/// Where cwmigrate looks for the unit, and the `systemctl` it runs: the defaults of a
/// systemd host, changed by `CWMIGRATE_SYSTEMD_UNIT` and `CWMIGRATE_SYSTEMCTL` (a host
/// without systemd, a test with a stand-in).
public enum SystemdSettings {
    public static let defaultUnitPath = "/etc/systemd/system/connectware.service"
    public static let unitVariable = "CWMIGRATE_SYSTEMD_UNIT"
    public static let systemctlVariable = "CWMIGRATE_SYSTEMCTL"

    /// The unit file to look at in `environment`.
    public static func unitPath(_ environment: [String: String]) -> String {
        environment[unitVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultUnitPath
    }

    /// The `systemctl` command of `environment` (words split at spaces).
    public static func systemctl(_ environment: [String: String]) -> [String] {
        let chosen = environment[systemctlVariable].flatMap { $0.isEmpty ? nil : $0 } ?? "systemctl"
        return chosen.split(separator: " ").map(String.init)
    }

    /// The unit at `path` when its file exists and can be read; nil otherwise.
    public static func unit(at path: String) -> SystemdUnit? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return SystemdUnit(path: path, text: String(decoding: data, as: UTF8.self))
    }
}

extension ConnectwareHost {
    /// The unit file cwmigrate looks at.
    public var systemdUnitPath: String { SystemdSettings.unitPath(environment) }

    /// The Connectware unit when its file exists and can be read; nil otherwise.
    public func systemdUnit() -> SystemdUnit? { SystemdSettings.unit(at: systemdUnitPath) }

    /// `systemctl VERB UNIT`, with the environment of cwmigrate's other children.
    func systemctl(_ verb: String, _ unit: SystemdUnit) throws(DockerOpsError) {
        _ = try runProgram(SystemdSettings.systemctl(environment) + [verb, unit.name], in: nil)
    }
}
