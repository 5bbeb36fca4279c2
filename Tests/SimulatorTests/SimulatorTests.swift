import Foundation
import TestSupport
import Testing

private var backupIDPattern: Regex<Substring> { /^1\.8\.0_\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/ }

@Suite("cwsim, the Connectware maintenance API simulator")
struct SimulatorTests {
    @Test("cwsim listens on another loopback address than 127.0.0.1 when told, as a fleet host of the lab does")
    func anotherLoopbackAddress() throws {
        let sim = try SimulatedConnectware(address: "127.0.0.5")
        defer { sim.stop() }
        let answer = try sim.call("GET", "/api/maintenance/db")
        #expect(answer.code == 200)
        #expect(answer.body == #"{"running":false}"#)
        let elsewhere = try sim.curl(["-s", "-o", "/dev/null", "http://127.0.0.1:\(sim.httpPort)/api/maintenance/db"])
        #expect(elsewhere.status == 7, "nothing of it listens on 127.0.0.1")
    }

    @Test("cwsim refuses to listen beyond the loopback network")
    func notBeyondLoopback() throws {
        let data = try TestSupport.temporaryDirectory("cwsim-listen")
        defer { try? FileManager.default.removeItem(at: data) }
        for listen in ["0.0.0.0:0", "10.0.0.1:0", "127.0.0.256:0", "127.1:0"] {
            let result = try TestSupport.run(
                TestSupport.product("cwsim"), ["--listen", listen, "--data-dir", data.path],
                environment: ["CWSIM_PASSWORD": "unused"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: --listen \(listen): give 127.0.0.1:PORT or another 127.x.y.z:PORT"))
        }
    }

    @Test("cwsim starts with the fault switches of --faults-file set")
    func faultsFromAFile() throws {
        let directory = try TestSupport.temporaryDirectory("cwsim-faults")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("faults.json")
        try #"{"forceConflict":true,"restoreDelaySeconds":2}"#.write(to: file, atomically: true, encoding: .utf8)
        let sim = try SimulatedConnectware(arguments: ["--faults-file", file.path])
        defer { sim.stop() }
        let faults = try sim.call("GET", "/sim/faults")
        #expect(faults.body.contains(#""forceConflict":true"#))
        #expect(faults.body.contains(#""restoreDelaySeconds":2.0"#))
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 409)

        try "not json".write(to: file, atomically: true, encoding: .utf8)
        let refused = try TestSupport.run(
            TestSupport.product("cwsim"), ["--faults-file", file.path, "--data-dir", directory.path],
            environment: ["CWSIM_PASSWORD": "unused"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: cannot read \(file.path): not the JSON of POST /sim/faults"))
    }

    @Test("the vendor's four documented curl commands work verbatim against the TLS front")
    func vendorCurlCommands() async throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let host = "127.0.0.1:\(sim.tlsPort ?? 0)"
        let admin = "admin:\(sim.password)"
        let file = sim.directory.appendingPathComponent("connectware-db-backup.tgz").path

        let status = try sim.curl([
            "-k", "--header", "Content-Type: application/json", "--request", "GET", "-u", admin,
            "https://\(host)/api/maintenance/db",
        ])
        #expect(status.status == 0)
        #expect(json(status.stdout)?["running"] as? Bool == false)

        let backup = try sim.curl(["-k", "--request", "POST", "-u", admin, "https://\(host)/api/maintenance/db/backup"])
        #expect(backup.status == 0)
        let record = try await sim.waitUntilFinished("backup")
        #expect(record["succeded"] as? Bool == true)

        let download = try sim.curl([
            "-k", "--request", "GET", "-u", admin, "https://\(host)/api/maintenance/db/backup", "--output", file,
        ])
        #expect(download.status == 0)
        let listing = try TestSupport.run(URL(fileURLWithPath: "/bin/tar"), ["-tzf", file])
        #expect(listing.stdout.contains("\(record["id"] as? String ?? "?")/metadata.json"))

        let restore = try sim.curl([
            "-k", "--request", "POST", "-u", admin, "-F", "file=@\(file)", "https://\(host)/api/maintenance/db/restore",
        ])
        #expect(restore.status == 0)
        let restored = try await sim.waitUntilFinished("restore")
        #expect(restored["succeded"] as? Bool == true)
        #expect(restored["id"] as? String == record["id"] as? String)
    }

    @Test("the TLS front is trusted with --cacert, refused without it, and reachable with --insecure")
    func tlsCertificate() throws {
        let sim = try SimulatedConnectware(tls: true)
        defer { sim.stop() }
        let target = sim.tlsURL + "/api/maintenance/db"
        let auth = ["-u", "admin:\(sim.password)"]
        let trusted = try sim.curl(["-s", "--cacert", sim.caFile.path] + auth + [target])
        #expect(trusted.status == 0)
        #expect(json(trusted.stdout)?["running"] as? Bool == false)
        let byName = try sim.curl(
            ["-s", "--cacert", sim.caFile.path] + auth + [
                "https://localhost:\(sim.tlsPort ?? 0)/api/maintenance/db"
            ])
        #expect(byName.status == 0)
        let untrusted = try sim.curl(["-s"] + auth + [target])
        #expect(untrusted.status == 60)  // CURLE_PEER_FAILED_VERIFICATION
        let insecure = try sim.curl(["-s", "-k"] + auth + [target])
        #expect(insecure.status == 0)
    }

    @Test("before any backup ran, the status is only running: false")
    func statusBeforeAnyBackup() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let answer = try sim.call("GET", "/api/maintenance/db")
        #expect(answer.code == 200)
        #expect(answer.body == #"{"running":false}"#)
    }

    @Test("a backup answers 202, runs for a while, then succeeds with a version_timestamp id")
    func backupRunsAsynchronously() async throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "5"])
        defer { sim.stop() }
        let started = try sim.call("POST", "/api/maintenance/db/backup")
        #expect(started.code == 202)
        let during = try sim.status()
        #expect(during["running"] as? Bool == true)
        #expect((during["backup"] as? [String: Any])?["endDate"] is NSNull)

        let record = try await sim.waitUntilFinished("backup")
        #expect(record["succeded"] as? Bool == true)
        #expect(record["statusMessage"] as? String == "OK")
        let id = try #require(record["id"] as? String)
        #expect(id.wholeMatch(of: backupIDPattern) != nil)
        #expect(record["startDate"] as? String == String(id.dropFirst("1.8.0_".count)))
    }

    @Test("the downloaded backup is a gzip tar whose id directory holds metadata and the dump")
    func downloadedBackupLayout() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let file = sim.directory.appendingPathComponent("backup.tgz")
        let record = try await sim.backup(to: file)
        let id = try #require(record["id"] as? String)

        let listing = try TestSupport.run(URL(fileURLWithPath: "/bin/tar"), ["-tzf", file.path])
        #expect(listing.status == 0)
        let entries = Set(listing.stdout.split(separator: "\n").map(String.init))
        #expect(entries.contains("\(id)/metadata.json"))
        #expect(entries.contains("\(id)/cybus_connectware.dump"))

        let metadata = try TestSupport.run(
            URL(fileURLWithPath: "/bin/tar"), ["-xzOf", file.path, "\(id)/metadata.json"])
        let fields = try #require(json(metadata.stdout))
        #expect(fields["version"] as? String == "1.8.0")
        #expect(fields["id"] as? String == id)
        #expect(fields["database"] as? String == sim.databaseName)

        let headers = try sim.curl([
            "-s", "-D", "-", "-o", "/dev/null", "-u", "admin:\(sim.password)",
            sim.url + "/api/maintenance/db/backup",
        ])
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int
        #expect(headers.stdout.lowercased().contains("content-type: application/gzip"))
        #expect(headers.stdout.lowercased().contains("content-length: \(size ?? -1)\r\n"))
    }

    @Test("rows written before a backup and changed after it come back exactly after its restore")
    func restoreRoundTrip() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.sql(
            """
            INSERT INTO users (username, password_hash, email) VALUES
              ('operator', 'hash-1', 'operator@plant.example'), ('viewer', 'hash-2', NULL);
            INSERT INTO user_roles SELECT u.id, r.id FROM users u, roles r WHERE u.username = 'operator' AND r.name = 'user';
            INSERT INTO services (id, name, version, enabled, parameters) VALUES
              ('opcua-line-1', 'OPC UA line 1', '2.1.0', true, '{"endpoint": "opc.tcp://10.0.0.5:4840"}');
            """)
        let snapshot =
            "SELECT username, password_hash, coalesce(email, '-') FROM users ORDER BY username;"
            + " SELECT user_id, role_id FROM user_roles ORDER BY 1, 2;"
            + " SELECT id, name, version, enabled, parameters FROM services ORDER BY id"
        let before = try sim.sql(snapshot)
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)

        try sim.sql(
            """
            UPDATE users SET email = 'changed@example' WHERE username = 'operator';
            DELETE FROM users WHERE username = 'viewer';
            UPDATE services SET enabled = false, parameters = '{}' WHERE id = 'opcua-line-1';
            INSERT INTO services (id, name) VALUES ('added-later', 'Added after the backup');
            """)
        #expect(try sim.sql(snapshot) != before)

        let upload = try sim.upload(file)
        #expect(upload.code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == true)
        #expect(try sim.sql(snapshot) == before)
    }

    @Test("a restore refused by a barrier leaves the rows untouched and names the last version")
    func refusedRestore() async throws {
        let old = try SimulatedConnectware(version: "1.0.73")
        defer { old.stop() }
        let file = old.directory.appendingPathComponent("old.tgz")
        let oldRecord = try await old.backup(to: file)

        let sim = try SimulatedConnectware(arguments: ["--barrier", "before=1.1.0,last=1.0.91"])
        defer { sim.stop() }
        try sim.sql("INSERT INTO services (id, name) VALUES ('kept', 'Must survive the refusal')")
        let rows = "SELECT id, name FROM services ORDER BY id; SELECT username, email FROM users ORDER BY username"
        let before = try sim.sql(rows)

        #expect(try sim.upload(file).code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == false)
        #expect(record["id"] as? String == oldRecord["id"] as? String)
        let message = try #require(record["statusMessage"] as? String)
        #expect(message.contains("1.0.91"))
        #expect(message.contains("1.0.73"))
        #expect(try sim.sql(rows) == before)
    }

    @Test("a barrier file works like --barrier")
    func barrierFile() async throws {
        let old = try SimulatedConnectware(version: "1.7.3")
        defer { old.stop() }
        let file = old.directory.appendingPathComponent("old.tgz")
        _ = try await old.backup(to: file)
        let barriers = old.directory.appendingPathComponent("barriers.conf")
        try Data("# known barriers\nbefore=1.1.0,last=1.0.91\nbefore=1.8.0,last=1.7.3  # second\n".utf8).write(
            to: barriers)

        let sim = try SimulatedConnectware(arguments: ["--barrier-file", barriers.path])
        defer { sim.stop() }
        #expect(try sim.upload(file).code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == false)
        #expect(
            (record["statusMessage"] as? String)?.contains("The last version that can restore this backup is 1.7.3")
                == true)
    }

    @Test("wrong or missing credentials answer 401 with a JSON message")
    func badCredentials() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        for auth in [
            ["-u", "admin:wrong"], ["-u", "someone:\(sim.password)"], [], ["-H", "Authorization: Bearer nonsense"],
        ] {
            let answer = try sim.call("GET", "/api/maintenance/db", auth: auth)
            #expect(answer.code == 401)
            #expect(json(answer.body)?["message"] is String)
        }
        let backup = try sim.call("POST", "/api/maintenance/db/backup", auth: ["-u", "admin:wrong"])
        #expect(backup.code == 401)
        #expect(try sim.status()["backup"] == nil)
    }

    @Test("a token from POST /api/login works as a Bearer token")
    func bearerToken() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let login = try sim.call(
            "POST", "/api/login", body: #"{"username":"admin","password":"\#(sim.password)"}"#, auth: [])
        #expect(login.code == 200)
        let token = try #require(json(login.body)?["token"] as? String)
        let answer = try sim.call("GET", "/api/maintenance/db", auth: ["-H", "Authorization: Bearer \(token)"])
        #expect(answer.code == 200)
        #expect(json(answer.body)?["running"] as? Bool == false)

        let refused = try sim.call("POST", "/api/login", body: #"{"username":"admin","password":"nope"}"#, auth: [])
        #expect(refused.code == 401)
        #expect(json(refused.body)?["token"] == nil)
    }

    @Test("failNext answers 500 to exactly the next N requests")
    func failNext() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.setFaults(#"{"failNext":2}"#)
        let codes = try (1...3).map { _ in try sim.call("GET", "/api/maintenance/db").code }
        #expect(codes == [500, 500, 200])
    }

    @Test("--fail-next at start fails the first requests the same way")
    func failNextFlag() throws {
        let sim = try SimulatedConnectware(arguments: ["--fail-next", "1"])
        defer { sim.stop() }
        let first = try sim.call("GET", "/api/maintenance/db")
        #expect(first.code == 500)
        #expect(json(first.body)?["message"] is String)
        #expect(try sim.call("GET", "/api/maintenance/db").code == 200)
    }

    @Test("a stall holds back the next response only")
    func stall() throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.setFaults(#"{"stallSeconds":6}"#)
        let target = sim.url + "/api/maintenance/db"
        let held = try sim.curl(["-s", "--max-time", "2", "-u", "admin:\(sim.password)", target])
        #expect(held.status == 28)  // CURLE_OPERATION_TIMEDOUT
        let next = try sim.curl(["-s", "--max-time", "20", "-u", "admin:\(sim.password)", target])
        #expect(next.status == 0)
        #expect(json(next.stdout)?["running"] as? Bool == false)
    }

    @Test("a cut download closes the connection after K bytes, and the next one is whole")
    func cutDownload() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let whole = sim.directory.appendingPathComponent("whole.tgz")
        _ = try await sim.backup(to: whole)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: whole.path)[.size] as? Int)

        try sim.setFaults(#"{"cutDownloadAfterBytes":1000}"#)
        let cut = sim.directory.appendingPathComponent("cut.tgz")
        let broken = try sim.curl([
            "-s", "-u", "admin:\(sim.password)", "-o", cut.path, sim.url + "/api/maintenance/db/backup",
        ])
        #expect(broken.status == 18)  // CURLE_PARTIAL_FILE
        #expect(try FileManager.default.attributesOfItem(atPath: cut.path)[.size] as? Int == 1000)
        #expect(size > 1000)

        let again = sim.directory.appendingPathComponent("again.tgz")
        let complete = try sim.curl([
            "-s", "-u", "admin:\(sim.password)", "-o", again.path, sim.url + "/api/maintenance/db/backup",
        ])
        #expect(complete.status == 0)
        #expect(try Data(contentsOf: again) == Data(contentsOf: whole))
    }

    @Test("forceConflict answers 409 to backup and restore until it is switched off")
    func forcedConflict() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)
        try sim.setFaults(#"{"forceConflict":true}"#)
        let backup = try sim.call("POST", "/api/maintenance/db/backup")
        #expect(backup.code == 409)
        #expect(json(backup.body)?["message"] is String)
        #expect(try sim.upload(file).code == 409)
        try sim.setFaults(#"{"forceConflict":false}"#)
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 202)
    }

    @Test("starting a backup or restore while a backup runs answers 409")
    func conflictWhileRunning() async throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-delay", "4"])
        defer { sim.stop() }
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)
        #expect(try sim.call("POST", "/api/maintenance/db/backup").code == 202)
        let second = try sim.call("POST", "/api/maintenance/db/backup")
        #expect(second.code == 409)
        #expect((json(second.body)?["message"] as? String)?.contains("backup is already running") == true)
        #expect(try sim.upload(file).code == 409)
        let record = try await sim.waitUntilFinished("backup")
        #expect(record["succeded"] as? Bool == true)
    }

    @Test("POST /sim/reset clears the fault switches and the status history")
    func reset() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        _ = try await sim.backup(to: sim.directory.appendingPathComponent("backup.tgz"))
        try sim.setFaults(#"{"failNext":5,"forceConflict":true}"#)
        #expect(try sim.call("POST", "/sim/reset").code == 200)
        #expect(try sim.call("GET", "/api/maintenance/db").body == #"{"running":false}"#)
    }

    @Test("an upload that is not a backup archive fails the restore with a clear message")
    func garbageUpload() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        try sim.sql("INSERT INTO services (id, name) VALUES ('kept', 'Untouched by a bad upload')")
        let garbage = sim.directory.appendingPathComponent("garbage.tgz")
        try Data((0..<20_000).map { _ in UInt8.random(in: 0...255) }).write(to: garbage)
        #expect(try sim.upload(garbage).code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == false)
        #expect((record["statusMessage"] as? String)?.contains("not a valid Connectware backup archive") == true)
        #expect(try sim.sql("SELECT name FROM services WHERE id = 'kept'") == "Untouched by a bad upload")

        let notABackup = sim.directory.appendingPathComponent("plain.tgz")
        try TestSupport.shell("echo hello > note.txt && tar -czf plain.tgz note.txt", in: sim.directory)
        #expect(try sim.upload(notABackup).code == 202)
        let second = try await sim.waitUntilFinished("restore")
        #expect(second["succeded"] as? Bool == false)
        #expect((second["statusMessage"] as? String)?.contains("metadata.json") == true)

        let wrongField = try sim.upload(garbage, field: "backup")
        #expect(wrongField.code == 400)
        #expect((json(wrongField.body)?["message"] as? String)?.contains("'file'") == true)
    }

    @Test("a 512 MiB upload streams to disk: cwsim's peak memory stays far below the file's size")
    func largeUploadStreamsToDisk() async throws {
        let sim = try SimulatedConnectware()
        defer { sim.stop() }
        let large = sim.directory.appendingPathComponent("large.tgz")
        try TestSupport.shell("truncate -s 512M large.tgz", in: sim.directory)
        let before = try #require(sim.peakMemoryKiB)
        #expect(try sim.upload(large).code == 202)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == false)
        let after = try #require(sim.peakMemoryKiB)
        #expect(after - before < 64 * 1024, "peak memory grew by \(after - before) KiB")
    }

    @Test("starting a backup while a restore runs answers 409 naming the restore")
    func conflictWhileRestoring() async throws {
        let sim = try SimulatedConnectware(arguments: ["--restore-delay", "4"])
        defer { sim.stop() }
        let file = sim.directory.appendingPathComponent("backup.tgz")
        _ = try await sim.backup(to: file)
        #expect(try sim.upload(file).code == 202)
        let backup = try sim.call("POST", "/api/maintenance/db/backup")
        #expect(backup.code == 409)
        #expect((json(backup.body)?["message"] as? String)?.contains("restore is already running") == true)
        let record = try await sim.waitUntilFinished("restore")
        #expect(record["succeded"] as? Bool == true)
    }

    @Test("with --backup-compression zstd the backup is a zstd tar that restores like a gzip one")
    func zstdBackup() async throws {
        let sim = try SimulatedConnectware(arguments: ["--backup-compression", "zstd"])
        defer { sim.stop() }
        try sim.sql("INSERT INTO services (id, name) VALUES ('zstd', 'Compressed with zstd')")
        let file = sim.directory.appendingPathComponent("backup.tar.zst")
        let record = try await sim.backup(to: file)
        let id = try #require(record["id"] as? String)
        let listing = try TestSupport.run(URL(fileURLWithPath: "/bin/tar"), ["--zstd", "-tf", file.path])
        #expect(listing.status == 0)
        #expect(listing.stdout.contains("\(id)/cybus_connectware.dump"))

        try sim.sql("DELETE FROM services")
        #expect(try sim.upload(file).code == 202)
        let restored = try await sim.waitUntilFinished("restore")
        #expect(restored["succeded"] as? Bool == true)
        #expect(try sim.sql("SELECT name FROM services WHERE id = 'zstd'") == "Compressed with zstd")
    }
}
