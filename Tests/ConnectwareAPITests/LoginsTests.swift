import Foundation
import HTTP
import TestSupport
import Testing

@testable import ConnectwareAPI

/// A client that knows several logins, as a migration does while Connectware's users change.
@Suite("the maintenance client's logins across a database change", .serialized)
struct LoginsTests {
    private func client(_ sim: SimulatedConnectware) throws -> MaintenanceClient {
        try MaintenanceClient(baseURL: sim.url, authentication: .none, transport: TransportOptions())
    }

    @Test("a refused first login is followed by the next one, which the client then keeps")
    func fallsBackToTheNextLogin() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try client(sim)
        let wrong = Login(user: "admin", password: "not-it", role: "the initial admin password")
        let right = Login(user: "admin", password: sim.password, role: "the backup's admin password")
        api.useLogins([wrong, right], tokens: false)
        #expect(try api.status().running == false)
        #expect(api.refused == nil)
        #expect(api.currentLogin == right)
        #expect(api.answers())
    }

    @Test("when every login is refused, the error and `refused` name them by role, never by password")
    func namesTheRefusedLogins() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try client(sim)
        let logins = [
            Login(user: "admin", password: "secret-one", role: "the initial admin password"),
            Login(user: "admin", password: "secret-two", role: "the backup's admin password"),
        ]
        api.useLogins(logins, tokens: false)
        #expect(!api.answers())
        #expect(api.refused == logins)
        do {
            _ = try api.status()
            Issue.record("a refused status did not throw")
        } catch .unauthorized(let status, let message) {
            #expect(status == 401)
            #expect(message.contains("the initial admin password (user admin) and the backup's admin password"))
            #expect(!message.contains("secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("with tokens, a token that died with a restore is replaced by one of the next login")
    func tokenRenewedAfterRestore() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let atBackup = sim.password
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)
        let changed = try sim.call(
            "PUT", "/api/users/admin", body: #"{"password":"production-now"}"#)
        #expect(changed.code == 200)
        sim.password = "production-now"

        let api = try client(sim)
        api.useLogins(
            [
                Login(user: "admin", password: "production-now", role: "the production admin password"),
                Login(user: "admin", password: atBackup, role: "the backup's admin password"),
            ], tokens: true)
        #expect(try api.status().running == false)
        #expect(try sim.sql("SELECT count(*) FROM auth.tokens") == "1")

        #expect(try sim.upload(file).code == 202)
        _ = try await sim.waitUntilRestored(backupPassword: atBackup)
        // The production token and password died with the restore: the backup's login holds.
        #expect(try api.status().restore?.succeeded == true)
        #expect(api.currentLogin?.role == "the backup's admin password")
        #expect(api.refused == nil)
    }
}
