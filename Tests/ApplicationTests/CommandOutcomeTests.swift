import Application
import ConnectwareAPI
import DockerOps
import Foundation
import Migration
import Planner
import TestSupport
import Testing

// What a command says once the application layer has done its work: the lines on each stream
// and the exit code, from the results the libraries give.

private func version(_ text: String) -> Version { Version.parse(text)! }

/// The bundled playbook's plan with the example barrier: a 1.0.73 backup on 1.8.0 is a downgrade to 1.7.3.
private func downgradePlan() throws -> Plan {
    let playbook = try Playbook(
        yaml: String(
            contentsOf: TestSupport.packageRoot.appendingPathComponent("playbooks/docker-compose.yml"), encoding: .utf8),
        source: "docker-compose.yml")
    let knowledge = try CompatibilityKnowledge(
        yaml: String(contentsOfFile: TestSupport.exampleCompat, encoding: .utf8), source: "compat-example.yml")
    return makePlan(backup: version("1.0.73"), running: version("1.8.0"), knowledge: knowledge, playbook: playbook)
}

private func sources(_ compatFiles: [String]) -> PlanSources {
    PlanSources(
        compatFiles: compatFiles, ignoringExamples: false, playbookPath: nil, dataDirectory: nil, installation: nil)
}

private func journal(_ plan: Plan) -> Journal {
    let date = Date(timeIntervalSince1970: 1_795_000_000)
    return Journal(
        id: Journal.makeID(at: date), createdAt: date,
        installation: InstallationRef(name: "connectware", directory: "/opt/connectware"),
        backup: BackupRecord(
            path: "/var/backups/connectware-1.0.73.tgz", version: plan.backupVersion, id: nil,
            sha256: String(repeating: "ab", count: 32)),
        plan: plan)
}

@Test func aWaitSaysEachUpdateAsALineOrAsJSONAndNothingWithProgressNone() {
    let update = WaitUpdate.answeringAgain(afterSeconds: 42)
    for (format, expected) in [(ProgressFormat.plain, update.line + "\n"), (.json, update.json + "\n"), (.none, "")] {
        let io = ScriptedIO()
        let waiting = ServerWaiting(operation: .seconds(60), unanswered: .seconds(7), progress: format)
        let settings = waiting.settings(Console(environment: [:], io: io))
        settings.onUpdate(update)
        #expect(io.errors == expected, "\(format)")
        #expect(io.output.isEmpty)
        #expect(settings.unansweredLimit == .seconds(7))
    }
    let quiet = Console(verbosity: .quiet, environment: [:], io: ScriptedIO())
    #expect(ServerWaiting(operation: .seconds(1), unanswered: .seconds(1), progress: .plain).reporter(quiet) == nil)
}

@Test func aRestoreThatFailedForAnotherReasonIsAnErrorWithExitTwelveAndSaysNothingElse() throws {
    let io = ScriptedIO()
    let restore = RestoreExecution(
        file: "b.tgz", running: nil, sources: sources(["/nonexistent/compat.yml"]), unattended: true,
        acceptingExampleData: false, precheckOnly: false,
        waiting: ServerWaiting(operation: .seconds(1), unanswered: .seconds(1), progress: .none), waitForRunning: nil)
    let failure = #expect(throws: Failure.self) {
        try restore.refused(
            RestoreRefusal(statusMessage: "pg_restore: could not write to file: No space left on device"),
            advice: RestoreAdvice(file: "b.tgz", backup: version("1.0.73")), console: Console(environment: [:], io: io))
    }
    #expect(failure?.exitCode == ExitStatus.restoreFailed)
    #expect(
        failure?.message
            == "the restore failed on Connectware: pg_restore: could not write to file: No space left on device")
    #expect(io.output.isEmpty && io.errors.isEmpty)
}

@Test func aRefusalNamingAVersionWithoutTheRunningVersionSaysTheDowngradeAndThePlanCommand() throws {
    let io = ScriptedIO()
    let restore = RestoreExecution(
        file: "my backup.tgz", running: nil, sources: sources([]), unattended: true, acceptingExampleData: false,
        precheckOnly: false,
        waiting: ServerWaiting(operation: .seconds(1), unanswered: .seconds(1), progress: .none), waitForRunning: nil)
    let message = "Latest version able to restore: 1.0.91 (backup version 1.0.73)"
    let code = try restore.refused(
        RestoreRefusal(statusMessage: message), advice: RestoreAdvice(file: "my backup.tgz", backup: version("1.0.73")),
        console: Console(environment: [:], io: io))
    #expect(code == ExitStatus.downgradeRequired)
    #expect(io.errors.hasPrefix("error: Connectware refused the restore: \(message)\n"))
    #expect(io.errors.contains("note: give --running next time"))
    #expect(
        io.output == """
            Decision: downgrade-required
            The refusal names 1.0.91 as the last version that restores this backup.
            The plan: cwmigrate plan --backup 'my backup.tgz' --running <running version> --refusal '\(message)'

            """)
}

@Test func aRestorePredictedToBeRefusedStopsBeforeConnectwareIsAskedWithTheDecisionsExitCode() throws {
    let work = try TestSupport.temporaryDirectory("cwmigrate-restore")
    defer { TestSupport.remove(work) }
    let id = "1.0.73_2022-02-16T15:37:19.242Z"
    try TestSupport.shell(
        """
        mkdir -p 'src/\(id)' && printf '{"version":"1.0.73","id":"\(id)"}' > 'src/\(id)/metadata.json' \
        && head -c 1024 /dev/urandom > 'src/\(id)/cybus_connectware.dump' \
        && tar -C src -czf backup.tgz '\(id)/metadata.json' '\(id)'
        """, in: work)
    let io = ScriptedIO(personPresent: false)
    let restore = RestoreExecution(
        file: work.appendingPathComponent("backup.tgz").path, running: version("1.8.0"),
        sources: sources([TestSupport.exampleCompat]), unattended: false,
        acceptingExampleData: false, precheckOnly: false,
        waiting: ServerWaiting(operation: .seconds(1), unanswered: .seconds(1), progress: .none), waitForRunning: nil)
    let code = try restore.run(
        environment: [:],
        connect: {
            Issue.record("a predicted refusal connects to nothing")
            throw Failure(message: "connected", exitCode: 1)
        }, console: Console(environment: [:], io: io))
    #expect(code == ExitStatus.downgradeRequired)
    #expect(io.errors.contains("Connectware 1.0.73, verified, sha256 "))
    #expect(io.output.hasPrefix("Decision: downgrade-required (predicted, nothing was uploaded)\nWhy: "))
    #expect(io.output.contains("The plan: cwmigrate plan --backup "))
}

@Test func aRunStoppedByARefusalAtTheOlderVersionSaysThePlanItGivesTheReportAndTheHintWithExitEleven() throws {
    let plan = try downgradePlan()
    let stopped = journal(plan)
    let refusal = RestoreRefusal(statusMessage: "Latest version able to restore: 1.0.91 (backup version 1.0.73)")
    let io = ScriptedIO()
    let outcome = MigrationOutcome.stopped(
        stopped, .restoreRefused(position: 6, kind: .restore, atVersion: version("1.7.3"), refusal: refusal),
        report: "/state/run.report.md", followingPlan: plan)
    let code = try outcome.say(on: Console(environment: [:], io: io))
    #expect(code == ExitStatus.restoreRefused)
    let out = io.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(out.first == "The plan this refusal gives, from Connectware 1.7.3 as it runs now:")
    #expect(out.dropLast().last == "report: /state/run.report.md")
    let errors = io.errors.split(separator: "\n").map(String.init)
    #expect(errors.count == 2)
    #expect(errors.first?.hasPrefix("error: ") == true)
    #expect(
        errors.last?.hasPrefix("hint: go back to Connectware 1.8.0 with `cwmigrate rollback \(stopped.id)`") == true)
}

@Test func aRunStoppedOtherwiseSaysItsReportAndThrowsItsFailure() throws {
    let stopped = journal(try downgradePlan())
    let io = ScriptedIO()
    let outcome = MigrationOutcome.stopped(
        stopped, .declined(position: 1, kind: .shutdown), report: "/state/run.report.md", followingPlan: nil)
    let failure = #expect(throws: Failure.self) { try outcome.say(on: Console(environment: [:], io: io)) }
    #expect(failure?.exitCode == ExitStatus.paused)
    #expect(failure?.hint?.contains("cwmigrate migrate --resume \(stopped.id)") == true)
    #expect(io.output == "report: /state/run.report.md\n")
    #expect(io.errors.isEmpty)
}

private func keepTag(_ version: String, bytes: Int64, image: String) -> ImageTag {
    let reference = "cwmigrate-keep/cybus/postgresql:\(version)"
    return ImageTag(reference: reference, imageID: image, bytes: bytes, tagsOfImage: [reference])
}

@Test func keptImagesAreListedWithTheirSizesThenWhatTheyHoldOrWhatReleasingThemFreed() {
    let kept = KeptImages(
        tags: [keepTag("1.7.3", bytes: 2 << 20, image: "a"), keepTag("1.8.0", bytes: 1 << 20, image: "b")],
        unfinishedRuns: [], unreadableRuns: [])
    #expect(
        kept.lines(released: true) == [
            "cwmigrate-keep/cybus/postgresql:1.7.3  2.0 MiB", "cwmigrate-keep/cybus/postgresql:1.8.0  1.0 MiB",
            "Released the 2 keep tags; 3.0 MiB freed in the Docker data root.",
        ])
    #expect(
        kept.lines(released: false).last?.hasPrefix("2 keep tags of cwmigrate (cwmigrate-keep/…:1.7.3, 1.8.0)") == true)
    #expect(
        KeptImages(tags: [], unfinishedRuns: [], unreadableRuns: []).lines(released: false) == [
            "No keep tags of cwmigrate on this Docker host."
        ])
}

@Test func afterAnAbandonKeepTagsAnotherRunMayNeedAreOnlySaidAndTheOthersAreReleased() {
    let tag = keepTag("1.7.3", bytes: 1 << 20, image: "a")
    let needed = KeptImages(tags: [tag], unfinishedRuns: ["20261130-100000-abcd"], unreadableRuns: [])
    let said = KeptImages.afterAbandon(needed) {
        Issue.record("what another run may need is not released")
        return needed
    }
    #expect(
        said
            == .out(
                "1 keep tag of cwmigrate (cwmigrate-keep/…:1.7.3) hold 1.0 MiB in the Docker data root for the unfinished run 20261130-100000-abcd."
            ))

    let free = KeptImages(tags: [tag], unfinishedRuns: [], unreadableRuns: [])
    #expect(
        KeptImages.afterAbandon(free) { free }
            == .out(
                "Released the 1 keep tag of cwmigrate no unfinished run needs; 1.0 MiB freed in the Docker data root."))
    let refused = KeptImages.afterAbandon(free) {
        throw KeptImagesError.docker(.unreachable(socket: "/run/docker.sock", message: "connection refused"))
    }
    guard case .warning(let text) = refused else {
        Issue.record("expected a warning, got \(String(describing: refused))")
        return
    }
    #expect(text.hasPrefix("the keep tags of cwmigrate stay: "))
    #expect(text.hasSuffix("; `cwmigrate runs kept-images --release` releases them"))
    #expect(KeptImages.afterAbandon(KeptImages(tags: [], unfinishedRuns: [], unreadableRuns: [])) { free } == nil)
}

@Test func prechecksAreSaidAsLinesAndAVerdictOrAsJSONAndAnyFailureExitsSixtyNine() throws {
    let passing = [CheckResult("backup", .pass, "1.0.73, verified"), CheckResult("docker", .pass, "Engine 27")]
    let io = ScriptedIO()
    let console = Console(environment: [:], io: io)
    #expect(try PrecheckSuite.say(passing, plan: nil, json: false, on: console) == ExitStatus.ok)
    #expect(
        io.output == (CheckResult.lines(passing, color: false) + [CheckResult.verdict(passing)]).joined(separator: "\n")
            + "\n")

    let failing = passing + [CheckResult("lock", .fail, "held by pid 7")]
    let json = ScriptedIO()
    #expect(
        try PrecheckSuite.say(failing, plan: nil, json: true, on: Console(environment: [:], io: json))
            == ExitStatus.unavailable)
    #expect(json.output == (try PrecheckSuite.json(failing)) + "\n")
    #expect(json.output.hasPrefix(#"{"checks":"#) && json.output.contains(#""passed":false"#))
}

@Test func aDryRunSaysTheInstallationThenThePlanAndExitsWithTheDecisionsCode() throws {
    let plan = try downgradePlan()
    let io = ScriptedIO()
    let code = plan.say(
        json: false, heading: "Installation: project connectware", on: Console(environment: [:], io: io))
    #expect(code == ExitStatus.downgradeRequired)
    #expect(io.output == "Installation: project connectware\n" + plan.renderText(color: false) + "\n")
    let json = ScriptedIO()
    _ = plan.say(json: true, heading: "Installation: project connectware", on: Console(environment: [:], io: json))
    #expect(json.output == plan.renderJSON() + "\n")
}

@Test func aRollbackSaysTheVersionRunningAgainAndItsReportOrThatNothingWasChanged() throws {
    let store = JournalStore(directory: "/state")
    let rollback = RollbackExecution(
        store: store, dockerEnvironment: [:], installerDirectory: nil, healthySeconds: 1, operationTimeout: .seconds(1))
    let done = journal(try downgradePlan())
    let io = ScriptedIO()
    #expect(rollback.say(done, on: Console(environment: [:], io: io)) == ExitStatus.ok)
    #expect(
        io.output == """
            Run \(done.id) rolled back: Connectware 1.8.0 runs with the data the run found.
            report: \(store.reportPath(of: done.id, extension: "md"))

            """)
    let declined = ScriptedIO()
    #expect(rollback.say(nil, on: Console(environment: [:], io: declined)) == ExitStatus.paused)
    #expect(declined.output == "Nothing was changed.\n")
}

@Test func theStateDirectoryIsTheOneGivenElseTheEnvironmentsWhenNotEmptyElseTheDefault() {
    let environment = ["CWMIGRATE_STATE_DIR": "/env/state"]
    #expect(JournalStore(given: "/given", environment: environment).directory == "/given")
    #expect(JournalStore(given: nil, environment: environment).directory == "/env/state")
    #expect(
        JournalStore(given: nil, environment: ["CWMIGRATE_STATE_DIR": ""]).directory == JournalStore.defaultDirectory)
    #expect(JournalStore(given: nil, environment: [:]).directory == JournalStore.defaultDirectory)
}

@Test func aPlanIsSavedWhereOutputSaysOnlyAfterTheOutputIsCheckedAndElseSaidOnStdout() throws {
    let work = try TestSupport.temporaryDirectory("cwmigrate-plan")
    defer { TestSupport.remove(work) }
    let saved = work.appendingPathComponent("plan.json").path
    let composition = PlanComposition(
        backup: .version(version("1.0.73")), sources: sources([TestSupport.exampleCompat]), running: version("1.8.0"),
        refusal: nil, project: nil, directory: nil)
    let plan = try composition.plan()
    let io = ScriptedIO()
    let code = try composition.say(
        json: true, output: DocumentOutput(path: saved, replacing: false), progress: nil,
        on: Console(environment: [:], io: io))
    #expect(code == ExitStatus.downgradeRequired)
    #expect(try String(contentsOfFile: saved, encoding: .utf8) == plan.renderJSON() + "\n")
    #expect(io.output.isEmpty)
    #expect(io.errors.hasPrefix("note: wrote the plan to \(saved)\n"))

    // The file exists and --force is not given: refused before the (missing) backup is read.
    var fromFile = composition
    fromFile.backup = .file(work.appendingPathComponent("missing.tgz").path, quick: false, assumedVersion: nil)
    let refused = #expect(throws: (any Error).self) {
        try fromFile.say(
            json: true, output: DocumentOutput(path: saved, replacing: false), progress: nil,
            on: Console(environment: [:], io: ScriptedIO()))
    }
    #expect(refused.map { Failure(describing: $0).exitCode } == ExitStatus.cantCreate)

    let printed = ScriptedIO()
    _ = try composition.say(
        json: false, output: DocumentOutput(path: "-", replacing: false), progress: nil,
        on: Console(environment: [:], io: printed))
    #expect(printed.output == plan.renderText(color: false) + "\n")
}

@Test func theRunsTableHasAHeaderAndARowPerRunOrSaysThereAreNoneInTheStateDirectory() throws {
    #expect(Journal.table([], stateDirectory: "/state") == ["No runs in /state."])
    let run = journal(try downgradePlan())
    let table = Journal.table([run], stateDirectory: "/state")
    #expect(table.count == 2)
    #expect(table[0].hasPrefix("ID"))
    #expect(table[0].hasSuffix("STEP"))
    #expect(table[1].hasPrefix(run.id + "  "))
    #expect(table[1].contains("downgrade-required"))
}

@Test func anAbandonedRunIsEndedInItsJournalAndSaidWithWhereTheJournalStays() throws {
    let work = try TestSupport.temporaryDirectory("cwmigrate-abandon")
    defer { TestSupport.remove(work) }
    let store = JournalStore(directory: work.path)
    let run = journal(try downgradePlan())
    try store.save(run)
    let io = ScriptedIO()
    try RunLifecycle(store: store).abandon(
        run.id, reason: "restored by hand", at: Date(timeIntervalSince1970: 1_795_000_100), host: nil,
        on: Console(environment: [:], io: io))
    #expect(io.output.hasPrefix("Run \(run.id) abandoned; its journal stays at \(store.path(of: run.id)).\n"))
    #expect(try store.load(run.id).outcome.isFinal)
    #expect(throws: (any Error).self) {
        try RunLifecycle(store: store).abandon(
            run.id, reason: "again", at: Date(), host: nil, on: Console(environment: [:], io: ScriptedIO()))
    }
}

@Test func aRunbookIsNeverWrittenOverAFileItReadsAndThatIsRefusedBeforeTheBackupIsRead() throws {
    let templates = TestSupport.packageRoot.appendingPathComponent("playbooks/runbook").path
    let playbook = TestSupport.packageRoot.appendingPathComponent("playbooks/docker-compose.yml").path
    var planSources = sources([TestSupport.exampleCompat])
    planSources.playbookPath = playbook
    let composition = RunbookComposition(
        backup: "/nonexistent/backup.tgz", sources: planSources,
        site: RunbookSite(compose: [:], kubernetes: [:], installerDirectory: nil, snapshotDirectory: nil),
        running: version("1.8.0"), address: nil, refusal: nil, quick: false, assumedVersion: nil, project: nil,
        directory: nil, templates: templates, format: .markdown, generator: "cwmigrate test")
    let inputs = composition.output(path: nil, replacing: false, alsoReading: ["/run/pw"]).inputs
    #expect(Array(inputs.prefix(4)) == ["/nonexistent/backup.tgz", TestSupport.exampleCompat, playbook, "/run/pw"])
    #expect(inputs.contains(templates + "/steps.yml"))
    let refused = #expect(throws: (any Error).self) {
        try composition.write(
            to: TestSupport.exampleCompat, replacing: true, alsoReading: [],
            connect: {
                Issue.record("a refused output connects to nothing")
                throw Failure(message: "connected", exitCode: 1)
            }, progress: nil, console: Console(environment: [:], io: ScriptedIO()))
    }
    #expect(
        refused.map { Failure(describing: $0).message }
            == "\(TestSupport.exampleCompat) is also an input of this command; it would be destroyed")
}

@Test func aBackupsOutputIsRefusedBeforeTheServerIsAskedWhenItExistsIsASecretFileOrIsStdout() throws {
    let work = try TestSupport.temporaryDirectory("cwmigrate-backup")
    defer { TestSupport.remove(work) }
    let existing = work.appendingPathComponent("connectware.tgz").path
    try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
    let exit = { (download: BackupDownload) -> Int32? in
        do {
            try download.checkOutput()
            return nil
        } catch {
            return Failure(describing: error).exitCode
        }
    }
    #expect(exit(BackupDownload(output: existing, replacing: false, inputs: [])) == ExitStatus.cantCreate)
    #expect(exit(BackupDownload(output: existing, replacing: true, inputs: [])) == nil)
    #expect(exit(BackupDownload(output: existing, replacing: true, inputs: [existing])) == ExitStatus.cantCreate)
    #expect(exit(BackupDownload(output: "-", replacing: false, inputs: [])) == ExitStatus.usage)
}

@Test func aRunIsNamedByLastOrByAnIdAndAnyOtherTextIsAnInvalidRunIDWithExitSixtyFour() throws {
    #expect(try RunName(parsing: "last") == .last)
    #expect(try RunName(parsing: "20261126T225901Z-3fa9c1") == .id("20261126T225901Z-3fa9c1"))
    for text in ["", "Last", "latest", "../runs/20261126T225901Z-3fa9c1", "20261126T225901Z-3fa9c1 ", "x"] {
        #expect(throws: MigrationError.invalidRunID(text)) { try RunName(parsing: text) }
    }
    #expect(MigrationError.invalidRunID("x").failure.exitCode == ExitStatus.usage)
}
