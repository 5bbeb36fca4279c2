import Foundation
import Migration
import Planner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Plans, journals and state directories made from the package's own data files.
enum Fixtures {
    static func version(_ text: String) -> Version { Version.parse(text)! }

    /// The bundled playbook's plan, with the example barrier, for a 1.0.73 backup on 1.8.0: a downgrade to 1.7.3.
    static func downgradePlan(backup: String = "1.0.73", running: String = "1.8.0") throws -> Plan {
        let root = TestSupport.packageRoot.appendingPathComponent("playbooks")
        let playbook = try Playbook(
            yaml: String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8),
            source: "docker-compose.yml")
        let knowledge = try CompatibilityKnowledge(
            yaml: String(contentsOfFile: TestSupport.exampleCompat, encoding: .utf8), source: "compat-example.yml")
        return makePlan(backup: version(backup), running: version(running), knowledge: knowledge, playbook: playbook)
    }

    static let installation = InstallationRef(name: "connectware", directory: "/opt/connectware")

    static func journal(
        plan: Plan? = nil, installation: InstallationRef = installation,
        at date: Date = Date(timeIntervalSince1970: 1_795_000_000),
        backupID: String? = "1.0.73_2022-02-16T15:37:19.242Z"
    ) throws -> Journal {
        let plan = try plan ?? downgradePlan()
        return Journal(
            id: Journal.makeID(at: date), createdAt: date, installation: installation,
            backup: BackupRecord(
                path: "/var/backups/connectware-1.0.73.tgz", version: plan.backupVersion,
                id: backupID.flatMap { BackupID($0) }, sha256: String(repeating: "ab", count: 32)),
            plan: plan)
    }

    /// A fresh, empty state directory (the store creates what it needs below it).
    static func store() throws -> JournalStore {
        JournalStore(directory: try TestSupport.temporaryDirectory("cwmigrate-state").path + "/state")
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0xFFFF
    }

    static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }
}

/// A clock that moves one second on each reading, so each transition has its own time.
final class SteppingClock: @unchecked Sendable {
    private(set) var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { current = start }
    func now() -> Date {
        current += 1
        return current
    }
}
