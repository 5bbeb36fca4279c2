import FlyingFox
import FlyingSocks
import Foundation

/// Answers Connectware's maintenance API, `POST /api/login`, `PUT /api/users/NAME`, and
/// the simulator's own `/sim/faults` and `/sim/reset` switches. Who may call them is read
/// from the database on every request: an admin's Basic credentials or a token it issued.
struct MaintenanceAPI: HTTPHandler {
    let maintenance: Maintenance
    let faults: Faults
    let users: Users
    let uploadDirectory: URL

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await answer(request)
        // Method, path and status only: never a header, so no credential reaches the log.
        log("\(request.method.rawValue) \(request.path) \(response.statusCode.code)")
        return response
    }

    private func answer(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.path.hasPrefix("/sim/") { return try await simulatorSwitch(request) }
        let stall = await faults.takeStall()
        if stall > 0 { try await Task.sleep(for: .seconds(stall)) }
        if await faults.takeFailure() {
            return json(.internalServerError, .message("Internal Server Error (cwsim fault switch)"))
        }
        switch (request.method, request.path) {
        case (.POST, "/api/login"):
            return await login(request)
        case (_, "/api/maintenance/db"), (_, "/api/maintenance/db/backup"), (_, "/api/maintenance/db/restore"):
            if let refusal = await refusal(request) { return refusal }
            return try await maintenanceCall(request)
        case (.PUT, let path) where path.hasPrefix("/api/users/"):
            if let refusal = await refusal(request) { return refusal }
            return await setUser(String(path.dropFirst("/api/users/".count)), request)
        default:
            return json(.notFound, .message("Cannot \(request.method.rawValue) \(request.path)"))
        }
    }

    private func maintenanceCall(_ request: HTTPRequest) async throws -> HTTPResponse {
        switch (request.method, request.path) {
        case (.GET, "/api/maintenance/db"):
            return json(.ok, await maintenance.status)
        case (.POST, "/api/maintenance/db/backup"):
            if await faults.forceConflict {
                return json(.conflict, .message(Maintenance.Conflict(running: nil).message))
            }
            do {
                try await maintenance.startBackup(extraDelay: await faults.backupDelaySeconds)
            } catch {
                return json(.conflict, .message(error.message))
            }
            return json(.accepted, .message("Backup started"))
        case (.GET, "/api/maintenance/db/backup"):
            return try await download()
        case (.POST, "/api/maintenance/db/restore"):
            return try await upload(request)
        default:
            return json(.methodNotAllowed, .message("\(request.method.rawValue) is not allowed on \(request.path)"))
        }
    }

    private func download() async throws -> HTTPResponse {
        guard let last = await maintenance.lastBackup,
            let size = try? FileManager.default.attributesOfItem(atPath: last.file.path)[.size] as? Int
        else {
            return json(
                .notFound, .message("No backup file available. Create one with POST /api/maintenance/db/backup."))
        }
        var headers: HTTPHeaders = [
            .contentType: last.file.pathExtension == "zst" ? "application/zstd" : "application/gzip",
            .contentDisposition: "attachment; filename=\"\(last.file.lastPathComponent)\"",
        ]
        if let cut = await faults.takeCut() {
            // Content-Length still promises the whole file; the connection closes after `cut` bytes.
            headers[.contentLength] = String(size)
            let body = HTTPBodySequence(
                from: CutFile(url: last.file, limit: Swift.min(cut, size)), count: size,
                suggestedBufferSize: 65_536)
            return HTTPResponse(statusCode: .ok, headers: headers, body: body)
        }
        return HTTPResponse(
            statusCode: .ok, headers: headers,
            body: try HTTPBodySequence(file: last.file, suggestedBufferSize: 65_536))
    }

    private func upload(_ request: HTTPRequest) async throws -> HTTPResponse {
        if await faults.forceConflict { return json(.conflict, .message(Maintenance.Conflict(running: nil).message)) }
        do {
            try await maintenance.beginRestoreUpload()
        } catch {
            return json(.conflict, .message(error.message))
        }
        let destination = uploadDirectory.appendingPathComponent("upload-\(UUID().uuidString).tgz")
        do {
            var form = try MultipartUpload(contentType: request.headers[.contentType], destination: destination)
            for try await chunk in request.bodySequence {
                try form.consume(chunk)
            }
            try form.finish()
        } catch let error as UploadError {
            await maintenance.abandonRestoreUpload()
            try? FileManager.default.removeItem(at: destination)
            return json(.badRequest, .message("Restore not started: \(error)"))
        } catch {
            await maintenance.abandonRestoreUpload()
            try? FileManager.default.removeItem(at: destination)
            throw error
        }
        await maintenance.startRestore(upload: destination, extraDelay: await faults.restoreDelaySeconds)
        return json(.accepted, .message("Restore started"))
    }

    private func login(_ request: HTTPRequest) async -> HTTPResponse {
        struct Credentials: Decodable {
            let username: String
            let password: String
            let expireTimeInHours: Double?
            let label: String?
        }
        guard let body = try? await request.bodyData,
            let credentials = try? JSONDecoder().decode(Credentials.self, from: body)
        else {
            return json(.badRequest, .message("Expected a JSON body {\"username\": …, \"password\": …}"))
        }
        do {
            guard
                let identity = try await users.authenticate(
                    username: credentials.username, password: credentials.password)
            else {
                return json(.unauthorized, .message("Invalid username or password"))
            }
            let token = try await users.issueToken(
                for: identity, label: credentials.label, expireHours: credentials.expireTimeInHours)
            return json(.ok, .object([("token", .string(token))]))
        } catch {
            return databaseUnavailable(error)
        }
    }

    /// `PUT /api/users/NAME` with `{"password": …, "roles": [...]}`: creates the user or sets
    /// its password (an admin's call, like the Admin UI's user management).
    private func setUser(_ name: String, _ request: HTTPRequest) async -> HTTPResponse {
        struct Change: Decodable {
            let password: String
            let roles: [String]?
        }
        let username = name.removingPercentEncoding ?? name
        guard !username.isEmpty, !username.contains("/"), let body = try? await request.bodyData,
            let change = try? JSONDecoder().decode(Change.self, from: body), !change.password.isEmpty
        else {
            return json(.badRequest, .message("Expected PUT /api/users/NAME with a JSON body {\"password\": …}"))
        }
        do {
            let created = try await users.setPassword(username: username, password: change.password, roles: change.roles)
            log("user \(username) \(created ? "created" : "changed")")
            return json(created ? .created : .ok, .message(created ? "User \(username) created" : "User \(username) changed"))
        } catch {
            return databaseUnavailable(error)
        }
    }

    private func simulatorSwitch(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let refusal = await refusal(request, basicOnly: true) { return refusal }
        switch (request.method, request.path) {
        case (.GET, "/sim/faults"):
            return json(.ok, await faults.json)
        case (.POST, "/sim/faults"):
            guard let settings = try? JSONDecoder().decode(Faults.Settings.self, from: await request.bodyData) else {
                return json(
                    .badRequest,
                    .message(
                        "Expected JSON with any of failNext, stallSeconds, cutDownloadAfterBytes, forceConflict, "
                            + "backupDelaySeconds, restoreDelaySeconds"))
            }
            await faults.apply(settings)
            return json(.ok, await faults.json)
        case (.POST, "/sim/reset"):
            await faults.reset()
            do { try await maintenance.forget() } catch {
                return json(.conflict, .message("Fault switches reset; status kept: \(error.message)"))
            }
            return json(.ok, .message("Fault switches and status history reset"))
        default:
            return json(.notFound, .message("Cannot \(request.method.rawValue) \(request.path)"))
        }
    }

    /// nil when the request's credentials are an admin's in the database now; else the
    /// answer: 401 (none hold), 403 (not an admin), 503 (the database cannot say).
    private func refusal(_ request: HTTPRequest, basicOnly: Bool = false) async -> HTTPResponse? {
        let found: Users.Identity?
        do { found = try await identity(request, basicOnly: basicOnly) } catch {
            return databaseUnavailable(error)
        }
        guard let identity = found else { return unauthorized() }
        return identity.isAdmin ? nil : forbidden(identity)
    }

    /// Who the request's credentials belong to: a Bearer token (or `?apiToken=`) the
    /// database issued, or Basic credentials of one of its users; nil when none hold.
    private func identity(_ request: HTTPRequest, basicOnly: Bool) async throws(SimulatorError) -> Users.Identity? {
        let header = request.headers[.authorization]
        if !basicOnly {
            var token = request.query["apiToken"]
            if let header, header.lowercased().hasPrefix("bearer ") {
                token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
            if let token { return token.isEmpty ? nil : try await users.authenticate(token: token) }
        }
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return try await users.authenticate(
            username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    private func unauthorized() -> HTTPResponse {
        var response = json(.unauthorized, .message("Unauthorized: valid credentials are required"))
        response.headers[HTTPHeader("WWW-Authenticate")] = "Basic realm=\"Connectware\""
        return response
    }

    private func forbidden(_ identity: Users.Identity) -> HTTPResponse {
        json(.forbidden, .message("Forbidden: user \(identity.username) lacks the admin role"))
    }

    private func databaseUnavailable(_ error: SimulatorError) -> HTTPResponse {
        log("database: \(error)")
        return json(.serviceUnavailable, .message("The user database cannot be read"))
    }

    private func json(_ status: HTTPStatusCode, _ body: JSONText) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: "application/json; charset=utf-8"], body: body.data)
    }
}

/// A file body that fails after `limit` bytes, so the server closes the connection
/// mid-download the way a broken network would.
struct CutFile: AsyncBufferedSequence {
    typealias Element = UInt8
    let url: URL
    let limit: Int

    struct CutError: Error {}

    func makeAsyncIterator() -> Iterator { Iterator(url: url, limit: limit) }

    struct Iterator: AsyncBufferedIteratorProtocol {
        let url: URL
        let limit: Int
        var sent = 0
        var handle: FileHandle?

        mutating func next() async throws -> UInt8? {
            try await nextBuffer(suggested: 1)?.first
        }

        mutating func nextBuffer(suggested count: Int) async throws -> Data? {
            if handle == nil { handle = try FileHandle(forReadingFrom: url) }
            guard sent < limit, let data = try handle?.read(upToCount: Swift.min(count, limit - sent)), !data.isEmpty
            else {
                try? handle?.close()
                throw CutError()
            }
            sent += data.count
            return data
        }
    }
}
