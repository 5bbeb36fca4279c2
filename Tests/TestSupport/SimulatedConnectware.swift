import Foundation

/// Why a simulator test could not set up its world.
public struct SetupFailure: Error, CustomStringConvertible {
    public init(description: String) { self.description = description }
    public let description: String
}

/// One cwsim on a fresh database of the test PostgreSQL (CWMIGRATE_TEST_PG_URL), with
/// an optional TLS nginx in front. Every test makes its own and stops it in `defer`.
public final class SimulatedConnectware: @unchecked Sendable {
    /// The admin's password that `call`, `backup` and `upload` use: the initial admin's
    /// (from the password file) unless a test sets another.
    public var password = "sim-\(UUID().uuidString.prefix(12))"
    public let directory: URL
    public let databaseName: String
    public let databaseEnvironment: [String: String]
    private let adminEnvironment: [String: String]
    private var cwsim: RunningProgram?
    public private(set) var httpPort = 0
    public private(set) var tlsPort: Int?
    private var stopped = false
    /// The loopback address cwsim listens on.
    public let address: String

    /// Plain HTTP straight to cwsim.
    public var url: String { "http://\(address):\(httpPort)" }
    /// HTTPS through the nginx ingress (only with `tls: true`).
    public var tlsURL: String { "https://127.0.0.1:\(tlsPort ?? 0)" }
    public var caFile: URL { directory.appendingPathComponent("nginx/ca.pem") }

    /// With `initialAdminVariable`, cwsim gets no password file but the installation's
    /// `CYBUS_INITIAL_ADMIN_USER_PASSWORD` with that value (Base64 or plain, as the version reads it).
    public init(
        version: String = "1.8.0", arguments: [String] = [], tls: Bool = false, address: String = "127.0.0.1",
        initialAdminVariable: String? = nil
    ) throws {
        self.address = address
        guard let text = ProcessInfo.processInfo.environment["CWMIGRATE_TEST_PG_URL"], !text.isEmpty else {
            throw SetupFailure(
                description: """
                    CWMIGRATE_TEST_PG_URL is not set: these tests need a PostgreSQL superuser URL. \
                    scripts/test starts one; by hand: source scripts/lib/postgres.sh && \
                    postgres_start /tmp/pg && export CWMIGRATE_TEST_PG_URL=$POSTGRES_URL
                    """)
        }
        guard let components = URLComponents(string: text), let host = components.host else {
            throw SetupFailure(description: "CWMIGRATE_TEST_PG_URL is not a postgresql:// URL")
        }
        var base: [String: String] = ["PGHOST": host, "PGCONNECT_TIMEOUT": "10"]
        if let port = components.port { base["PGPORT"] = String(port) }
        if let user = components.user { base["PGUSER"] = user }
        if let secret = components.password { base["PGPASSWORD"] = secret }
        adminEnvironment = base.merging(["PGDATABASE": "postgres"]) { $1 }
        databaseName = "cwsim_\(UUID().uuidString.prefix(8).lowercased())"
        databaseEnvironment = base.merging(["PGDATABASE": databaseName]) { $1 }
        directory = try TestSupport.temporaryDirectory("cwsim-test")

        try Self.psql("CREATE DATABASE \(databaseName)", environment: adminEnvironment)
        let passwordFile = directory.appendingPathComponent("password")
        try Data(password.utf8).write(to: passwordFile)
        var passwordArguments = ["--password-file", passwordFile.path]
        var environment = databaseEnvironment
        if let initialAdminVariable {
            passwordArguments = []
            environment["CWSIM_PASSWORD"] = ""
            environment["CYBUS_INITIAL_ADMIN_USER_PASSWORD"] = initialAdminVariable
        }
        do {
            // The database reaches cwsim through PG* variables: no URL with secrets in argv.
            let program = try RunningProgram(
                TestSupport.product("cwsim"),
                [
                    "--version-string", version, "--listen", "\(address):0",
                    "--data-dir", directory.appendingPathComponent("data").path,
                ] + passwordArguments + arguments,
                environment: environment, readyPrefix: "cwsim listening on http://\(address):",
                logFile: directory.appendingPathComponent("cwsim.log"))
            cwsim = program
            guard let port = Int(program.readyLine.split(separator: ":").last ?? "") else {
                throw SetupFailure(description: "no port in cwsim's ready line: \(program.readyLine)")
            }
            httpPort = port
            if tls {
                let script = TestSupport.packageRoot.appendingPathComponent("scripts/lib/nginx-tls.sh").path
                let started = try TestSupport.shell(
                    "source '\(script)' && nginx_tls_start '\(directory.path)/nginx' \(port)")
                tlsPort = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Stops nginx and cwsim, drops the database and removes the directory.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if tlsPort != nil {
            let script = TestSupport.packageRoot.appendingPathComponent("scripts/lib/nginx-tls.sh").path
            _ = try? TestSupport.shell("source '\(script)' && nginx_tls_stop '\(directory.path)/nginx'")
        }
        cwsim?.stop()
        _ = try? Self.psql("DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)", environment: adminEnvironment)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// cwsim's process id, for tests that kill the server under a client.
    public var processIdentifier: Int32? { cwsim?.processIdentifier }

    /// cwsim's peak resident memory so far in KiB (VmHWM from /proc).
    public var peakMemoryKiB: Int? {
        guard let pid = cwsim?.processIdentifier,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("cwsim.log"), encoding: .utf8)) ?? ""
    }

    // MARK: database

    /// Runs SQL in this simulator's database and returns the rows, unaligned with `|`.
    @discardableResult
    public func sql(_ statement: String) throws -> String {
        try Self.psql(statement, environment: databaseEnvironment)
    }

    @discardableResult
    public static func psql(_ statement: String, environment: [String: String]) throws -> String {
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
            environment: environment)
        guard result.status == 0 else {
            throw SetupFailure(description: "psql failed (\(result.status)) on \(statement): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: HTTP with the real curl

    /// Runs curl with `arguments`; returns its exit status, output and stderr.
    public func curl(_ arguments: [String]) throws -> ProgramResult {
        try TestSupport.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments)
    }

    /// A request to cwsim as admin; the answer's status code and body.
    public func call(_ method: String, _ path: String, body: String? = nil, auth: [String]? = nil) throws -> (
        code: Int, body: String
    ) {
        let marker = "\n--status--"
        var arguments = ["-s", "-X", method] + (auth ?? ["-u", "admin:\(password)"])
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        arguments += ["-w", "\(marker)%{http_code}", url + path]
        let result = try curl(arguments)
        guard result.status == 0, let range = result.stdout.range(of: marker, options: .backwards) else {
            throw SetupFailure(description: "curl \(method) \(path) failed (\(result.status)): \(result.stderr)")
        }
        return (Int(result.stdout[range.upperBound...]) ?? 0, String(result.stdout[..<range.lowerBound]))
    }

    public func status() throws -> [String: Any] {
        let answer = try call("GET", "/api/maintenance/db")
        guard answer.code == 200, let object = json(answer.body) else {
            throw SetupFailure(description: "status answered \(answer.code): \(answer.body)")
        }
        return object
    }

    /// Polls the status until nothing runs and `operation` has an end date. The deadline is
    /// looked at only after a poll: a task resumed late from its sleep (synchronous tests,
    /// such as the lab's, can hold every cooperative thread for minutes) asks cwsim once more
    /// before it calls the operation stuck.
    public func waitUntilFinished(_ operation: String, timeout: TimeInterval = 120) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let current = try status()
            if current["running"] as? Bool == false, let record = current[operation] as? [String: Any],
                record["endDate"] is String
            {
                return record
            }
            guard Date() < deadline else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SetupFailure(description: "\(operation) did not finish in \(Int(timeout)) s; cwsim log: \(log)")
    }

    /// Waits for a restore that brings other users: polls with the backup's admin password
    /// (refused until the restore has replaced the users), which is then the sim's `password`.
    public func waitUntilRestored(backupPassword: String, timeout: TimeInterval = 120) async throws -> [String: Any] {
        password = backupPassword
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let answer = try call("GET", "/api/maintenance/db")
            if answer.code == 200, let current = json(answer.body), current["running"] as? Bool == false,
                let record = current["restore"] as? [String: Any], record["endDate"] is String
            {
                return record
            }
            guard answer.code == 200 || answer.code == 401, Date() < deadline else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SetupFailure(description: "the restore did not finish in \(Int(timeout)) s; cwsim log: \(log)")
    }

    /// Takes a backup and downloads it to `file`; returns the backup's status record.
    public func backup(to file: URL) async throws -> [String: Any] {
        let started = try call("POST", "/api/maintenance/db/backup")
        guard started.code == 202 else {
            throw SetupFailure(description: "backup answered \(started.code): \(started.body)")
        }
        let record = try await waitUntilFinished("backup")
        let download = try curl([
            "-s", "-f", "-u", "admin:\(password)", "-o", file.path, url + "/api/maintenance/db/backup",
        ])
        guard download.status == 0 else { throw SetupFailure(description: "download failed: \(download.stderr)") }
        return record
    }

    /// Uploads `file` for a restore; returns the HTTP status code and body.
    public func upload(_ file: URL, field: String = "file") throws -> (code: Int, body: String) {
        let marker = "\n--status--"
        let result = try curl([
            "-s", "-X", "POST", "-u", "admin:\(password)", "-F", "\(field)=@\(file.path)", "-w",
            "\(marker)%{http_code}",
            url + "/api/maintenance/db/restore",
        ])
        guard result.status == 0, let range = result.stdout.range(of: marker, options: .backwards) else {
            throw SetupFailure(description: "upload failed (\(result.status)): \(result.stderr)")
        }
        return (Int(result.stdout[range.upperBound...]) ?? 0, String(result.stdout[..<range.lowerBound]))
    }

    public func setFaults(_ json: String) throws {
        let answer = try call("POST", "/sim/faults", body: json)
        guard answer.code == 200 else {
            throw SetupFailure(description: "/sim/faults answered \(answer.code): \(answer.body)")
        }
    }
}

public func json(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
