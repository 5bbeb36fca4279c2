import Foundation
import HTTP
import TestSupport
import Testing

@testable import ConnectwareAPI

/// `Fixtures/hostile_server.py` in one of its modes, on 127.0.0.1 (and 127.0.0.2 for `redirect`).
private final class HostileServer {
    let directory: URL
    let port: Int
    /// Where the fixture notes what reached it (the second address, the upload's size).
    let record: URL
    private let program: RunningProgram

    init(_ mode: String, extraArguments: [String] = [], directory: URL) throws {
        self.directory = directory
        record = directory.appendingPathComponent("record.txt")
        let script = TestSupport.packageRoot.appendingPathComponent(
            "Tests/ConnectwareAPITests/Fixtures/hostile_server.py")
        program = try RunningProgram(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-u", script.path, mode, record.path] + extraArguments,
            readyPrefix: "listening on", logFile: directory.appendingPathComponent("server.log"))
        port = Int(program.readyLine.split(separator: " ").last ?? "") ?? 0
    }

    var recorded: String { (try? String(contentsOf: record, encoding: .utf8)) ?? "" }

    /// SIGKILL, because children of the test runner ignore SIGTERM; `stop` then reaps it.
    func stop() {
        kill(program.processIdentifier, SIGKILL)
        program.stop()
    }
}

private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Void, any Error>?
    let finished = DispatchSemaphore(value: 0)
    func set(_ value: Result<Void, any Error>) {
        lock.withLock { result = value }
        finished.signal()
    }
    func get() -> Result<Void, any Error>? { lock.withLock { result } }
}

/// Runs `call` with a fresh client on a thread of its own and waits at most `limit`, so a client
/// that hangs fails the test instead of hanging it (stopping the server then ends the call).
/// Returns the error, or nil after recording an issue when the call succeeded or did not end.
private func failure(
    within limit: Duration = .seconds(30), baseURL: String, transport: TransportOptions,
    _ call: @escaping @Sendable (MaintenanceClient) throws -> Void
) -> ConnectwareAPIError? {
    let outcome = Outcome()
    Thread.detachNewThread {
        do {
            let client = try MaintenanceClient(
                baseURL: baseURL, authentication: .basic(user: "admin", password: "s3cret-pw"),
                transport: transport)
            try call(client)
            outcome.set(.success(()))
        } catch {
            outcome.set(.failure(error))
        }
    }
    guard outcome.finished.wait(timeout: .now() + Double(limit.components.seconds)) == .success else {
        Issue.record("the client did not return within \(limit)")
        return nil
    }
    switch outcome.get() {
    case .failure(let error as ConnectwareAPIError):
        let text = String(describing: error)
        #expect(!text.contains("\n"), "not one line: \(text)")
        #expect(!text.contains("Optional("), "leaks an Optional: \(text)")
        return error
    case .failure(let error):
        Issue.record("not a ConnectwareAPIError: \(error)")
        return nil
    default:
        Issue.record("the call succeeded against a hostile server")
        return nil
    }
}

private func transportMessage(_ error: ConnectwareAPIError?) -> String? {
    guard case .transport(let message) = error else { return nil }
    return message
}

private let quick = TransportOptions(connectTimeout: .seconds(5), lowSpeedTime: .seconds(2), retry: .never)

/// The peak resident size of this process so far, in KiB.
private func peakResidentKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

@Suite("the maintenance client against a raw socket server that misbehaves", .serialized)
struct HostileServerTests {
    @Test("headers that never end are given up on with a timeout error")
    func endlessHeaders() throws {
        let root = try TestSupport.temporaryDirectory("hostile-headers")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try HostileServer("headers", directory: root)
        defer { server.stop() }
        let error = failure(baseURL: "http://127.0.0.1:\(server.port)", transport: quick) { client in
            _ = try client.status()
        }
        let message = try #require(transportMessage(error), "\(String(describing: error))")
        #expect(message.contains("timed out"), "\(message)")
    }

    @Test("a body that stalls after 10 of 1000000 bytes ends in a timeout error")
    func stalledBody() throws {
        let root = try TestSupport.temporaryDirectory("hostile-body")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try HostileServer("body", directory: root)
        defer { server.stop() }
        let error = failure(baseURL: "http://127.0.0.1:\(server.port)", transport: quick) { client in
            _ = try client.status()
        }
        let message = try #require(transportMessage(error), "\(String(describing: error))")
        #expect(message.contains("timed out"), "\(message)")
    }

    @Test("a 100 MB status is refused at the in-memory cap without the memory growing with it")
    func hugeStatus() throws {
        let root = try TestSupport.temporaryDirectory("hostile-big")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try HostileServer("big", directory: root)
        defer { server.stop() }
        let before = peakResidentKiB()
        let error = failure(baseURL: "http://127.0.0.1:\(server.port)", transport: quick) { client in
            _ = try client.status()
        }
        let after = peakResidentKiB()
        let message = try #require(transportMessage(error), "\(String(describing: error))")
        #expect(message.contains("larger than \(16 << 20) bytes"), "\(message)")
        if let before, let after {
            #expect(after - before < 64 << 10, "peak RSS grew from \(before) KiB to \(after) KiB")
        }
    }

    @Test("a redirect to another address is not followed and the credentials do not reach it")
    func redirectToAnotherHost() throws {
        let root = try TestSupport.temporaryDirectory("hostile-redirect")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try HostileServer("redirect", directory: root)
        defer { server.stop() }
        let error = failure(baseURL: "http://127.0.0.1:\(server.port)", transport: quick) { client in
            _ = try client.status()
        }
        guard case .unexpectedStatus(let status, let expected, let message) = error else {
            Issue.record("expected unexpectedStatus, got \(String(describing: error))")
            return
        }
        #expect(message.contains("a redirect to http://127.0.0.2:\(server.port)/api/maintenance/db, not followed"))
        #expect(status == 302)
        #expect(expected == 200)
        #expect(server.recorded == "", "the second address saw: \(server.recorded)")
    }

    @Test("a TLS certificate for another name fails the host name check even with its CA trusted")
    func certificateForAnotherName() throws {
        let root = try TestSupport.temporaryDirectory("hostile-tls")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try TestSupport.shell(
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
                + "-subj /CN=other.example -addext subjectAltName=DNS:other.example 2>/dev/null",
            in: root)
        let cert = root.appendingPathComponent("cert.pem").path
        let server = try HostileServer(
            "tls", extraArguments: [cert, root.appendingPathComponent("key.pem").path], directory: root)
        defer { server.stop() }
        var options = quick
        options.caCertificatePath = cert
        let error = failure(baseURL: "https://127.0.0.1:\(server.port)", transport: options) { client in
            _ = try client.status()
        }
        let message = try #require(transportMessage(error), "\(String(describing: error))")
        #expect(message.contains("TLS failure"), "\(message)")
        #expect(message.contains("host name") || message.contains("subject name"), "\(message)")
    }

    @Test("an upload read in full and then hung up on is reported as a failed restore")
    func uploadThenClose() throws {
        let root = try TestSupport.temporaryDirectory("hostile-upload")
        defer { try? FileManager.default.removeItem(at: root) }
        let backup = root.appendingPathComponent("backup.tgz")
        try Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: backup)
        let server = try HostileServer("upload-close", directory: root)
        defer { server.stop() }
        // Retries allowed: a restore request must still not be sent a second time.
        var options = quick
        options.retry = RetryPolicy(attempts: 3, backoffBase: .milliseconds(100))
        let error = failure(baseURL: "http://127.0.0.1:\(server.port)", transport: options) { client in
            try client.startRestore(file: backup.path)
        }
        let message = try #require(transportMessage(error), "\(String(describing: error))")
        #expect(message.contains("Empty reply") || message.contains("ended"), "\(message)")
        let uploads = server.recorded.split(separator: "\n")
        #expect(uploads.count == 1, "the server saw: \(server.recorded)")
        let upload = uploads.first?.split(separator: " ") ?? []
        #expect(upload.count == 4 && upload[1] == upload[3], "the server read: \(server.recorded)")
    }
}
