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

    /// Creates Connectware-shaped tables when they are missing, with the default roles
    /// and the admin user, so a fresh database already looks like an installation.
    func prepareSchema() async throws(SimulatorError) {
        try await ChildProcess.check(
            "psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], environment: environment,
            stdin: Data(Self.schema.utf8))
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
        INSERT INTO users (username, password_hash, email) VALUES
            ('admin', '$2b$10$cwsimcwsimcwsimcwsimcuQ5wYb2Gkq1Wq0Qm6kK8r3r1xXx9y2u', 'admin@localhost')
            ON CONFLICT (username) DO NOTHING;
        INSERT INTO user_roles (user_id, role_id)
            SELECT u.id, r.id FROM users u, roles r WHERE u.username = 'admin' AND r.name = 'admin'
            ON CONFLICT DO NOTHING;
        """
}
