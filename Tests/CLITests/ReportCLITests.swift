import Foundation
import TestSupport
import Testing

/// Journals real lab runs wrote (Tests/MigrationTests/Fixtures/reports/README.md).
private let fixtures = TestSupport.packageRoot.appendingPathComponent("Tests/MigrationTests/Fixtures/reports")

private func cwmigrate(_ arguments: [String], in directory: URL? = nil) throws -> ProgramResult {
    try TestSupport.run(TestSupport.product("cwmigrate"), arguments, currentDirectory: directory)
}

/// A state directory holding the named real journals as its runs; returns it and the run ids.
private func stateDirectory(_ journals: [String], in directory: URL) throws -> (path: String, ids: [String]) {
    let state = directory.appendingPathComponent("state")
    let runs = state.appendingPathComponent("runs")
    try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    var ids: [String] = []
    for name in journals {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("\(name).journal.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let id = try #require(object["id"] as? String)
        try data.write(to: runs.appendingPathComponent("\(id).json"))
        ids.append(id)
    }
    return (state.path, ids)
}

/// A fleet directory as the playbook fetches it, each host's report written by `cwmigrate report`.
private func fleetDirectory(_ hosts: [(host: String, journal: String)], in directory: URL) throws -> String {
    let fleet = directory.appendingPathComponent("reports")
    for (index, entry) in hosts.enumerated() {
        let scratch = directory.appendingPathComponent("host-\(index)")
        let state = try stateDirectory([entry.journal], in: scratch)
        let hostDirectory = fleet.appendingPathComponent(entry.host)
        try FileManager.default.createDirectory(at: hostDirectory, withIntermediateDirectories: true)
        let made = try cwmigrate([
            "report", state.ids[0], "--state-dir", state.path, "--format", "json", "--output",
            hostDirectory.appendingPathComponent("\(state.ids[0]).report.json").path,
        ])
        #expect(made.status == 0, "\(made.stderr)")
    }
    return fleet.path
}

private func chromiumPath() throws -> String {
    guard
        let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        })
    else { throw RunbookToolMissing(tool: "chromium") }
    return found
}

/// Every request a browser sends through it, as the request lines it saw.
private final class RecordingProxy {
    let program: RunningProgram
    let log: URL
    let port: Int

    init(in directory: URL) throws {
        log = directory.appendingPathComponent("proxy-requests.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let script = """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print("listening", s.getsockname()[1], flush=True)
            while True:
                c, _ = s.accept()
                c.settimeout(2)
                try:
                    first = c.recv(65536).split(b"\\r\\n")[0]
                except OSError:
                    first = b"(no request line)"
                with open(sys.argv[1], "ab") as f:
                    f.write(first + b"\\n")
                c.close()
            """
        program = try RunningProgram(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, log.path], readyPrefix: "listening ",
            logFile: directory.appendingPathComponent("proxy.stderr"))
        port = Int(program.readyLine.split(separator: " ").last ?? "") ?? 0
    }

    var requests: [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Chromium's own services, which it calls whatever page it shows (flags do not silence
    /// them all): its updater, network time and sign-in. Everything else came from the page.
    static let browserServices = ["update.googleapis.com", "clients2.google.com/time/", "accounts.google.com:443"]

    /// The requests the page made: all but Chromium's own.
    var pageRequests: [String] {
        requests.filter { line in !Self.browserServices.contains { line.contains($0) } }
    }

    deinit { program.stop() }
}

/// Headless Chromium, every connection it makes sent to `proxy` (none bypasses it, loopback included).
private func chromium(_ arguments: [String], profile: URL, proxy: RecordingProxy) throws -> ProgramResult {
    try TestSupport.run(
        URL(fileURLWithPath: "/usr/bin/timeout"),
        [
            "-s", "KILL", "90", try chromiumPath(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--no-default-browser-check", "--user-data-dir=\(profile.path)",
            "--proxy-server=http://127.0.0.1:\(proxy.port)", "--proxy-bypass-list=<-loopback>",
        ] + arguments, environment: ["HOME": profile.path])
}

/// The text pdftotext finds in `pdf`, all white space as single spaces.
private func pdfText(_ pdf: URL) throws -> String {
    let result = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [pdf.path, "-"])
    #expect(result.status == 0)
    return result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// Without white space and hyphens, which pdftotext moves around where it breaks lines.
private func bare(_ text: String) -> String { text.filter { !$0.isWhitespace && $0 != "-" } }

@Suite("cwmigrate report")
struct ReportCLITests {
    @Test func theHTMLReportOfARealRunPrintsEveryStepAndArtifactInChromiumAndLoadsNothing() throws {
        let directory = try TestSupport.temporaryDirectory("report-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = try stateDirectory(["completed"], in: directory)
        let html = directory.appendingPathComponent("run.html")
        let made = try cwmigrate(["report", "last", "--state-dir", state.path, "--output", html.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.isEmpty)
        #expect(made.stderr == "note: wrote \(html.path): the report of run \(state.ids[0]) (completed)\n")

        let proxy = try RecordingProxy(in: directory)
        let pdf = directory.appendingPathComponent("run.pdf")
        let png = directory.appendingPathComponent("run.png")
        let profile = directory.appendingPathComponent("profile")
        let printed = try chromium(["--print-to-pdf=\(pdf.path)", html.path], profile: profile, proxy: proxy)
        #expect(printed.status == 0, "\(printed.stderr)")
        let shot = try chromium(
            ["--screenshot=\(png.path)", "--window-size=1200,2600", "--hide-scrollbars", html.path], profile: profile,
            proxy: proxy)
        #expect(shot.status == 0, "\(shot.stderr)")
        let picture = try Data(contentsOf: png)
        #expect(picture.count > 50_000 && picture.starts(with: [0x89, 0x50, 0x4E, 0x47]))

        let text = try pdfText(pdf)
        let report = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try cwmigrate(["report", "--state-dir", state.path, "--format", "json"]).stdout.utf8))
                as? [String: Any])
        let steps = try #require(report["steps"] as? [[String: Any]])
        #expect(steps.count == 11)
        for step in steps {
            let kind = try #require(step["kind"] as? String)
            let title = try #require(step["title"] as? String)
            #expect(text.contains("\(step["position"] as? Int ?? 0). \(kind)"), "the timeline lacks \(kind)")
            // pdftotext drops a hyphen where a word was broken over a line: compare without them.
            #expect(bare(text).contains(bare(title)), "the table lacks \(title)")
        }
        for artifact in try #require(report["artifacts"] as? [[String: Any]]) {
            let sha = try #require(artifact["sha256"] as? String)
            // pdftotext may break the long hash across a line; its halves are there.
            #expect(bare(text).contains(sha))
            #expect(text.contains("\(artifact["bytes"] as? Int ?? -1) bytes"))
        }
        #expect(text.contains("downtime 39.4 s"))
        #expect(text.contains("1.8.0 → 1.8.0"))
        #expect(text.contains("downgrade-required"))
        #expect(proxy.pageRequests.isEmpty, "the page loaded \(proxy.pageRequests)")
    }

    @Test func theRecordingProxySeesAPageThatLoadsSomethingFromElsewhere() throws {
        let directory = try TestSupport.temporaryDirectory("report-cli-control")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("external.html")
        try "<!DOCTYPE html><html><body><img src=\"http://cwmigrate-report-test.invalid/logo.png\">x</body></html>"
            .write(to: page, atomically: true, encoding: .utf8)
        let proxy = try RecordingProxy(in: directory)
        _ = try chromium(
            ["--print-to-pdf=\(directory.appendingPathComponent("x.pdf").path)", page.path],
            profile: directory.appendingPathComponent("profile"), proxy: proxy)
        #expect(proxy.pageRequests.contains { $0.contains("cwmigrate-report-test.invalid") }, "\(proxy.requests)")
    }

    @Test func theFleetPageShowsEveryHostFailuresFirstInChromium() throws {
        let directory = try TestSupport.temporaryDirectory("report-cli-fleet")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fleet = try fleetDirectory(
            [
                ("plant-a", "completed"), ("plant-b", "failed-restore"), ("plant-c", "failed-backup"),
                ("plant-d", "resumed"),
            ],
            in: directory)
        try FileManager.default.createDirectory(
            atPath: fleet + "/plant-e", withIntermediateDirectories: true)
        let html = directory.appendingPathComponent("fleet.html")
        let made = try cwmigrate(["report", "--fleet", fleet, "--output", html.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("the fleet page for 5 hosts (2 failed, 1 no-report, 2 completed)"))
        let proxy = try RecordingProxy(in: directory)
        let pdf = directory.appendingPathComponent("fleet.pdf")
        let printed = try chromium(
            ["--print-to-pdf=\(pdf.path)", html.path], profile: directory.appendingPathComponent("profile"),
            proxy: proxy)
        #expect(printed.status == 0, "\(printed.stderr)")
        let text = try pdfText(pdf)
        let order = ["plant-b", "plant-c", "plant-e", "plant-a", "plant-d"].map { host in
            text.range(of: host).map { text.distance(from: text.startIndex, to: $0.lowerBound) } ?? -1
        }
        #expect(!order.contains(-1), "a host is missing: \(text)")
        #expect(order == order.sorted(), "failures first, then the host without a report, then the completed")
        #expect(text.contains("39.4 s") && text.contains("not over") && text.contains("none"))
        #expect(text.contains("step 7 restore failed"))
        #expect(proxy.pageRequests.isEmpty, "the page loaded \(proxy.pageRequests)")
    }

    @Test func markdownAndJSONGoToStdout() throws {
        let directory = try TestSupport.temporaryDirectory("report-cli-md")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = try stateDirectory(["failed-backup", "failed-restore"], in: directory)
        let markdown = try cwmigrate(["report", state.ids[0], "--state-dir", state.path, "--format", "markdown"])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# cwmigrate run \(state.ids[0]): failed\n"))
        let json = try cwmigrate(["report", "--state-dir", state.path, "--format", "json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["run"] as? String == state.ids[1], "last is the newest run")
        #expect(object["format"] as? String == "cwmigrate-report/1")
        #expect(object["versionAfter"] as? String == "1.7.3")
    }

    @Test func mistakesEndInOneErrorLineAndTheirExitCode() throws {
        let directory = try TestSupport.temporaryDirectory("report-cli-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = try stateDirectory(["completed"], in: directory)
        let empty = directory.appendingPathComponent("empty").path
        let cases: [([String], Int32, String)] = [
            (["report", "not-a-run", "--state-dir", state.path], 64, "error: 'not-a-run' is not a run id"),
            (
                ["report", "20990101T000000Z-abcdef", "--state-dir", state.path], 66,
                "error: no run 20990101T000000Z-abcdef"
            ),
            (["report", "--state-dir", empty], 66, "error: no runs in \(empty)"),
            (["report", "--fleet", empty], 66, "error: no fleet reports in \(empty): it is not a directory"),
            (
                ["report", "--fleet", state.path + "/runs"], 66,
                "error: no fleet reports in \(state.path)/runs: it holds no host directory"
            ),
            (["report", "--state-dir", state.path, "--output", "/nonexistent/dir/r.html"], 73, "error: "),
        ]
        for (arguments, code, line) in cases {
            let result = try cwmigrate(arguments)
            #expect(result.status == code, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix(line), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Optional("))
        }
        let both = try cwmigrate(["report", "last", "--fleet", empty])
        #expect(both.status == 64)
        #expect(both.stderr.contains("give a RUN or --fleet DIR, not both"))
    }
}
