import ArgumentParser
import FlyingFox
import FlyingSocks
import Foundation

/// cwsim: a stand-in for Connectware's maintenance API over a real PostgreSQL, for
/// tests, the lab and demos. It binds a loopback address only (127.0.0.0/8) and prints one ready line.
@main
struct CWSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cwsim",
        abstract: "Simulates Connectware's maintenance API (backup and restore) over a real PostgreSQL.",
        discussion: """
            Status before any backup or restore ran is {"running":false}: the backup and restore \
            objects are absent. While an operation runs, its object shows "succeded" and "endDate" as null.
            Users live in the database: on a database initialised empty (no user at all) cwsim creates \
            the initial admin `admin` with the password of CYBUS_INITIAL_ADMIN_USER_PASSWORD (as the \
            installation's .env gives it: Base64 since 1.0.80, plain text before; enabled unless \
            CYBUS_ADMIN_USER_ENABLED=false), or, for tests, the plain text of --password-file or \
            CWSIM_PASSWORD. Basic auth, POST /api/login and tokens are checked against the database on \
            every request, so a restore replaces users, passwords and tokens with the backup's. \
            PUT /api/users/NAME {"password":…,"roles":[…]} (an admin's call) creates a user or sets \
            its password. Passwords never come from the command line.
            Fault switches: POST /sim/faults with JSON {"failNext":N,"stallSeconds":T,\
            "cutDownloadAfterBytes":K,"forceConflict":true,"backupDelaySeconds":T,"restoreDelaySeconds":T}; \
            POST /sim/reset clears them and the status history.
            """)

    @Option(name: .customLong("version-string"), help: "The Connectware version this server pretends to be.")
    var versionString = "1.8.0"

    @Option(help: "Where to listen: 127.0.0.1:PORT, or another loopback address of 127.0.0.0/8 (PORT 0 picks a free port and prints it).")
    var listen = "127.0.0.1:0"

    @Option(
        name: .customLong("database-url"),
        help:
            "postgresql://user@host:port/dbname; without it the PG* variables apply. Give a password via PGPASSWORD, not in the URL."
    )
    var databaseURL: String?

    @Option(
        name: .customLong("password-file"),
        help:
            "File holding the initial admin's password in plain text (else CWSIM_PASSWORD, else CYBUS_INITIAL_ADMIN_USER_PASSWORD)."
    )
    var passwordFile: String?

    @Option(name: .customLong("data-dir"), help: "Directory for backup files and uploads.")
    var dataDir: String

    @Option(
        name: .customLong("barrier"),
        help: "A restore barrier: before=X,last=L refuses backups older than X; L is the last version restoring them.")
    var barriers: [String] = []

    @Option(name: .customLong("barrier-file"), help: "A file of barrier specs, one per line, # for comments.")
    var barrierFile: String?

    @Option(name: .customLong("backup-delay"), help: "Seconds a backup waits before pg_dump runs.")
    var backupDelay = 0.0

    @Option(name: .customLong("restore-delay"), help: "Seconds a restore waits before it reads the upload.")
    var restoreDelay = 0.0

    @Option(
        name: .customLong("backup-compression"),
        help: "gzip (like Connectware, file .tgz) or zstd (file .tar.zst), to test clients' tolerance.")
    var backupCompression: BackupCompression = .gzip

    @Option(
        name: .customLong("service-files"),
        help:
            "The service-manager's files: backups carry this directory's files as ID/service-manager/, and a successful restore replaces its contents."
    )
    var serviceFilesDirectory: String?

    @Option(name: .customLong("fail-next"), help: "Fault: the next N API requests answer 500.")
    var failNext = 0

    @Option(name: .customLong("stall-next"), help: "Fault: the next API response is held back T seconds.")
    var stallNext = 0.0

    @Option(name: .customLong("cut-download-after"), help: "Fault: the next download closes after K bytes.")
    var cutDownloadAfter: Int?

    @Flag(name: .customLong("force-conflict"), help: "Fault: starting a backup or restore answers 409.")
    var forceConflict = false

    @Option(
        name: .customLong("faults-file"),
        help: "Fault switches to start with: a JSON file as POST /sim/faults takes (applied after the flags above).")
    var faultsFile: String?

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            try await serve()
        } catch let error as SimulatorError {
            log("error: \(error)")
            throw ExitCode(1)
        }
    }

    private func serve() async throws {
        guard let version = SimVersion(versionString) else {
            throw ValidationError("--version-string \(versionString) is not a version like 1.8.0")
        }
        var restoreBarriers = try barriers.map { spec throws(SimulatorError) in try RestoreBarrier(spec: spec) }
        if let barrierFile { restoreBarriers += try RestoreBarrier.load(file: URL(fileURLWithPath: barrierFile)) }
        let initialPassword = try readInitialPassword(version: version)
        let serviceFiles = try serviceFiles()
        let (address, port) = try listenAddress()
        let startFaults = try faultsFile.map { file throws(SimulatorError) in try Self.faultSettings(file: file) }
        let database = try Database(url: databaseURL)
        let dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true)
        let uploads = dataDirectory.appendingPathComponent("uploads", isDirectory: true)
        do {
            try FileManager.default.createDirectory(
                at: uploads, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw SimulatorError.unreadableFile(path: uploads.path, reason: error.localizedDescription)
        }
        try await database.prepareSchema()
        let users = Users(database: database)
        let adminEnabled = ProcessInfo.processInfo.environment["CYBUS_ADMIN_USER_ENABLED"]?.lowercased() != "false"
        if try await users.createInitialAdmin(password: initialPassword, enabled: adminEnabled) {
            log("the database held no user: created the initial admin 'admin'")
        }

        let maintenance = Maintenance(
            version: version, database: database, dataDirectory: dataDirectory, barriers: restoreBarriers,
            backupDelay: backupDelay, restoreDelay: restoreDelay, compression: backupCompression,
            serviceFiles: serviceFiles)
        let faults = Faults(
            Faults.Settings(
                failNext: failNext, stallSeconds: stallNext, cutDownloadAfterBytes: cutDownloadAfter,
                forceConflict: forceConflict))
        if let startFaults { await faults.apply(startFaults) }
        let api = MaintenanceAPI(
            maintenance: maintenance, faults: faults, users: users, uploadDirectory: uploads)
        // Uploads of several GiB stream through the handler, so its timeout must not cut them.
        let config = HTTPServer.Configuration(
            address: try sockaddr_in.inet(ip4: address, port: port), timeout: 7 * 24 * 3600,
            sharedRequestBufferSize: 65_536, sharedRequestReplaySize: 1_048_576, logger: DisabledLogger.disabled)
        let server = HTTPServer(config: config, handler: api)
        let running = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 10)
        guard case .ip4(_, let boundPort)? = await server.listeningAddress else {
            throw SimulatorError.badListenAddress(listen)
        }
        let barrierText = restoreBarriers.isEmpty ? "none" : restoreBarriers.map(\.description).joined(separator: "; ")
        log("Connectware \(version) on database \(database.name); restore barriers: \(barrierText)")
        if startFaults != nil { log("fault switches from \(faultsFile ?? ""): \(await faults.json.rendered)") }
        FileHandle.standardOutput.write(Data("cwsim listening on http://\(address):\(boundPort)\n".utf8))
        try await running.value
    }

    private func serviceFiles() throws(SimulatorError) -> ServiceFiles? {
        guard let serviceFilesDirectory else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: serviceFilesDirectory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw .unreadableFile(path: serviceFilesDirectory, reason: "--service-files needs an existing directory")
        }
        return ServiceFiles(directory: URL(fileURLWithPath: serviceFilesDirectory, isDirectory: true))
    }

    /// The initial admin's password: --password-file or CWSIM_PASSWORD in plain text (tests),
    /// else the installation's CYBUS_INITIAL_ADMIN_USER_PASSWORD, decoded as `version` reads it.
    private func readInitialPassword(version: SimVersion) throws(SimulatorError) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw .unreadableFile(path: passwordFile, reason: "cannot read the password file")
            }
            let password = text.trimmingCharacters(in: .newlines)
            guard !password.isEmpty else { throw .missingPassword }
            return password
        }
        if let password = environment["CWSIM_PASSWORD"], !password.isEmpty { return password }
        guard let encoded = environment["CYBUS_INITIAL_ADMIN_USER_PASSWORD"], !encoded.isEmpty else {
            throw .missingPassword
        }
        return try InitialAdminPassword.decode(encoded, version: version)
    }

    /// The address and port of --listen: `localhost` is 127.0.0.1; any other address must be
    /// a dotted IPv4 loopback address (127.0.0.0/8), so cwsim never listens beyond the machine.
    private func listenAddress() throws(SimulatorError) -> (String, UInt16) {
        let parts = listen.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw .badListenAddress(listen) }
        if parts[0] == "localhost" { return ("127.0.0.1", port) }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127",
            octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil })
        else { throw .badListenAddress(listen) }
        return (parts[0], port)
    }

    /// The switches of a faults file (the JSON POST /sim/faults takes).
    private static func faultSettings(file: String) throws(SimulatorError) -> Faults.Settings {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw .unreadableFile(path: file, reason: error.localizedDescription)
        }
        do { return try JSONDecoder().decode(Faults.Settings.self, from: data) } catch {
            throw .unreadableFile(path: file, reason: "not the JSON of POST /sim/faults (\(error))")
        }
    }
}

/// How cwsim compresses its backup archives.
enum BackupCompression: String, ExpressibleByArgument, Sendable {
    case gzip
    case zstd
}
