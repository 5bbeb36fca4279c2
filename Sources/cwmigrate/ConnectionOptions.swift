import ArgumentParser
import ConnectwareAPI
import Foundation
import HTTP
import Migration

extension ProgressFormat: ExpressibleByArgument {}

/// `--progress`: how transfers and long local work (verifying an archive, snapshotting or
/// restoring a volume) show how far they are, on stderr.
struct ProgressOption: ParsableArguments {
    @Option(help: "Progress display: auto, bar, plain, json or none.")
    var progress: ProgressFormat = .auto

    /// The reporter `--progress` asks for; none under `--quiet`.
    func reporter(_ terminal: Terminal) -> (any TransferProgressReporter)? {
        terminal.quiet ? nil : progress.reporter(fileDescriptor: STDERR_FILENO)
    }
}

/// How to reach a Connectware and who to be there; shared by status, backup and restore.
/// Secrets never come from the command line: the password comes from CWMIGRATE_PASSWORD,
/// --password-file or a prompt, a token from CWMIGRATE_TOKEN or --token-file.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Connectware's address, e.g. https://connectware.local (default: $CWMIGRATE_URL).")
    var url: String?

    @Option(help: "The user to log in as (default: $CWMIGRATE_USER, else admin).")
    var user: String?

    @Option(name: .customLong("password-file"), help: "Read the password from this file's first line.")
    var passwordFile: String?

    @Flag(help: "Log in with POST /api/login and use the bearer token it gives instead of basic auth.")
    var login = false

    @Option(name: .customLong("token-file"), help: "Use the bearer token in this file (or $CWMIGRATE_TOKEN).")
    var tokenFile: String?

    @Option(help: "Trust this CA certificate (PEM) for Connectware's TLS (default: $CWMIGRATE_CACERT).")
    var cacert: String?

    @Flag(help: "Do not verify Connectware's TLS certificate (a warning is printed).")
    var insecure = false

    @OptionGroup var progressOption: ProgressOption
    var progress: ProgressFormat { progressOption.progress }

    @Option(help: "Seconds to wait for a backup or restore to finish on the server.")
    var timeout: Int = 3600

    @Option(
        name: .customLong("unanswered-timeout"),
        help: "Seconds a wait goes on while Connectware gives no answer at all, before it stops with an error.")
    var unansweredTimeout: Int = WaitSettings.defaultUnansweredSeconds

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard unansweredTimeout > 0 else {
            throw ValidationError("--unanswered-timeout must be a positive number of seconds")
        }
    }

    /// How waits for the server report on stderr: a line (or, with `--progress json`, a JSON
    /// line) every 30 s while an operation runs and once a silence has lasted 30 s.
    func waitSettings(_ terminal: Terminal) -> WaitSettings {
        let format = progress
        return WaitSettings(unansweredLimit: .seconds(unansweredTimeout)) { update in
            switch format {
            case .none: return
            case .json: terminal.err(update.json)
            default: terminal.err(update.line)
            }
        }
    }

    /// A client for the Connectware these options name, logged in when `--login` asks for it.
    func client(_ terminal: Terminal, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> MaintenanceClient
    {
        try connect(terminal, environment: environment).client
    }

    /// The client, and who it is: the user and the password (with where it came from; nil
    /// when a token was given), for a run whose credentials change with the database.
    struct Connection {
        let client: MaintenanceClient
        let user: String
        let password: String?
        let passwordSource: SecretSource?
    }

    func connect(_ terminal: Terminal, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Connection
    {
        guard let address = url ?? environment["CWMIGRATE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw Failure(
                message: "no Connectware address given",
                hint: "pass --url https://HOST or set CWMIGRATE_URL", exitCode: ExitStatus.usage)
        }
        let caFile = cacert ?? environment["CWMIGRATE_CACERT"].flatMap { $0.isEmpty ? nil : $0 }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw Failure(message: "CA certificate \(caFile) cannot be read", exitCode: ExitStatus.noInput)
        }
        if insecure { terminal.warning(TransportOptions.insecureWarning) }
        let transport = TransportOptions(
            caCertificatePath: caFile, insecure: insecure, userAgent: "cwmigrate/\(CWMigrate.configuration.version)")
        let userName = user ?? environment["CWMIGRATE_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "admin"

        if let token = try token(environment) {
            let client = try MaintenanceClient(baseURL: address, authentication: .bearer(token), transport: transport)
            return Connection(client: client, user: userName, password: nil, passwordSource: nil)
        }
        let (password, source) = try self.password(for: userName, environment, terminal)
        let client = try MaintenanceClient(
            baseURL: address, authentication: .basic(user: userName, password: password), transport: transport)
        if login {
            client.useBearerToken(try client.login(user: userName, password: password))
        }
        return Connection(client: client, user: userName, password: password, passwordSource: source)
    }

    func progressReporter(_ terminal: Terminal) -> (any TransferProgressReporter)? {
        progressOption.reporter(terminal)
    }

    private func token(_ environment: [String: String]) throws -> String? {
        if let tokenFile { return try Self.firstLine(of: tokenFile, what: "token") }
        if let token = environment["CWMIGRATE_TOKEN"], !token.isEmpty { return token }
        return nil
    }

    private func password(for user: String, _ environment: [String: String], _ terminal: Terminal) throws -> (String, SecretSource?) {
        if let passwordFile { return (try Self.firstLine(of: passwordFile, what: "password"), .file(passwordFile)) }
        if let password = environment["CWMIGRATE_PASSWORD"], !password.isEmpty {
            return (password, .environment("CWMIGRATE_PASSWORD"))
        }
        if let typed = terminal.askSecret("Password for \(user): "), !typed.isEmpty { return (typed, nil) }
        throw Failure(
            message: "no password for \(user)",
            hint: "set CWMIGRATE_PASSWORD, pass --password-file FILE, or run on a terminal to be asked",
            exitCode: ExitStatus.usage)
    }

    private static func firstLine(of path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(message: "\(what) file \(path) cannot be read", exitCode: ExitStatus.noInput)
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !line.isEmpty else {
            throw Failure(message: "\(what) file \(path) is empty", exitCode: ExitStatus.dataError)
        }
        return line
    }
}

/// The passwords a migration needs besides the production one: the initial admin's of the
/// fresh install of the older version, and the backup's admin's after the restore. Never in argv.
struct RunCredentialOptions: ParsableArguments {
    @Option(
        name: .customLong("initial-password-file"),
        help: ArgumentHelp(
            "The initial admin's password (first line, plain text) of the fresh install of the older version (default: $CWMIGRATE_INITIAL_PASSWORD, else CYBUS_INITIAL_ADMIN_USER_PASSWORD of the installation's .env).",
            valueName: "file"))
    var initialPasswordFile: String?

    @Option(
        name: .customLong("backup-password-file"),
        help: ArgumentHelp(
            "The admin password valid when the backup was made, used after the restore (default: $CWMIGRATE_BACKUP_PASSWORD, else the production password).",
            valueName: "file"))
    var backupPasswordFile: String?

    func credentials(
        _ connection: ConnectionOptions.Connection, tokens: Bool, directory: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> RunCredentials {
        let production = RunSecret(
            password: connection.password, source: connection.passwordSource,
            problem: connection.password == nil ? "a token was given, not a password" : nil)
        let initialFile = initialPasswordFile
        return RunCredentials(
            client: connection.client, user: connection.user, production: production,
            initialFor: { version in
                RunCredentials.initialSecret(
                    file: initialFile, environment: environment, directory: directory, installed: version)
            },
            backup: RunCredentials.backupSecret(file: backupPasswordFile, environment: environment, production: production),
            tokens: tokens)
    }
}
