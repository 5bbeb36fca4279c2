import Foundation
import TestSupport
import Testing

/// Users, passwords and tokens live in cwsim's PostgreSQL, as Connectware's do: a database
/// initialised empty has only the initial admin, and a restore brings back the backup's.
@Suite("cwsim's users in the database")
struct UserDatabaseTests {
    private func basic(_ user: String, _ password: String) -> [String] { ["-u", "\(user):\(password)"] }

    private func login(_ sim: SimulatedConnectware, _ user: String, _ password: String) throws -> (Int, String?) {
        let body = String(
            decoding: try JSONSerialization.data(withJSONObject: ["username": user, "password": password]),
            as: UTF8.self)
        let answer = try sim.call("POST", "/api/login", body: body, auth: [])
        return (answer.code, json(answer.body)?["token"] as? String)
    }

    private func setPassword(_ sim: SimulatedConnectware, _ user: String, _ password: String, roles: [String]? = nil)
        throws -> Int
    {
        var change: [String: Any] = ["password": password]
        if let roles { change["roles"] = roles }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: change), as: UTF8.self)
        return try sim.call("PUT", "/api/users/\(user)", body: body).code
    }

    @Test("a database initialised empty holds only the initial admin, with the Base64-decoded password of .env")
    func initialAdminFromBase64() throws {
        let secret = "initial-\(UUID().uuidString.prefix(6))"
        let sim = try SimulatedConnectware(initialAdminVariable: Data(secret.utf8).base64EncodedString())
        defer { sim.stop() }
        #expect(try sim.sql("SELECT username FROM users ORDER BY 1") == "admin")
        #expect(try sim.sql("SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id") == "admin")
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", secret)).code == 200)
        let encoded = Data(secret.utf8).base64EncodedString()
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", encoded)).code == 401)
    }

    @Test("before 1.0.80 the initial admin password of .env is taken as plain text")
    func initialAdminPlainBefore1080() throws {
        let sim = try SimulatedConnectware(version: "1.0.73", initialAdminVariable: "YWRtaW4=")
        defer { sim.stop() }
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", "YWRtaW4=")).code == 200)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", "admin")).code == 401)
    }

    @Test("from 1.0.80 on, an initial admin password that is not Base64 stops cwsim with one error line")
    func initialAdminNotBase64() throws {
        let directory = try TestSupport.temporaryDirectory("cwsim-bad-initial")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try TestSupport.run(
            TestSupport.product("cwsim"),
            ["--version-string", "1.0.80", "--data-dir", directory.path, "--database-url", "postgresql://127.0.0.1:1/x"],
            environment: ["CWSIM_PASSWORD": "", "CYBUS_INITIAL_ADMIN_USER_PASSWORD": "not base64!"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: CYBUS_INITIAL_ADMIN_USER_PASSWORD is not Base64"))
        #expect(!result.stderr.contains("not base64!"))
    }

    @Test("passwords are stored hashed and salted, never in plain text")
    func passwordsHashed() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        #expect(try setPassword(sim, "operator", sim.password) == 201)
        let hashes = try sim.sql("SELECT password_hash FROM users ORDER BY username").split(separator: "\n")
        #expect(hashes.count == 2)
        #expect(hashes.allSatisfy { $0.hasPrefix("cwsim-sha256$") && !$0.contains(sim.password) })
        #expect(hashes[0] != hashes[1])
    }

    @Test("Basic auth, POST /api/login and its token are checked against the users in the database")
    func credentialsFromDatabase() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        #expect(try setPassword(sim, "operator", "op-secret-1") == 201)
        // A second user logs in, but without the admin role the maintenance API is forbidden.
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("operator", "op-secret-1")).code == 403)
        let (code, token) = try login(sim, "operator", "op-secret-1")
        #expect(code == 200)
        let bearer = ["-H", "Authorization: Bearer \(token ?? "")"]
        #expect(try sim.call("GET", "/api/maintenance/db", auth: bearer).code == 403)
        #expect(try setPassword(sim, "operator", "op-secret-1", roles: ["admin"]) == 200)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("operator", "op-secret-1")).code == 200)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: bearer).code == 200)
        #expect(try sim.call("GET", "/api/maintenance/db?apiToken=\(token ?? "")", auth: []).code == 200)
        #expect(try sim.sql("SELECT count(*) FROM auth.tokens WHERE token_hash = '\(token ?? "")'") == "0")

        // A changed password holds at once; the old one is refused.
        #expect(try setPassword(sim, "admin", "admin-new-2") == 200)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", sim.password)).code == 401)
        #expect(try login(sim, "admin", sim.password).0 == 401)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", "admin-new-2")).code == 200)
        #expect(try login(sim, "admin", "admin-new-2").0 == 200)

        // A user disabled in the database is refused, token included.
        try sim.sql("UPDATE users SET enabled = false WHERE username = 'operator'")
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("operator", "op-secret-1")).code == 401)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: bearer).code == 401)
    }

    @Test("a restore replaces users and passwords with the backup's, and the tokens issued since die")
    func restoreReplacesUsers() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let atBackup = sim.password
        #expect(try setPassword(sim, "viewer", "viewer-1") == 201)
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)

        #expect(try setPassword(sim, "admin", "changed-after-backup") == 200)
        sim.password = "changed-after-backup"
        #expect(try setPassword(sim, "later", "later-1", roles: ["admin"]) == 201)
        let (_, token) = try login(sim, "admin", "changed-after-backup")
        let bearer = ["-H", "Authorization: Bearer \(token ?? "")"]
        #expect(try sim.call("GET", "/api/maintenance/db", auth: bearer).code == 200)

        #expect(try sim.upload(file).code == 202)
        // The restore replaces the admin's password while it runs: the backup's reads the end.
        let finished = try await sim.waitUntilRestored(backupPassword: atBackup)
        #expect(finished["succeded"] as? Bool == true)

        #expect(try sim.sql("SELECT username FROM users ORDER BY 1") == "admin\nviewer")
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", atBackup)).code == 200)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("admin", "changed-after-backup")).code == 401)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: basic("later", "later-1")).code == 401)
        #expect(try sim.call("GET", "/api/maintenance/db", auth: bearer).code == 401)
        #expect(try login(sim, "viewer", "viewer-1").0 == 200)
    }
}
