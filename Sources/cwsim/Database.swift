import Foundation

/// The PostgreSQL database that holds the simulated Connectware's user data. The
/// connection reaches child programs only through PG* environment variables, so the
/// password never shows in a process list.
struct Database: Sendable {
    let environment: [String: String]
    let name: String

    /// From a `postgresql://user:password@host:port/dbname` URL, or, without one,
    /// from the PG* variables already in the environment.
    init(url text: String?) throws(SimulatorError) {
        guard let text else {
            let inherited = ProcessInfo.processInfo.environment
            name = inherited["PGDATABASE"] ?? "cybus_connectware"
            environment = ["PGDATABASE": name]
            return
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgresql" || scheme == "postgres"
        else {
            throw .badDatabaseURL("expected postgresql://user@host:port/dbname")
        }
        var environment: [String: String] = [:]
        if let host = url.host, !host.isEmpty { environment["PGHOST"] = host }
        if let port = url.port { environment["PGPORT"] = String(port) }
        if let user = url.user, !user.isEmpty { environment["PGUSER"] = user }
        if let password = url.password { environment["PGPASSWORD"] = password }
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        name = path.isEmpty ? "cybus_connectware" : path
        environment["PGDATABASE"] = name
        for item in url.queryItems ?? [] where item.name == "sslmode" {
            environment["PGSSLMODE"] = item.value
        }
        self.environment = environment
    }

    /// Creates Connectware-shaped tables when they are missing, with the default roles, so a
    /// fresh database already looks like an installation (the initial admin comes from `Users`).
    func prepareSchema() async throws(SimulatorError) {
        try await ChildProcess.check(
            "psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], environment: environment,
            stdin: Data(Self.schema.utf8))
    }

    /// Runs `sql` and returns the rows it printed, each a list of fields. The SQL and the
    /// `variables` go by stdin (as `\set`, read as quoted literals where the SQL says
    /// `:'name'`), so no value shows in a process list.
    @discardableResult
    func query(_ sql: String, variables: [String: String] = [:]) async throws(SimulatorError) -> [[String]] {
        var script = ""
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            // Inside a meta-command's single quotes psql reads C escapes and '' for a quote.
            let quoted = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r")
            script += "\\set \(name) '\(quoted)'\n"
        }
        let outcome = try await ChildProcess.check(
            "psql", ["-X", "-q", "-A", "-t", "-F", "\u{1f}", "-v", "ON_ERROR_STOP=1", "-f", "-"],
            environment: environment, stdin: Data((script + sql).utf8))
        return outcome.stdout.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Writes a custom-format dump of the whole database to `file`.
    func dump(to file: URL) async throws(SimulatorError) {
        try await ChildProcess.check("pg_dump", ["-Fc", "--no-password", "-f", file.path], environment: environment)
    }

    /// Replaces the database contents with those of a custom-format dump, all or nothing.
    func restore(from file: URL) async throws(SimulatorError) {
        try await ChildProcess.check(
            "pg_restore",
            [
                "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner",
                "--no-privileges", "--no-password", "--dbname", name, file.path,
            ],
            environment: environment)
    }

    private static let schema = """
        SET client_min_messages = warning;
        CREATE TABLE IF NOT EXISTS roles (
            id          serial PRIMARY KEY,
            name        text NOT NULL UNIQUE,
            description text,
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS users (
            id            serial PRIMARY KEY,
            username      text NOT NULL UNIQUE,
            password_hash text NOT NULL,
            email         text,
            enabled       boolean NOT NULL DEFAULT true,
            created_at    timestamptz NOT NULL DEFAULT now(),
            updated_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS user_roles (
            user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role_id integer NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, role_id)
        );
        CREATE TABLE IF NOT EXISTS services (
            id           text PRIMARY KEY,
            name         text NOT NULL,
            version      text,
            enabled      boolean NOT NULL DEFAULT false,
            parameters   jsonb NOT NULL DEFAULT '{}'::jsonb,
            installed_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO roles (name, description) VALUES
            ('admin', 'Full access to Connectware'),
            ('user', 'Access to own resources')
            ON CONFLICT (name) DO NOTHING;
        CREATE SCHEMA IF NOT EXISTS auth;
        CREATE TABLE IF NOT EXISTS auth.tokens (
            token_hash text PRIMARY KEY,
            user_id    integer NOT NULL,
            label      text,
            expires_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        """
}
