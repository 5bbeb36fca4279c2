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
    func reporter(_ console: Console) -> (any TransferProgressReporter)? { format.reporter(on: console) }
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
        try requirePositiveSeconds(timeout, "--timeout")
        try requirePositiveSeconds(unansweredTimeout, "--unanswered-timeout")
    }

    /// How this command waits for Connectware and shows it.
    var waiting: ServerWaiting {
        ServerWaiting(
            operation: .seconds(timeout), unanswered: .seconds(unansweredTimeout), progress: progress.format)
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
