import Foundation
import HTTP
import TestSupport
import Testing

@Suite struct DownloadTests {
    @Test func aDownloadCreatesTheFileWithMode0600AndExactBytes() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        let size = 3 << 20 + 17
        let result = try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/\(size)")), to: path)
        guard case .saved(let file) = result else {
            Issue.record("expected a saved file, got \(result)")
            return
        }
        #expect(file.bytes == Int64(size))
        #expect(file.status == 200)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == pattern(size))
        #expect(fileMode(path) == 0o600)
        #expect(!exists(path + ".part"))
    }

    /// The file is handed to the disk 8 MiB at a time while the body still arrives; what is
    /// saved must be the body, whole, at every window's edge and past the last one.
    @Test func aDownloadSpanningSeveralWriteBackWindowsIsSavedExactly() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        let size = 3 * (8 << 20) + 4097
        let result = try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/\(size)")), to: path)
        guard case .saved(let file) = result else {
            Issue.record("expected a saved file, got \(result)")
            return
        }
        #expect(file.bytes == Int64(size))
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == pattern(size))
        #expect(!exists(path + ".part"))
    }

    @Test func aBodyWithoutContentLengthIsSavedWhole() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out").path
        _ = try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/200000?nolength=1")), to: path)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == pattern(200_000))
    }

    @Test func anInterruptedDownloadLeavesNeitherTheFileNorThePart() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        let client = HTTPClient(options: TransportOptions(retry: .never))
        #expect(
            throws: HTTPError.partialTransfer(
                url: server.url("/cut/1000000/300000"), received: 300_000, expected: 1_000_000)
        ) {
            try client.download(HTTPRequest(.get, server.url("/cut/1000000/300000")), to: path)
        }
        #expect(!exists(path))
        #expect(!exists(path + ".part"))
    }

    @Test func anInterruptedDownloadIsRetriedAndStillLeavesNothing() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        let policy = RetryPolicy(attempts: 3, backoffBase: .milliseconds(10), backoffMax: .milliseconds(10))
        let client = HTTPClient(options: TransportOptions(retry: policy))
        #expect(throws: HTTPError.self) {
            try client.download(HTTPRequest(.get, server.url("/cut/500000/1000")), to: path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func aNon2xxAnswerLeavesNoFileAndKeepsTheServersMessage() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        let result = try HTTPClient().download(HTTPRequest(.get, server.url("/status/404")), to: path)
        guard case .rejected(let response) = result else {
            Issue.record("expected a rejection, got \(result)")
            return
        }
        #expect(response.status == 404)
        #expect(response.text == "server says 404")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func aDownloadIsRetriedAfter503AndSavesOnlyTheGoodBody() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("f").path
        let policy = RetryPolicy(attempts: 3, backoffBase: .milliseconds(10), backoffMax: .milliseconds(10))
        let result = try HTTPClient(options: TransportOptions(retry: policy))
            .download(HTTPRequest(.get, server.url("/flaky/k/2/503")), to: path)
        guard case .saved = result else {
            Issue.record("expected a saved file, got \(result)")
            return
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "ok after 2 failures")
    }

    @Test func anExistingFileIsNotReplacedUnlessAsked() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("backup.tgz").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let client = HTTPClient()
        #expect(throws: HTTPError.file(path: path, message: "already exists")) {
            try client.download(HTTPRequest(.get, server.url("/bytes/10")), to: path)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        _ = try client.download(HTTPRequest(.get, server.url("/bytes/10")), to: path, replacing: true)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == pattern(10))
    }

    /// Refused before the request is sent, naming the file asked for and what is wrong.
    @Test func anUnwritableDirectoryIsAFileError() throws {
        let server = try TestServer()
        let path = "/nonexistent-dir/backup.tgz"
        #expect(throws: HTTPError.file(path: path, message: "/nonexistent-dir does not exist")) {
            try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/10")), to: path)
        }
    }
}

@Suite struct UploadTests {
    @Test func aLargeMultipartUploadArrivesWithTheRightChecksum() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.tgz").path
        try TestSupport.shell("head -c \(200 << 20) /dev/urandom > '\(path)'")
        let expected = try sha256(of: path)
        let request = HTTPRequest(
            .post, server.url("/upload"),
            body: .multipartFile(field: "file", path: path, fileName: "backup.tgz", contentType: "application/gzip"))
        let response = try HTTPClient().upload(request)
        #expect(response.status == 200)
        let file = (json(response.body)["files"] as? [[String: Any]])?.first ?? [:]
        #expect(file["sha256"] as? String == expected)
        #expect(file["length"] as? Int == 200 << 20)
        #expect(file["field"] as? String == "file")
        #expect(file["filename"] as? String == "backup.tgz")
        #expect(file["contentType"] as? String == "application/gzip")
    }

    @Test func aMissingUploadFileIsNamedBeforeAnythingIsSent() {
        let request = HTTPRequest(
            .post, "http://127.0.0.1:1/upload",
            body: .multipartFile(field: "file", path: "/nonexistent/x.tgz", fileName: "x.tgz", contentType: "a/b"))
        #expect(throws: HTTPError.file(path: "/nonexistent/x.tgz", message: "No such file or directory")) {
            try HTTPClient().upload(request)
        }
    }

    @Test func uploadAndDownloadOfLargeFilesKeepMemorySmall() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("source").path
        try TestSupport.shell("truncate -s \(256 << 20) '\(source)'")
        let upload = try peakMemory(of: ["upload", server.url("/upload"), source], in: directory)
        #expect(upload.status == 0, "\(upload.stderr)")
        let target = directory.appendingPathComponent("target").path
        let download = try peakMemory(of: ["download", server.url("/bytes/\(256 << 20)"), target], in: directory)
        #expect(download.status == 0, "\(download.stderr)")
        #expect(download.stdout.hasPrefix("bytes=\(256 << 20) "))
        // A body held in memory would need 256 MiB; a streamed one needs a few buffers.
        #expect(upload.kib > 0 && upload.kib < 40 << 10)
        #expect(download.kib > 0 && download.kib < 40 << 10)
    }

    /// Runs cwbench under GNU time: a child spawned straight from the test runner would
    /// report the runner's own peak (Linux carries the pre-exec high-water mark over exec).
    private func peakMemory(
        of arguments: [String], in directory: URL
    ) throws -> (status: Int32, stdout: String, stderr: String, kib: Int) {
        let report = directory.appendingPathComponent("time-\(arguments[0])").path
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/time"),
            ["-f", "%M", "-o", report, TestSupport.product("cwbench").path] + arguments)
        let kib = Int((try? String(contentsOfFile: report, encoding: .utf8))?.split(separator: "\n").last ?? "") ?? 0
        return (result.status, result.stdout, result.stderr, kib)
    }
}
