import ArchiveInspect
import ConnectwareAPI
import DockerOps
import Foundation
import HTTP
import Planner

#if canImport(Glibc)
    import Glibc
#endif

/// One check of `migrate --precheck-only`: its name, pass, fail or skip (when what it
/// needs failed), and one line saying what was found.
public struct CheckResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case pass, fail, skip }

    public var name: String
    public var status: Status
    public var detail: String

    public init(_ name: String, _ status: Status, _ detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }
}

/// The checks a migration needs to pass before it changes anything; none of them changes
/// the installation, Connectware, or the state directory.
public enum Prechecks {
    /// The backup file inspected and read to its end.
    public static func backupFile(_ path: String, assumedVersion: Version?) -> (CheckResult, ArchiveFacts?) {
        do {
            let facts = try inspectBackup(
                at: path, options: InspectOptions(verify: true, assumedVersion: assumedVersion))
            let id = facts.backupID.map { ", id \($0)" } ?? ", no backup id"
            return (
                CheckResult(
                    "backup file", .pass,
                    "\(path): Connectware \(facts.version)\(id), verified to its end (SHA-256 \(facts.sha256 ?? "unknown"))"
                ), facts
            )
        } catch {
            return (CheckResult("backup file", .fail, error.operatorText), nil)
        }
    }

    /// The Docker Engine answers on its socket.
    public static func docker(environment: [String: String]) -> (CheckResult, ConnectwareHost?) {
        do {
            let host = try ConnectwareHost(environment: environment)
            return (
                CheckResult(
                    "docker", .pass,
                    "Engine \(host.engine.engineVersion) (API \(host.engine.apiVersion)) at \(host.engine.host.description)"
                ), host
            )
        } catch {
            return (CheckResult("docker", .fail, error.description), nil)
        }
    }

    /// Connectware's compose project is found, with one version on every image.
    public static func installation(_ host: ConnectwareHost?, project: String?) -> (CheckResult, Installation?) {
        guard let host else { return (CheckResult("installation", .skip, "needs Docker"), nil) }
        do {
            let found = try host.discover(project: project, includeSizes: true)
            guard let version = found.version else {
                let versions = found.imageVersions.keys.sorted().joined(separator: ", ")
                return (
                    CheckResult(
                        "installation", .fail,
                        "project \(found.project) runs mixed or unknown versions (\(versions.isEmpty ? "none" : versions))"
                    ),
                    found
                )
            }
            let running = found.containers.filter(\.isRunning).count
            return (
                CheckResult(
                    "installation", .pass,
                    "project \(found.project) in \(found.workingDirectory ?? "an unknown directory"), Connectware \(version), \(running) of \(found.containers.count) core containers running"
                ), found
            )
        } catch {
            return (CheckResult("installation", .fail, error.description), nil)
        }
    }

    /// The maintenance API answers with these credentials, and nothing runs there now.
    public static func api(_ client: MaintenanceClient) -> CheckResult {
        do {
            let status = try client.status()
            guard !status.running else {
                return CheckResult(
                    "connectware api", .fail,
                    "\(client.baseURL) answers, but a backup or restore is running now; wait for it (cwmigrate status)")
            }
            return CheckResult(
                "connectware api", .pass, "\(client.baseURL) answers and accepts the credentials; nothing is running")
        } catch {
            return CheckResult("connectware api", .fail, error.operatorText)
        }
    }

    /// Every version the plan installs can be installed with the plan's strategy.
    public static func installStrategy(
        _ host: ConnectwareHost, plan: Plan, installation: Installation, installerDirectory: String
    ) -> CheckResult {
        var versions: [Version] = []
        if plan.steps.contains(where: { $0.id == "install-older" }), let restore = plan.restoreVersion {
            versions.append(restore)
        }
        if plan.steps.contains(where: { $0.id == "upgrade" }) { versions += plan.upgradePath }
        guard !versions.isEmpty else {
            return CheckResult("install strategy", .pass, "the plan installs no other version")
        }
        guard let directory = installation.workingDirectory else {
            return CheckResult("install strategy", .fail, "the compose project's directory is unknown")
        }
        var found: [String] = []
        var problems: [String] = []
        for version in versions {
            let request = InstallRequest(
                version: version.description, strategy: plan.installStrategy, directory: directory,
                project: installation.project,
                installer: installerDirectory + "/\(version)/connectware-online-installer.sh")
            do {
                let check = try host.checkInstall(request)
                var text = "\(version): \(plan.installStrategy.rawValue) ready"
                if !check.imagesMissing.isEmpty { text += " (\(check.imagesMissing.count) images to obtain)" }
                found.append(text + check.warnings.map { "; note: \($0)" }.joined())
            } catch {
                problems.append("\(version): \(error.description)")
            }
        }
        return problems.isEmpty
            ? CheckResult("install strategy", .pass, found.joined(separator: "; "))
            : CheckResult("install strategy", .fail, problems.joined(separator: "; "))
    }

    /// Room in the state directory for the fresh backup, the re-backup (each judged by
    /// the size of the backup being restored) and the volume snapshots, plus a tenth.
    public static func freeDisk(
        _ store: JournalStore, plan: Plan, installation: Installation, backupBytes: Int64
    ) -> CheckResult {
        var parts: [String] = []
        var needed: Int64 = 0
        let backups = plan.steps.filter { $0.id == "fresh-backup" || $0.id == "re-backup" }.count
        if backups > 0 {
            needed += Int64(backups) * backupBytes
            parts.append("\(backups) backup\(backups == 1 ? "" : "s") of about \(formatBytes(backupBytes))")
        }
        if plan.steps.contains(where: { $0.id == "snapshot-volumes" }) {
            for name in plan.volumes {
                let volume = installation.volumes.first { $0.shortName == name }
                if let size = volume?.sizeBytes {
                    needed += size
                    parts.append("snapshot of \(volume?.name ?? name) \(formatBytes(size))")
                } else {
                    parts.append("snapshot of \(volume?.name ?? name) (size unknown)")
                }
            }
        }
        let required = needed + needed / 10
        guard let (place, free) = freeBytes(near: store.directory) else {
            return CheckResult("free disk", .fail, "cannot tell the free space at \(store.directory): \(systemError())")
        }
        let detail =
            "needs about \(formatBytes(required)) (\(parts.isEmpty ? "nothing" : parts.joined(separator: ", ")), plus a tenth); \(formatBytes(free)) free at \(place)"
        return CheckResult("free disk", free >= required ? .pass : .fail, detail)
    }

    /// The state directory can be written (or created, where it does not exist yet).
    public static func stateDirectory(_ store: JournalStore) -> CheckResult {
        var path = store.directory
        var exists = true
        while access(path, F_OK) != 0 {
            exists = false
            path = (path as NSString).deletingLastPathComponent
            if path.isEmpty { path = "/" }
        }
        guard access(path, W_OK | X_OK) == 0 else {
            return CheckResult("state directory", .fail, "\(path) is not writable for this user: \(systemError())")
        }
        return CheckResult(
            "state directory", .pass,
            exists ? "\(store.directory) is writable" : "\(store.directory) will be created in \(path)")
    }

    /// No other process holds the installation's lock.
    public static func lock(_ store: JournalStore, _ installation: InstallationRef) -> CheckResult {
        do {
            switch try RunLock.state(of: installation, in: store) {
            case .free: return CheckResult("lock", .pass, "no other run holds the lock of \(installation)")
            case .held(let holder):
                return CheckResult(
                    "lock", .fail,
                    "another run holds the lock of \(installation)" + (holder.map { " (\($0))" } ?? "")
                        + "; wait for it to end")
            }
        } catch {
            return CheckResult("lock", .fail, error.description)
        }
    }

    /// No earlier run against the installation was left unfinished.
    public static func unfinishedRuns(_ store: JournalStore, _ installation: InstallationRef) -> CheckResult {
        let runs: [Journal]
        do { runs = try store.list().runs } catch {
            return CheckResult("earlier runs", .fail, error.description)
        }
        let open = runs.filter { $0.installation.lockKey == installation.lockKey && !$0.outcome.isFinal }
        guard let last = open.last else {
            return CheckResult("earlier runs", .pass, "no unfinished run for \(installation) in \(store.directory)")
        }
        let at = last.currentStep.map { " at step \($0.position + 1) \($0.kind) (\($0.state.rawValue))" } ?? ""
        return CheckResult(
            "earlier runs", .fail,
            "run \(last.id) is unfinished (\(last.outcome.rawValue)\(at)): resume it, or end it with cwmigrate runs abandon \(last.id)"
        )
    }

    /// The nearest existing directory at or above `path`, and the bytes free there for this user.
    static func freeBytes(near path: String) -> (String, Int64)? {
        var place = path
        while access(place, F_OK) != 0 {
            place = (place as NSString).deletingLastPathComponent
            if place.isEmpty { place = "/" }
        }
        var info = statvfs()
        guard statvfs(place, &info) == 0 else { return nil }
        return (place, Int64(info.f_bavail) * Int64(info.f_frsize))
    }
}

extension InstallationRef {
    /// A compose installation as DockerOps found it.
    public init(_ installation: Installation) {
        self.init(kind: .dockerCompose, name: installation.project, directory: installation.workingDirectory)
    }
}
