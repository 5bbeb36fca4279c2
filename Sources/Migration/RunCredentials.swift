import ConnectwareAPI
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Planner

/// Where a run's secret comes from, in words that never hold the secret itself.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case environment(String)
    /// `CYBUS_INITIAL_ADMIN_USER_PASSWORD` of the installation's `.env`.
    case installationEnv(String)
    case sameAsProduction

    public var description: String {
        switch self {
        case .file(let path): "the file \(path)"
        case .environment(let name): "$\(name)"
        case .installationEnv(let path): "CYBUS_INITIAL_ADMIN_USER_PASSWORD in \(path)"
        case .sameAsProduction: "the production password"
        }
    }
}

/// A password a run will need, or why it is not known.
public struct RunSecret: Sendable {
    public var password: String?
    public var source: SecretSource?
    /// Why there is no password (nil when there is one).
    public var problem: String?

    public init(password: String?, source: SecretSource?, problem: String? = nil) {
        self.password = password
        self.source = source
        self.problem = problem
    }
}

/// The users Connectware knows change under a migration, because they live in the database
/// it replaces: the production admin until the volumes are removed, the initial admin of
/// `.env` from the fresh install of the older version until the restore has finished, and
/// the backup's admin (by default the production password) after it. `prepare` sets the
/// client's logins for each step; a refusal is said with the exact fix.
public final class RunCredentials {
    public let client: MaintenanceClient
    public let user: String
    public let production: RunSecret
    /// The initial admin's password for a fresh install of the given version (how `.env`
    /// is read depends on it; a plan made anew after a refusal may name another).
    public let initialFor: (Version?) -> RunSecret
    public let backup: RunSecret
    /// Log in for tokens (`--login`) rather than sending Basic credentials.
    public let tokens: Bool

    public init(
        client: MaintenanceClient, user: String, production: RunSecret, initialFor: @escaping (Version?) -> RunSecret,
        backup: RunSecret, tokens: Bool
    ) {
        self.client = client
        self.user = user
        self.production = production
        self.initialFor = initialFor
        self.backup = backup
        self.tokens = tokens
    }

    public static let productionRole = "the production admin password"
    public static let initialRole = "the initial admin password"
    public static let backupRole = "the backup's admin password"

    /// The phase of the database at step `position`: which logins Connectware can accept then.
    public enum Phase: Sendable, Equatable {
        /// The production database: nothing removed or restored yet.
        case production
        /// The volumes were removed, so a fresh install created only the initial admin.
        case initial
        /// The restore step: it starts on the database before it and ends on the backup's.
        indirect case restoring(from: Phase)
        /// The backup's database: the restore has finished.
        case backup
    }

    public static func phase(_ plan: Plan, position: Int) -> Phase {
        let kinds = plan.steps.map(\.id)
        let removed = kinds.firstIndex(of: .removeVolumes).map { $0 < position } ?? false
        let before: Phase = removed ? .initial : .production
        guard let restore = kinds.firstIndex(of: .restore) else { return before }
        if position == restore { return .restoring(from: before) }
        return position > restore ? .backup : before
    }

    /// Whether the plan will need the initial admin's password: it removes the volumes and
    /// calls Connectware afterwards (every plan that does restores there).
    public static func needsInitial(_ plan: Plan) -> Bool {
        let kinds = plan.steps.map(\.id)
        guard let removed = kinds.firstIndex(of: .removeVolumes) else { return false }
        return kinds.count > removed + 1
    }

    public static func needsBackup(_ plan: Plan) -> Bool {
        plan.steps.contains { $0.id == .restore }
    }

    /// Sets the client's logins for the step at `position` (a token is obtained afresh).
    public func prepare(_ journal: Journal, position: Int) {
        client.useLogins(
            logins(for: Self.phase(journal.plan, position: position), plan: journal.plan), tokens: tokens)
    }

    func logins(for phase: Phase, plan: Plan) -> [Login] {
        let initial = Self.needsInitial(plan) ? initialFor(plan.restoreVersion) : RunSecret(password: nil, source: nil)
        func login(_ secret: RunSecret, _ role: String) -> [Login] {
            secret.password.map { [Login(user: user, password: $0, role: role)] } ?? []
        }
        switch phase {
        case .production: return login(production, Self.productionRole)
        case .initial: return login(initial, Self.initialRole)
        case .restoring(let from):
            let first = from == .initial ? login(initial, Self.initialRole) : login(production, Self.productionRole)
            let after = login(backup, Self.backupRole)
            return first + after.filter { candidate in !first.contains { $0.password == candidate.password } }
        case .backup: return login(backup, Self.backupRole)
        }
    }

    /// The precheck `credentials`: every password the plan will need is known (the initial
    /// admin's read and decoded), without showing any of them.
    public func check(_ plan: Plan) -> CheckResult {
        var known: [String] = []
        var missing: [String] = []
        func look(_ secret: RunSecret, _ role: String) {
            if secret.password != nil {
                known.append("\(role) from \(secret.source?.description ?? "the options")")
            } else {
                missing.append("\(role): \(secret.problem ?? "not given")")
            }
        }
        if production.password != nil || !tokens { look(production, Self.productionRole) }
        if Self.needsInitial(plan) { look(initialFor(plan.restoreVersion), Self.initialRole) }
        if Self.needsBackup(plan) { look(backup, Self.backupRole) }
        guard missing.isEmpty else { return CheckResult("credentials", .fail, missing.joined(separator: "; ")) }
        return CheckResult("credentials", .pass, known.joined(separator: "; "))
    }

    /// The logins Connectware refused in the step just run, when a refusal stopped it.
    public var refusal: [Login]? { client.refused }

    /// How to give the right password for the last of `refused` (the one the database should
    /// accept by then), in the options' words.
    public func fix(for refused: [Login], plan: Plan) -> String {
        switch refused.last?.role {
        case Self.initialRole?:
            let version = plan.restoreVersion.map { "Connectware \($0)" } ?? "the older version"
            return "the fresh install of \(version) has only the initial admin, whose password comes from CYBUS_INITIAL_ADMIN_USER_PASSWORD in the installation's .env (used: \(initialFor(plan.restoreVersion).source?.description ?? "none")); put the right password in a file and give it with --initial-password-file FILE (or CWMIGRATE_INITIAL_PASSWORD)"
        case Self.backupRole?:
            return "after the restore the users are the backup's, so the admin password is the one valid when the backup was made (used: \(backup.source?.description ?? "none")); give it with --backup-password-file FILE (or CWMIGRATE_BACKUP_PASSWORD)"
        default:
            return "give the production admin password with CWMIGRATE_PASSWORD or --password-file FILE"
        }
    }

    // MARK: - Reading the secrets

    /// The initial admin's password: from a file or environment variable the operator names,
    /// else from `CYBUS_INITIAL_ADMIN_USER_PASSWORD` in `directory/.env`, Base64-decoded for
    /// Connectware 1.0.80 and later (`installed`, the version whose fresh install reads it).
    public static func initialSecret(
        file: String?, environment: [String: String], directory: String?, installed: Version?
    ) -> RunSecret {
        if let file { return readFile(file) }
        if let value = environment["CWMIGRATE_INITIAL_PASSWORD"], !value.isEmpty {
            return RunSecret(password: value, source: .environment("CWMIGRATE_INITIAL_PASSWORD"))
        }
        guard let directory else {
            return RunSecret(password: nil, source: nil, problem: "the installation's directory is not known")
        }
        let path = directory + "/.env"
        guard let data = FileManager.default.contents(atPath: path) else {
            return RunSecret(
                password: nil, source: nil,
                problem:
                    "\(path) cannot be read; give the initial admin password with --initial-password-file FILE or CWMIGRATE_INITIAL_PASSWORD"
            )
        }
        let settings = envSettings(String(decoding: data, as: UTF8.self))
        if settings["CYBUS_ADMIN_USER_ENABLED"]?.lowercased() == "false" {
            return RunSecret(
                password: nil, source: nil,
                problem: "CYBUS_ADMIN_USER_ENABLED=false in \(path): a fresh install would have no admin to log in as")
        }
        guard let value = settings["CYBUS_INITIAL_ADMIN_USER_PASSWORD"], !value.isEmpty else {
            return RunSecret(
                password: nil, source: nil,
                problem:
                    "\(path) has no CYBUS_INITIAL_ADMIN_USER_PASSWORD; give the initial admin password with --initial-password-file FILE or CWMIGRATE_INITIAL_PASSWORD"
            )
        }
        guard let installed, installed < Version(major: 1, minor: 0, patch: 80) else {
            guard let decoded = Data(base64Encoded: value), let text = String(data: decoded, encoding: .utf8),
                !text.isEmpty
            else {
                return RunSecret(
                    password: nil, source: nil,
                    problem:
                        "CYBUS_INITIAL_ADMIN_USER_PASSWORD in \(path) is not Base64, as Connectware \(installed.map(\.description) ?? "1.0.80 and later") reads it; correct it there, or give the password with --initial-password-file FILE"
                )
            }
            return RunSecret(password: text, source: .installationEnv(path))
        }
        return RunSecret(password: value, source: .installationEnv(path))
    }

    /// The backup's admin password: a file or `CWMIGRATE_BACKUP_PASSWORD`, else the production one.
    public static func backupSecret(file: String?, environment: [String: String], production: RunSecret) -> RunSecret {
        if let file { return readFile(file) }
        if let value = environment["CWMIGRATE_BACKUP_PASSWORD"], !value.isEmpty {
            return RunSecret(password: value, source: .environment("CWMIGRATE_BACKUP_PASSWORD"))
        }
        guard let password = production.password else {
            return RunSecret(
                password: nil, source: nil,
                problem:
                    "no production password to assume for the backup (a token was given); give it with --backup-password-file FILE or CWMIGRATE_BACKUP_PASSWORD"
            )
        }
        return RunSecret(password: password, source: .sameAsProduction)
    }

    static func readFile(_ path: String) -> RunSecret {
        guard let data = FileManager.default.contents(atPath: path) else {
            return RunSecret(password: nil, source: nil, problem: "the file \(path) cannot be read")
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !line.isEmpty else { return RunSecret(password: nil, source: nil, problem: "the file \(path) is empty") }
        return RunSecret(password: line, source: .file(path))
    }

    /// `NAME=value` lines of a compose `.env`; quotes around a value are dropped.
    static func envSettings(_ text: String) -> [String: String] {
        var settings: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingBlanks
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            settings[line[..<equals].trimmingBlanks] = value
        }
        return settings
    }
}
