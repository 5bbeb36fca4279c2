import Foundation
import HTTP
import TestSupport
import Testing

/// A temporary file whose descriptor a reporter writes to.
private final class CapturedOutput {
    let path: String
    let fd: Int32

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString)").path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    }

    deinit {
        close(fd)
        unlink(path)
    }

    var lines: [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

private let halfway = TransferProgress(
    direction: .download, bytes: 512, total: 1024, bytesPerSecond: 256, secondsLeft: 2)

@Suite struct ProgressTests {
    @Test func jsonLinesDescribeEachReportAndTheEnd() {
        let output = CapturedOutput()
        let reporter = JSONLinesProgress(fileDescriptor: output.fd, interval: .zero)
        reporter.report(halfway)
        reporter.finish(
            TransferProgress(direction: .upload, bytes: 7, total: nil, bytesPerSecond: 3.6, secondsLeft: nil))
        #expect(
            output.lines == [
                #"{"event":"progress","direction":"download","bytes":512,"total":1024,"bytesPerSecond":256,"secondsLeft":2}"#,
                #"{"event":"done","direction":"upload","bytes":7,"total":null,"bytesPerSecond":4,"secondsLeft":null}"#,
            ])
    }

    @Test func plainLinesAreWrittenOnlyAtEachTenthOrInterval() {
        let output = CapturedOutput()
        let reporter = PlainProgressLines(fileDescriptor: output.fd, interval: .seconds(600))
        reporter.report(halfway)
        reporter.report(
            TransferProgress(direction: .download, bytes: 520, total: 1024, bytesPerSecond: 256, secondsLeft: 2))
        reporter.report(
            TransferProgress(direction: .download, bytes: 1000, total: 1024, bytesPerSecond: 256, secondsLeft: 0.1))
        reporter.finish(
            TransferProgress(direction: .download, bytes: 1024, total: 1024, bytesPerSecond: 256, secondsLeft: nil))
        #expect(
            output.lines == [
                "download: 512 B of 1.0 KiB (50%), 256 B/s, about 2 s left",
                "download: 1000 B of 1.0 KiB (97%), 256 B/s, about 0 s left",
                "download: 1.0 KiB at 256 B/s",
            ])
    }

    @Test func theTerminalBarRedrawsOneLineAndEndsIt() throws {
        let output = CapturedOutput()
        let reporter = TerminalProgressBar(fileDescriptor: output.fd, width: 10)
        reporter.report(halfway)
        reporter.finish(
            TransferProgress(direction: .download, bytes: 1024, total: 1024, bytesPerSecond: 256, secondsLeft: nil))
        let text = try String(contentsOfFile: output.path, encoding: .utf8)
        #expect(text.hasPrefix("\r 50% [#####.....]  512 B / 1.0 KiB  256 B/s  2 s left"))
        #expect(text.contains("\r100% [##########]  1.0 KiB / 1.0 KiB  256 B/s"))
        #expect(text.hasSuffix("\n"))
        #expect(text.filter { $0 == "\n" }.count == 1)
    }

    @Test func quickLocalWorkIsLeftOutOfAPersonsLinesButNotOutOfJSON() {
        let plain = CapturedOutput()
        let plainMeter = ProgressMeter(
            direction: .verify, total: 10, reporter: PlainProgressLines(fileDescriptor: plain.fd, interval: .zero))
        plainMeter.update(bytes: 10)
        plainMeter.finish()
        #expect(plain.lines.isEmpty)
        let json = CapturedOutput()
        let jsonMeter = ProgressMeter(
            direction: .verify, total: 10, reporter: JSONLinesProgress(fileDescriptor: json.fd, interval: .zero))
        jsonMeter.update(bytes: 10)
        jsonMeter.finish()
        #expect(json.lines.count == 1)
        #expect(json.lines.first?.hasPrefix(#"{"event":"done","direction":"verify","bytes":10,"total":10,"#) == true)
    }

    @Test func aTransferAlwaysEndsWithItsLineHoweverQuick() {
        let output = CapturedOutput()
        let meter = ProgressMeter(
            direction: .download, total: 10, reporter: PlainProgressLines(fileDescriptor: output.fd, interval: .zero))
        meter.update(bytes: 10)
        meter.finish()
        #expect(output.lines.count == 1 && output.lines.first?.hasPrefix("download: 10 B at ") == true)
    }

    @Test func longLocalWorkIsReportedWithItsRateAndTimeLeftThenDone() {
        let output = CapturedOutput()
        let meter = ProgressMeter(
            direction: .snapshot, total: 1000, reporter: JSONLinesProgress(fileDescriptor: output.fd, interval: .zero))
        meter.update(bytes: 100)
        usleep(150_000)
        meter.update(bytes: 400)
        meter.finish()
        let events = output.lines.map { json(Array($0.utf8)) }
        #expect(events.map { $0["event"] as? String } == ["progress", "done"])
        #expect(events.first?["bytes"] as? Int == 400 && events.first?["direction"] as? String == "snapshot")
        #expect((events.first?["bytesPerSecond"] as? Int ?? 0) > 0 && events.first?["secondsLeft"] is Int)
        #expect(events.last?["bytes"] as? Int == 400)
    }

    @Test func aQuickLookSaysNothingInItsFirstSecond() {
        let output = CapturedOutput()
        let meter = ProgressMeter(
            direction: .read, total: 1000, reporter: JSONLinesProgress(fileDescriptor: output.fd, interval: .zero),
            silentWhenQuick: true)
        meter.update(bytes: 100)
        usleep(150_000)
        meter.update(bytes: 400)
        meter.finish()
        #expect(output.lines.isEmpty)
    }

    @Test func automaticProgressIsPlainLinesWhenNotOnATerminal() {
        let output = CapturedOutput()
        #expect(ProgressFormat.auto.reporter(fileDescriptor: output.fd) is PlainProgressLines)
        #expect(ProgressFormat.json.reporter(fileDescriptor: output.fd) is JSONLinesProgress)
        #expect(ProgressFormat.none.reporter(fileDescriptor: output.fd) == nil)
    }

    @Test func aDownloadReportsItsBytesAndEndsWithDone() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = CapturedOutput()
        let size = 20 << 20
        _ = try HTTPClient().download(
            HTTPRequest(.get, server.url("/bytes/\(size)")), to: directory.appendingPathComponent("f").path,
            progress: JSONLinesProgress(fileDescriptor: output.fd, interval: .zero))
        let events = output.lines.map { json(Array($0.utf8)) }
        #expect(events.last?["event"] as? String == "done")
        #expect(events.last?["bytes"] as? Int == size)
        let progress = events.dropLast()
        #expect(progress.allSatisfy { $0["total"] as? Int == size && $0["direction"] as? String == "download" })
        let bytes = progress.compactMap { $0["bytes"] as? Int }
        #expect(bytes == bytes.sorted())
    }

    @Test func anUploadReportsUploadProgress() throws {
        let server = try TestServer()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("up").path
        try TestSupport.shell("truncate -s \(8 << 20) '\(path)'")
        let output = CapturedOutput()
        let request = HTTPRequest(
            .post, server.url("/upload"),
            body: .multipartFile(field: "file", path: path, fileName: "up", contentType: "application/octet-stream"))
        _ = try HTTPClient().upload(request, progress: JSONLinesProgress(fileDescriptor: output.fd, interval: .zero))
        let done = json(Array((output.lines.last ?? "").utf8))
        #expect(done["event"] as? String == "done")
        #expect(done["direction"] as? String == "upload")
        // The multipart framing adds a few hundred bytes to the file's own.
        #expect((done["bytes"] as? Int ?? 0) > 8 << 20)
    }
}
