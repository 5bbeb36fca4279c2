import ArgumentParser
import Application
import ConnectwareAPI
import HTTP
import Migration

extension ProgressFormat: ExpressibleByArgument {}

/// `--progress`: how transfers and long local work (verifying an archive, snapshotting or
/// restoring a volume) show how far they are, on stderr.
struct ProgressOption: ParsableArguments {
    @Option(name: .customLong("progress"), help: "Progress display: auto, bar, plain, json or none.")
    var format: ProgressFormat = .auto

    /// The reporter `--progress` asks for; none under `--quiet`.
    func reporter(_ console: Console) -> (any TransferProgressReporter)? {
        console.quiet ? nil : format.reporter()
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

    @OptionGroup var progress: ProgressOption

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
    func waitSettings(_ console: Console) -> WaitSettings {
        let format = progress.format
        return WaitSettings(unansweredLimit: .seconds(unansweredTimeout)) { update in
            switch format {
            case .none: return
            case .json: console.err(update.json)
            default: console.err(update.line)
            }
        }
    }

    /// The request these options make, for Application to connect with.
    var request: ConnectionRequest {
        ConnectionRequest(
            url: url, user: user, passwordFile: passwordFile, tokenFile: tokenFile, caCertificate: cacert,
            insecure: insecure, login: login, userAgent: "cwmigrate/\(CWMigrate.configuration.version)")
    }

    /// A client for the Connectware these options name, logged in when `--login` asks for it.
    func client(_ console: Console) throws -> MaintenanceClient { try connect(console).client }

    /// The client and who it is; a password is asked for on the console when none is given.
    func connect(_ console: Console) throws -> Connection {
        try request.connect(
            environment: processEnvironment, askSecret: console.askSecret, warn: console.warning)
    }
}

/// `--initial-password-file`: the initial admin's password of a fresh install of the older
/// version, which only migrate needs. Never in argv.
struct InitialPasswordOption: ParsableArguments {
    @Option(
        name: .customLong("initial-password-file"),
        help: ArgumentHelp(
            "The initial admin's password (first line, plain text) of the fresh install of the older version (default: $CWMIGRATE_INITIAL_PASSWORD, else CYBUS_INITIAL_ADMIN_USER_PASSWORD of the installation's .env).",
            valueName: "file"))
    var initialPasswordFile: String?
}

/// `--backup-password-file`: the backup's admin password, valid after a restore: migrate and rollback.
struct BackupPasswordOption: ParsableArguments {
    @Option(
        name: .customLong("backup-password-file"),
        help: ArgumentHelp(
            "The admin password valid when the backup was made, used after the restore (default: $CWMIGRATE_BACKUP_PASSWORD, else the production password).",
            valueName: "file"))
    var backupPasswordFile: String?
}
