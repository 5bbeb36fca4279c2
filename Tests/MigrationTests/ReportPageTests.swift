import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// A journal that real lab runs wrote (see Fixtures/reports/README.md).
func realJournal(_ name: String) throws -> Journal {
    let url = TestSupport.packageRoot.appendingPathComponent(
        "Tests/MigrationTests/Fixtures/reports/\(name).journal.json")
    return try JournalCoding.decode(try Data(contentsOf: url))
}

/// The page without the SVG namespace, which names a namespace and loads nothing.
private func withoutNamespace(_ html: String) -> String {
    html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
}

/// A step that works the CPU for a while: cwmigrate's own work.
private struct BusyStep: StepRunner {
    func checkPreconditions(_ context: StepContext) throws(MigrationError) {}
    /// Works until this process has spent 0.2 s of CPU time, however busy the machine is.
    func act(_ context: StepContext) throws(MigrationError) {
        let start = clock()
        var x: UInt64 = 1
        while Double(clock() - start) / Double(CLOCKS_PER_SEC) < 0.2 {
            for i in 0..<10_000 { x = x &* 6_364_136_223_846_793_005 &+ UInt64(i) }
        }
        if x == 42 { print("") }
    }
    func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        .holds(message: "busy", artifacts: [])
    }
}

/// A step that only waits, as for Connectware or Docker.
private struct WaitingStep: StepRunner {
    func checkPreconditions(_ context: StepContext) throws(MigrationError) {}
    func act(_ context: StepContext) throws(MigrationError) { usleep(400_000) }
    func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        .holds(message: "waited", artifacts: [])
    }
}

@Suite("run reports as pages")
struct ReportPageTests {
    @Test func theHTMLOfARealRunNamesEveryStepArtifactVersionAndTheDowntime() throws {
        let report = RunReport(try realJournal("completed"))
        let html = report.html()
        #expect(report.steps.count == 11)
        for step in report.steps {
            #expect(html.contains("\(step.position). \(step.kind)</text>"), "the timeline lacks \(step.kind)")
            #expect(html.contains(step.title), "the steps table lacks \(step.title)")
        }
        #expect(report.artifacts.count == 4)
        for artifact in report.artifacts {
            #expect(html.contains(artifact.sha256))
            #expect(html.contains("\(artifact.bytes) bytes"))
        }
        #expect(html.contains("downtime 39.4 s"))
        #expect(html.contains("1.8.0 → 1.8.0"))
        #expect(html.contains("on 1.7.3, then up through 1.8.0"))
        #expect(html.contains(escapedAsOnThePage(report.reason)))
        #expect(html.contains("<svg"))
    }

    @Test func thePageLoadsNothingFromAnywhere() throws {
        for name in ["completed", "failed-restore", "failed-backup"] {
            let html = withoutNamespace(RunReport(try realJournal(name)).html())
            for forbidden in [
                "http://", "https://", "<script", "<link", "<img", "@import", "src=", "href=", "@font-face",
            ] {
                #expect(!html.contains(forbidden), "\(name): \(forbidden)")
            }
            #expect(!html.replacingOccurrences(of: "url(#wait)", with: "").contains("url("))
            #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        }
    }

    @Test func textFromTheJournalOrTheServerIsEscaped() throws {
        var journal = try realJournal("failed-restore")
        journal.steps[6].message = "<script>alert('x')</script> & \"more\""
        journal.outcomeMessage = "<b>bold</b>"
        let html = RunReport(journal).html()
        #expect(!html.contains("<script>") && !html.contains("<b>bold"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"))
        #expect(html.contains("&lt;b&gt;bold&lt;/b&gt;"))
    }

    @Test func aFailedRunShowsWhereItStoppedAndThatTheDowntimeIsNotOver() throws {
        let report = RunReport(try realJournal("failed-restore"))
        let html = report.html()
        #expect(report.outcome == "failed")
        #expect(report.downtimeText == "not over")
        #expect(report.versionAfter == "1.7.3")
        #expect(html.contains("down since +0:07, not over"))
        #expect(html.contains("1.8.0 → 1.7.3"))
        #expect(html.contains("step 7 restore failed"))
        #expect(html.components(separatedBy: ">not started<title>").count - 1 == 4)
    }

    @Test func aRunStillGoingShowsItsRunningStepOpenToTheLatestTime() throws {
        var journal = try realJournal("completed")
        journal.steps[10].state = .running
        journal.steps[10].endedAt = nil
        journal.steps[10].cpuSeconds = nil
        journal.outcome = .inProgress
        journal.endedAt = nil
        let html = RunReport(journal).html()
        #expect(html.contains("<span class=\"badge in-progress\">in-progress</span>"))
        #expect(html.contains(">running</text>"))
        #expect(html.contains("stroke-dasharray=\"3 2\"><title>11. Take a new backup"))
        #expect(html.contains("ended not yet"))
    }

    @Test func aRunThatNeverTookConnectwareDownHasNoDowntime() throws {
        let report = RunReport(try realJournal("failed-backup"))
        #expect(report.downtimeText == "none")
        #expect(report.html().contains("no step took Connectware down"))
    }

    @Test func ownWorkAndWaitingAddUpToEachMeasuredStep() throws {
        let report = RunReport(try realJournal("completed"))
        for step in report.steps {
            let cpu = try #require(step.cpuSeconds, "step \(step.position) was not measured")
            let wait = try #require(step.waitSeconds)
            #expect(abs(cpu + wait - (step.durationSeconds ?? -1)) < 0.002)
        }
        let install = try #require(report.steps.first { $0.kind == .installOlder })
        #expect(try #require(install.waitSeconds) > 10 * (install.cpuSeconds ?? 1), "an install is mostly waiting")
    }

    @Test func aRunMeasuresEachStepsOwnCPUTimeApartFromItsWaiting() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        var byKind: [StepKind: any StepRunner] = [:]
        for step in journal.plan.steps { byKind[step.id] = FileStep() }
        byKind[.freshBackup] = BusyStep()
        byKind[.shutdown] = WaitingStep()
        let lock = try RunLock.acquire(journal.installation, in: store, holder: "test")
        defer { lock.release() }
        try MigrationRun(journal: journal, store: store, lock: lock, runners: StepRunners(byKind), clock: { Date() })
            .run()
        let saved = try store.load(journal.id)
        let busy = try #require(saved.steps.first { $0.kind == .freshBackup })
        #expect(try #require(busy.cpuSeconds) >= 0.2, "the step spent 0.2 s of CPU time")
        // Other tests share this process's CPU time, so the waiting step's own share is not
        // pinned here; the report splits its duration into the two parts all the same.
        let waiting = try #require(RunReport(saved).steps.first { $0.kind == .shutdown })
        #expect(try #require(waiting.durationSeconds) >= 0.4)
        let cpu = try #require(waiting.cpuSeconds)
        let wait = try #require(waiting.waitSeconds)
        #expect(abs(cpu + wait - (waiting.durationSeconds ?? 0)) < 0.002)
    }

    @Test func aRestoreRefusedUnderTheFirstPlanIsOnTheTimelineAndInATableOfItsOwn() throws {
        let report = RunReport(try realJournal("replanned"))
        let replaced = try #require(report.replacedSteps)
        #expect(replaced.map(\.kind.rawValue) == ["restore"], "the fresh backup was kept, so only the restore is the old plan's")
        #expect(replaced.first?.state == "failed")
        let html = report.html()
        #expect(html.contains("2. restore (plan given up)</text>"))
        #expect(html.contains("<h2>Steps of the plan given up</h2>"))
        #expect(report.decision == .downgradeRequired && report.replacedPlans.count == 1)
        #expect(RunReport(try realJournal("completed")).replacedSteps == nil)
    }

    @Test func theMarkdownReportNamesTheVersionConnectwareRunsAfterTheRun() throws {
        let markdown = RunReport(try realJournal("failed-restore")).markdown()
        #expect(markdown.contains("| Running after the run | 1.7.3 |"))
    }

    @Test func aReportReadBackFromItsJSONRendersTheSamePage() throws {
        let report = RunReport(try realJournal("completed"))
        let decoded = try JSONDecoder().decode(RunReport.self, from: Data(report.json()))
        #expect(decoded.html() == report.html())
    }
}

/// The escaped form of `text` as the page writes it.
private func escapedAsOnThePage(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        .replacingOccurrences(of: "'", with: "&#39;")
}
