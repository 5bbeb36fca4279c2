import Foundation
import HTTP
import Planner
import TestSupport
import Testing

@testable import ConnectwareAPI

/// A client of `sim` over HTTPS through its ingress, trusting its CA.
private func client(
    _ sim: SimulatedConnectware, password: String? = nil, transport: TransportOptions? = nil
) throws -> MaintenanceClient {
    var options = transport ?? TransportOptions()
    if transport == nil { options.caCertificatePath = sim.caFile.path }
    return try MaintenanceClient(
        baseURL: sim.tlsURL, authentication: .basic(user: "admin", password: password ?? sim.password),
        transport: options)
}

private func rows(_ sim: SimulatedConnectware) throws -> String {
    try sim.sql("SELECT username || ':' || coalesce(email, '') || ':' || enabled FROM users ORDER BY username")
}

@Suite("the maintenance API client against cwsim over real sockets", .serialized)
struct ClientTests {
    @Test("a backup downloaded and restored brings back exactly the rows it held")
    func roundTrip() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        try sim.sql(
            "INSERT INTO users (username, password_hash, email) VALUES ('line-3', 'h1', 'l3@plant'), ('mes', 'h2', NULL)"
        )
        let before = try rows(sim)
        let api = try client(sim)

        let record = try api.runBackup(deadline: .seconds(60))
        #expect(record.succeeded == true)
        #expect(record.backupID?.version.description == "1.8.0")
        let file = sim.directory.appendingPathComponent("backup.tgz").path
        let saved = try api.downloadBackup(to: file)
        #expect(saved.bytes > 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        try sim.sql(
            "UPDATE users SET email = 'changed' WHERE username = 'line-3'; DELETE FROM users WHERE username = 'mes'; INSERT INTO users (username, password_hash) VALUES ('intruder', 'x')"
        )
        #expect(try rows(sim) != before)

        let restored = try api.runRestore(
            file: file, backupVersion: record.backupID?.version, runningVersion: nil, deadline: .seconds(60))
        #expect(restored.succeeded == true)
        #expect(restored.id == record.id)
        #expect(try rows(sim) == before)
    }

    @Test("a restore the server refuses names the last version that restores the backup and leaves the data")
    func unpredictedRefusal() throws {
        let old = try SimulatedConnectware(version: "1.0.73")
        let file = old.directory.appendingPathComponent("old.tgz").path
        defer { old.stop() }
        let oldAPI = try MaintenanceClient(
            baseURL: old.url, authentication: .basic(user: "admin", password: old.password),
            transport: TransportOptions())
        _ = try oldAPI.runBackup(deadline: .seconds(60))
        _ = try oldAPI.downloadBackup(to: file)

        let new = try SimulatedConnectware(
            version: "1.8.0", arguments: ["--barrier", "before=1.1.0,last=1.0.91"], tls: true)
        defer { new.stop() }
        try new.sql("INSERT INTO users (username, password_hash) VALUES ('keep-me', 'h')")
        let before = try rows(new)
        let api = try client(new)
        #expect {
            try api.runRestore(
                file: file, backupVersion: Version(major: 1, minor: 0, patch: 73),
                runningVersion: Version(major: 1, minor: 8, patch: 0), deadline: .seconds(60))
        } throws: { error in
            guard case ConnectwareAPIError.restoreRefused(let refusal) = error else { return false }
            return refusal.lastRestoringVersion == Version(major: 1, minor: 0, patch: 91)
                && refusal.statusMessage.contains("1.0.91")
        }
        #expect(try rows(new) == before)
    }

    @Test("wrong credentials are an unauthorized error carrying the server's message")
    func badCredentials() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        #expect {
            try client(sim, password: "wrong").status()
        } throws: { error in
            guard case ConnectwareAPIError.unauthorized(let status, let message) = error else { return false }
            return status == 401 && !message.isEmpty
        }
    }

    @Test("logging in gives a bearer token that the status call accepts")
    func bearerLogin() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let api = try client(sim)
        let token = try api.login(user: "admin", password: sim.password)
        let bearer = try MaintenanceClient(
            baseURL: sim.tlsURL, authentication: .bearer(token),
            transport: TransportOptions(caCertificatePath: sim.caFile.path))
        #expect(try bearer.status().running == false)
        #expect(throws: ConnectwareAPIError.self) { try api.login(user: "admin", password: "nope") }
    }

    @Test("TLS: the ingress is trusted with its CA, refused without it, and reached with insecure")
    func tls() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        #expect(try client(sim).status().running == false)
        #expect {
            try client(sim, transport: TransportOptions()).status()
        } throws: { error in
            guard case ConnectwareAPIError.transport(let message) = error else { return false }
            return message.contains("TLS") && message.contains("--cacert")
        }
        #expect(try client(sim, transport: TransportOptions(insecure: true)).status().running == false)
    }

    @Test("passing 500s while waiting are survived; a forced 409 is a busy error")
    func serverFaults() throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "1"], tls: true)
        defer { sim.stop() }
        let api = try client(sim)
        let before = try api.status()
        try api.startBackup()
        try sim.setFaults(#"{"failNext": 3}"#)
        let record = try api.waitForCompletion(of: .backup, after: before.backup, deadline: .seconds(60))
        #expect(record.succeeded == true)

        try sim.setFaults(#"{"forceConflict": true}"#)
        #expect {
            try api.startBackup()
        } throws: { error in
            guard case ConnectwareAPIError.busy(let status, _) = error else { return false }
            return status == 409
        }
        try sim.setFaults(#"{"forceConflict": false, "failNext": 1}"#)
        #expect {
            try api.status()
        } throws: { error in
            guard case ConnectwareAPIError.serverError(let status, _) = error else { return false }
            return status == 500
        }
    }

    @Test("a download cut half-way leaves neither the file nor its .part")
    func cutDownload() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let api = try MaintenanceClient(
            baseURL: sim.url, authentication: .basic(user: "admin", password: sim.password),
            transport: TransportOptions(retry: .never))
        _ = try api.runBackup(deadline: .seconds(60))
        try sim.setFaults(#"{"cutDownloadAfterBytes": 100}"#)
        let file = sim.directory.appendingPathComponent("cut.tgz").path
        #expect(throws: ConnectwareAPIError.self) { try api.downloadBackup(to: file) }
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(!FileManager.default.fileExists(atPath: file + ".part"))
        let whole = try api.downloadBackup(to: file)
        #expect(whole.bytes > 100)
    }

    @Test("a stalled answer ends in a timeout error instead of waiting forever")
    func stalledAnswer() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.setFaults(#"{"stallSeconds": 30}"#)
        let api = try MaintenanceClient(
            baseURL: sim.url, authentication: .basic(user: "admin", password: sim.password),
            transport: TransportOptions(lowSpeedLimit: 1, lowSpeedTime: .seconds(2), retry: .never))
        let start = ContinuousClock.now
        #expect {
            try api.status()
        } throws: { error in
            guard case ConnectwareAPIError.transport(let message) = error else { return false }
            return message.contains("timed out")
        }
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test("an HTML page where the status should be is reported with its first line")
    func htmlInsteadOfStatus() throws {
        let root = try TestSupport.temporaryDirectory("html-server")
        defer { try? FileManager.default.removeItem(at: root) }
        let page = root.appendingPathComponent("api/maintenance/db")
        try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("<html><head><title>502 Bad Gateway</title></head>\n<body>proxy</body></html>\n".utf8).write(to: page)
        let server = try RunningProgram(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                "-u", "-c",
                """
                import http.server, functools, sys
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                server = http.server.HTTPServer(("127.0.0.1", 0), handler)
                print("serving on", server.server_address[1], flush=True)
                server.serve_forever()
                """, root.path,
            ],
            readyPrefix: "serving on", logFile: root.appendingPathComponent("server.log"))
        defer { server.stop() }
        let port = server.readyLine.split(separator: " ").last.map(String.init) ?? "0"
        let api = try MaintenanceClient(
            baseURL: "http://127.0.0.1:\(port)", authentication: .basic(user: "admin", password: "x"),
            transport: TransportOptions())
        #expect(throws: ConnectwareAPIError.notJSON(firstLine: "<html><head><title>502 Bad Gateway</title></head>")) {
            try api.status()
        }
    }
}
