// cwbench: times one download or upload through HTTPClient, for scripts/bench.d/transfer.sh.
//   cwbench download URL FILE   streams URL into FILE (replacing it)
//   cwbench upload URL FILE     posts FILE as the multipart field "file"
// Prints "bytes=N seconds=S" on success; exits 1 with the error otherwise.
import HTTP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String) -> Never {
    writeError("cwbench: \(message)\n")
    exit(1)
}

func writeError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 + 1, ["download", "upload"].contains(arguments[1]) else {
    fail("usage: cwbench download|upload URL FILE")
}
let (mode, url, path) = (arguments[1], arguments[2], arguments[3])
let client = HTTPClient(options: TransportOptions(retry: .never, userAgent: "cwbench"))
let started = ContinuousClock.now
var bytes: Int64 = 0
do {
    if mode == "download" {
        switch try client.download(HTTPRequest(.get, url), to: path, replacing: true) {
        case .saved(let file): bytes = file.bytes
        case .rejected(let response): fail("HTTP \(response.status): \(response.text.prefix(200))")
        }
    } else {
        let name = String(path.split(separator: "/").last ?? "file")
        let request = HTTPRequest(
            .post, url,
            body: .multipartFile(field: "file", path: path, fileName: name, contentType: "application/octet-stream"))
        let response = try client.upload(request)
        guard response.isSuccess else { fail("HTTP \(response.status): \(response.text.prefix(200))") }
        var info = stat()
        stat(path, &info)
        bytes = Int64(info.st_size)
    }
} catch {
    fail(error.description)
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("bytes=\(bytes) seconds=\(seconds)")
