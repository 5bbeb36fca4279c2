import ConnectwareAPI
import HTTP
import Migration
import Vocabulary

#if canImport(Glibc)
    import Glibc
#endif

/// How to reach a Connectware and who to be there, as the command line gives it. Secrets never
/// come from argv: the password comes from a file, `CWMIGRATE_PASSWORD` or a prompt; a token
/// from a file or `CWMIGRATE_TOKEN`.
public struct ConnectionRequest: Sendable {
    public var url: String?
    public var user: String?
    public var passwordFile: String?
    public var tokenFile: String?
    public var caCertificate: String?
    public var insecure: Bool
    /// Log in with `POST /api/login` and use the bearer token it gives.
    public var login: Bool
    public var userAgent: String

    public init(
        url: String?, user: String?, passwordFile: String?, tokenFile: String?, caCertificate: String?, insecure: Bool,
        login: Bool, userAgent: String
    ) {
        self.url = url
        self.user = user
        self.passwordFile = passwordFile
        self.tokenFile = tokenFile
        self.caCertificate = caCertificate
        self.insecure = insecure
        self.login = login
        self.userAgent = userAgent
    }

    /// The files a secret is read from (`--password-file`, `--token-file`): no output may be one.
    public var secretFiles: [String] { [passwordFile, tokenFile].compactMap { $0 } }

    /// Connectware's address: `--url`, else `CWMIGRATE_URL`; nil when neither is given.
    public func address(_ environment: [String: String]) -> String? { url ?? environment.nonEmpty("CWMIGRATE_URL") }

    /// A client for this Connectware, logged in when `login` asks for it, and who it is.
    /// `askSecret` asks a person for the password (nil: nobody is there); `warn` says that TLS
    /// is not verified.
    public func connect(
        environment: [String: String], askSecret: (String) -> String?, warn: (String) -> Void
    ) throws -> Connection {
        guard let address = address(environment) else { throw ConnectionError.noAddress }
        let caFile = caCertificate ?? environment.nonEmpty("CWMIGRATE_CACERT")
        if let caFile, access(caFile, R_OK) != 0 { throw ConnectionError.unreadable(what: "CA certificate", path: caFile) }
        if insecure { warn(TransportOptions.insecureWarning) }
        let transport = TransportOptions(caCertificatePath: caFile, insecure: insecure, userAgent: userAgent)
        let userName = user ?? environment.nonEmpty("CWMIGRATE_USER") ?? "admin"
        if let token = try token(environment) {
            let client = try MaintenanceClient(baseURL: address, authentication: .bearer(token), transport: transport)
            return Connection(client: client, user: userName, password: nil, passwordSource: nil, tokens: true)
        }
        let (password, source) = try self.password(for: userName, environment, askSecret)
        let client = try MaintenanceClient(
            baseURL: address, authentication: .basic(user: userName, password: password), transport: transport)
        if login { client.useBearerToken(try client.login(user: userName, password: password)) }
        return Connection(client: client, user: userName, password: password, passwordSource: source, tokens: login)
    }

    private func token(_ environment: [String: String]) throws(ConnectionError) -> String? {
        if let tokenFile { return try Self.firstLine(of: tokenFile, what: "token") }
        return environment.nonEmpty("CWMIGRATE_TOKEN")
    }

    private func password(
        for user: String, _ environment: [String: String], _ askSecret: (String) -> String?
    ) throws(ConnectionError) -> (String, SecretSource?) {
        if let passwordFile { return (try Self.firstLine(of: passwordFile, what: "password"), .file(passwordFile)) }
        if let password = environment.nonEmpty("CWMIGRATE_PASSWORD") {
            return (password, .environment("CWMIGRATE_PASSWORD"))
        }
        if let typed = askSecret("Password for \(user): "), !typed.isEmpty { return (typed, nil) }
        throw .noPassword(user: user)
    }

    /// A secret file's first line: the secret, without its newline.
    private static func firstLine(of path: String, what: String) throws(ConnectionError) -> String {
        guard let bytes = readFile(path, upTo: 1 << 20) else { throw .unreadable(what: "\(what) file", path: path) }
        let line = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw .empty(what: "\(what) file", path: path) }
        return line
    }
}

/// A client, and who it is: the user and the password with where it came from (nil when a
/// token was given), for a run whose credentials change with the database.
public struct Connection {
    public let client: MaintenanceClient
    public let user: String
    public let password: String?
    public let passwordSource: SecretSource?
    /// Whether the client uses bearer tokens (a token was given, or `--login`).
    public let tokens: Bool

    /// A restore brings the backup's users: the status is then read with the backup's password
    /// (`CWMIGRATE_BACKUP_PASSWORD`) once the one given is refused.
    public func acceptBackupPassword(environment: [String: String]) {
        guard let password, let backup = environment.nonEmpty("CWMIGRATE_BACKUP_PASSWORD") else { return }
        client.useLogins(
            [
                Login(user: user, password: password, role: "the password given"),
                Login(user: user, password: backup, role: "the backup's admin password"),
            ], tokens: tokens)
    }

    /// The credentials a migration run or rollback needs besides this connection's: the initial
    /// admin's of a fresh install (a file, `CWMIGRATE_INITIAL_PASSWORD`, else `directory/.env`)
    /// and the backup's admin's (a file, `CWMIGRATE_BACKUP_PASSWORD`, else the production one).
    public func runCredentials(
        initialPasswordFile: String?, backupPasswordFile: String?, directory: String?, environment: [String: String]
    ) -> RunCredentials {
        let production = RunSecret(
            password: password, source: passwordSource,
            problem: password == nil ? "a token was given, not a password" : nil)
        return RunCredentials(
            client: client, user: user, production: production,
            initialFor: { version in
                RunCredentials.initialSecret(
                    file: initialPasswordFile, environment: environment, directory: directory, installed: version)
            },
            backup: RunCredentials.backupSecret(
                file: backupPasswordFile, environment: environment, production: production),
            tokens: tokens)
    }
}

/// Connecting to Connectware could not begin: what is missing or unreadable, in the operator's words.
public enum ConnectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noAddress
    case unreadable(what: String, path: String)
    case empty(what: String, path: String)
    case noPassword(user: String)

    public var description: String {
        switch self {
        case .noAddress: "no Connectware address given"
        case .unreadable(let what, let path): "\(what) \(path) cannot be read"
        case .empty(let what, let path): "\(what) \(path) is empty"
        case .noPassword(let user): "no password for \(user)"
        }
    }

    /// What to do about it, where one line helps.
    public var hint: String? {
        switch self {
        case .noAddress: "pass --url https://HOST or set CWMIGRATE_URL"
        case .noPassword: "set CWMIGRATE_PASSWORD, pass --password-file FILE, or run on a terminal to be asked"
        default: nil
        }
    }
}

extension [String: String] {
    /// The variable's value, or nil when it is unset or empty.
    func nonEmpty(_ name: String) -> String? { self[name].flatMap { $0.isEmpty ? nil : $0 } }
}
