import Foundation
import TestSupport

/// The fixture server (Fixtures/test_server.py) in its own process, stopped when the value goes away.
final class TestServer {
    private let process = Process()
    /// The TCP port, or 0 for a unix-socket server.
    let port: Int

    init(_ arguments: [String] = []) throws {
        let script = TestSupport.packageRoot.appendingPathComponent("Tests/HTTPTests/Fixtures/test_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw FixtureError(message: "the test server ended before it was ready")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        port = Int(text) ?? 0
    }

    deinit { stop() }

    func url(_ path: String, scheme: String = "http") -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    func stop() {
        // SIGKILL because the test runner's threads block SIGTERM, and children inherit that mask.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A self-signed certificate for 127.0.0.1 made with openssl, in its own temporary directory.
struct SelfSignedCertificate {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        directory = try TestSupport.temporaryDirectory("cwmigrate-tls")
        try TestSupport.shell(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                + "-keyout key.pem -out cert.pem -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
            in: directory)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// The bytes the fixture server sends for /bytes/N.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

func fileMode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
}

func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

func sha256(of path: String) throws -> String {
    let result = try TestSupport.shell("sha256sum '\(path)'")
    return String(result.stdout.prefix(64))
}

func json(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}
