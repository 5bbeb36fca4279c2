import ArchiveInspect
import Foundation

/// Connectware's users as its database keeps them: `users`, `roles` and `user_roles` in
/// `public`, API tokens in `auth.tokens`. Everything is read from PostgreSQL on every
/// request, so a restore (which replaces the database) replaces who may log in, with
/// which password, and which tokens are valid.
struct Users: Sendable {
    let database: Database

    /// The role that may use the maintenance API.
    static let adminRole = "admin"

    /// Who a request authenticated as.
    struct Identity: Sendable {
        let id: Int
        let username: String
        let isAdmin: Bool
    }

    /// The user with this name and password, when the name exists, is enabled and the
    /// password matches its hash (compared in constant time).
    func authenticate(username: String, password: String) async throws(SimulatorError) -> Identity? {
        let rows = try await database.query(
            """
            SELECT u.id, u.password_hash, coalesce(bool_or(r.name = 'admin'), false)
            FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
            WHERE u.username = :'name' AND u.enabled GROUP BY u.id, u.password_hash;
            """, variables: ["name": username])
        guard let row = rows.first, row.count == 3, let id = Int(row[0]),
            PasswordHash.matches(password, stored: row[1])
        else { return nil }
        return Identity(id: id, username: username, isAdmin: row[2] == "t")
    }

    /// The user a token was issued to, while the token is in this database and unexpired.
    func authenticate(token: String) async throws(SimulatorError) -> Identity? {
        let rows = try await database.query(
            """
            SELECT u.id, u.username, coalesce(bool_or(r.name = 'admin'), false)
            FROM auth.tokens t JOIN users u ON u.id = t.user_id
              LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
            WHERE t.token_hash = :'hash' AND u.enabled AND (t.expires_at IS NULL OR t.expires_at > now())
            GROUP BY u.id, u.username;
            """, variables: ["hash": Self.tokenHash(token)])
        guard let row = rows.first, row.count == 3, let id = Int(row[0]) else { return nil }
        return Identity(id: id, username: row[1], isAdmin: row[2] == "t")
    }

    /// A new token for `identity`, stored (as its SHA-256 only) in this database.
    func issueToken(for identity: Identity, label: String?, expireHours: Double?) async throws(SimulatorError)
        -> String
    {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try await database.query(
            """
            INSERT INTO auth.tokens (token_hash, user_id, label, expires_at)
            VALUES (:'hash', :'user'::integer, nullif(:'label', ''),
                    CASE WHEN :'hours' = '' THEN NULL ELSE now() + (:'hours' || ' hours')::interval END);
            """,
            variables: [
                "hash": Self.tokenHash(token), "user": String(identity.id), "label": label ?? "",
                "hours": expireHours.map { String($0) } ?? "",
            ])
        return token
    }

    /// Creates the user or sets its password; a new user gets `roles` (default: `user`),
    /// an existing one keeps its roles unless `roles` are given. True when it was created.
    func setPassword(username: String, password: String, roles: [String]?) async throws(SimulatorError) -> Bool {
        let rows = try await database.query(
            """
            INSERT INTO users (username, password_hash) VALUES (:'name', :'hash')
              ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, updated_at = now()
              RETURNING (xmax = 0);
            """, variables: ["name": username, "hash": PasswordHash.make(password)])
        let created = rows.first?.first == "t"
        if let roles = roles ?? (created ? ["user"] : nil) {
            try await database.query(
                """
                DELETE FROM user_roles WHERE user_id = (SELECT id FROM users WHERE username = :'name');
                INSERT INTO user_roles (user_id, role_id)
                  SELECT u.id, r.id FROM users u, roles r
                  WHERE u.username = :'name' AND r.name = ANY (string_to_array(:'roles', ','));
                """, variables: ["name": username, "roles": roles.joined(separator: ",")])
        }
        return created
    }

    /// On a database initialised empty (no user at all), the initial admin: user `admin`
    /// with `password`, role admin, enabled as the installation says. True when it was made.
    func createInitialAdmin(password: String, enabled: Bool) async throws(SimulatorError) -> Bool {
        let rows = try await database.query(
            """
            WITH made AS (
              INSERT INTO users (username, password_hash, email, enabled)
                SELECT 'admin', :'hash', 'admin@localhost', :'enabled'::boolean WHERE NOT EXISTS (SELECT 1 FROM users)
                RETURNING id)
            INSERT INTO user_roles (user_id, role_id) SELECT made.id, r.id FROM made, roles r WHERE r.name = 'admin'
              RETURNING user_id;
            """, variables: ["hash": PasswordHash.make(password), "enabled": enabled ? "true" : "false"])
        return !rows.isEmpty
    }

    static func tokenHash(_ token: String) -> String {
        let hasher = SHA256Hasher()
        hasher.update(Data(token.utf8))
        return hasher.finalize()
    }
}

/// How cwsim stores a password: `cwsim-sha256$ROUNDS$SALT$HASH`, the SHA-256 iterated over
/// the previous round, the salt and the password. Anything else in the column matches nothing.
enum PasswordHash {
    static let rounds = 2000

    static func make(_ password: String) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255) }
        let saltText = salt.map { String(format: "%02x", $0) }.joined()
        return "cwsim-sha256$\(rounds)$\(saltText)$\(digest(password, salt: saltText, rounds: rounds))"
    }

    static func matches(_ password: String, stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "cwsim-sha256", let rounds = Int(parts[1]), (1...100_000).contains(rounds)
        else { return false }
        return constantTimeEqual(digest(password, salt: parts[2], rounds: rounds), parts[3])
    }

    private static func digest(_ password: String, salt: String, rounds: Int) -> String {
        var current = ""
        for _ in 0..<rounds {
            let hasher = SHA256Hasher()
            hasher.update(Data((current + salt + password).utf8))
            current = hasher.finalize()
        }
        return current
    }
}

/// Equal strings, compared without an early exit, so timing tells nothing about the prefix.
func constantTimeEqual(_ left: String, _ right: String) -> Bool {
    let a = Array(left.utf8)
    let b = Array(right.utf8)
    var difference = a.count ^ b.count
    for index in 0..<min(a.count, b.count) { difference |= Int(a[index] ^ b[index]) }
    return difference == 0
}

/// The initial admin's password as the installation's `.env` gives it:
/// `CYBUS_INITIAL_ADMIN_USER_PASSWORD`, Base64 since Connectware 1.0.80, plain text before.
enum InitialAdminPassword {
    static let base64Since = SimVersion("1.0.80")!

    static func decode(_ value: String, version: SimVersion) throws(SimulatorError) -> String {
        guard version >= base64Since else { return value }
        guard let data = Data(base64Encoded: value.trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), !text.isEmpty
        else {
            throw .badInitialPassword(
                "CYBUS_INITIAL_ADMIN_USER_PASSWORD is not Base64 of a password (Connectware \(version) reads it Base64-encoded)"
            )
        }
        return text
    }
}
