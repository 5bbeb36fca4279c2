import Application
import Synchronization
import Testing

/// A console's other end: what was written to each stream, and the answers a person types.
final class ScriptedIO: ConsoleIO {
    private let state: Mutex<(output: String, errors: String, answers: [String])>
    let personPresent: Bool
    let terminal: Bool

    init(answers: [String] = [], personPresent: Bool = true, terminal: Bool = false) {
        state = Mutex(("", "", answers))
        self.personPresent = personPresent
        self.terminal = terminal
    }

    var output: String { state.withLock { $0.output } }
    var errors: String { state.withLock { $0.errors } }

    func write(_ text: String, to stream: ConsoleStream) {
        state.withLock { if stream == .output { $0.output += text } else { $0.errors += text } }
    }

    func readLine() -> String? { state.withLock { $0.answers.isEmpty ? nil : $0.answers.removeFirst() } }
    func readSecret(prompt: String) -> String? { nil }
    func isTerminal(_ stream: ConsoleStream) -> Bool { terminal }
}

@Test func resultsGoToStdoutAndNotesAndWarningsToStderr() {
    let io = ScriptedIO()
    let console = Console(environment: [:], io: io)
    console.out("Run 1 for project connectware")
    console.note("wrote the plan")
    console.warning("the services run different versions")
    #expect(io.output == "Run 1 for project connectware\n")
    #expect(io.errors == "note: wrote the plan\nwarning: the services run different versions\n")
}

@Test func quietPrintsOnlyTheLastResultWhenTheCommandEndsAndStillSaysErrors() {
    let io = ScriptedIO()
    let console = Console(verbosity: .quiet, environment: [:], io: io)
    console.out("first")
    console.out("last")
    console.note("left out")
    console.report(Failure(message: "it broke", hint: "mend it", exitCode: 70))
    #expect(io.output.isEmpty)
    console.finish()
    #expect(io.output == "last\n")
    #expect(io.errors == "error: it broke\nhint: mend it\n")
}

@Test func aConfirmationAcceptsYesInAnyCaseWithBlanksAndNothingElse() {
    let io = ScriptedIO(answers: ["  YES ", "y", "yep", ""])
    let console = Console(environment: [:], io: io)
    #expect(console.confirm("Remove volume x?"))
    #expect(console.confirm("Remove volume x?"))
    #expect(!console.confirm("Remove volume x?"))
    #expect(!console.confirm("Remove volume x?"))
    #expect(!console.confirm("Remove volume x?"), "no answer at the end of input")
    #expect(io.errors.hasPrefix("Remove volume x? Type yes to go on: Remove volume x? Type yes to go on: "))
}

@Test func withNobodyThereConsentIsRefusedWithoutAskingUnlessYesWasGiven() throws {
    let io = ScriptedIO(answers: ["yes"], personPresent: false)
    let console = Console(environment: [:], io: io)
    let offTerminal = Failure(message: "not on a terminal", exitCode: 64)
    let declined = Failure(message: "cancelled", exitCode: 64)
    let refused = #expect(throws: Failure.self) {
        try console.requireConsent("Go?", yes: false, offTerminal: offTerminal, declined: declined)
    }
    #expect(refused?.message == "not on a terminal")
    try console.requireConsent("Go?", yes: true, offTerminal: offTerminal, declined: declined)
    #expect(io.errors.isEmpty)
}

@Test func aDeclinedQuestionThrowsTheDeclinedFailure() {
    let io = ScriptedIO(answers: ["no"])
    let console = Console(environment: [:], io: io)
    let declined = Failure(message: "restore not confirmed; nothing was changed", exitCode: 64)
    let refused = #expect(throws: Failure.self) {
        try console.requireConsent(
            "Replace?", yes: false, offTerminal: Failure(message: "x", exitCode: 64), declined: declined)
    }
    #expect(refused?.message == "restore not confirmed; nothing was changed")
    #expect(io.errors == "Replace? Type yes to go on: ")
}

@Test func colourIsUsedOnATerminalUnlessNoColorOrADumbTerminalSaysOtherwise() {
    let painted = Console(environment: [:], io: ScriptedIO(terminal: true))
    #expect(painted.colorOnStdout && painted.colorOnStderr)
    #expect(!Console(environment: ["NO_COLOR": "1"], io: ScriptedIO(terminal: true)).colorOnStdout)
    #expect(!Console(environment: ["TERM": "dumb"], io: ScriptedIO(terminal: true)).colorOnStderr)
    #expect(!Console(environment: [:], io: ScriptedIO(terminal: false)).colorOnStdout)
    let io = ScriptedIO(terminal: true)
    Console(environment: [:], io: io).report(Failure(message: "m", exitCode: 1))
    #expect(io.errors == "\u{1B}[31merror:\u{1B}[0m m\n")
}

@Test func aRunOrRollbackOffATerminalIsRefusedWithExitSixtyFourUnlessUnattended() throws {
    let nobody = Console(environment: [:], io: ScriptedIO(personPresent: false))
    let run = #expect(throws: Failure.self) { try ConsoleRunReporter(console: nobody, unattended: false) }
    #expect(run?.message == "migrate asks before each step that changes the installation, and stdin is not a terminal")
    #expect(run?.hint == "run it on a terminal, or pass --yes to run unattended")
    #expect(run?.exitCode == 64)
    let rollback = #expect(throws: Failure.self) { try ConsoleRollbackReporter(console: nobody, unattended: false) }
    #expect(rollback?.message == "rollback asks before it changes the installation, and stdin is not a terminal")
    #expect(rollback?.exitCode == 64)
    _ = try ConsoleRunReporter(console: nobody, unattended: true)
    _ = try ConsoleRollbackReporter(console: nobody, unattended: true)
    let person = Console(environment: [:], io: ScriptedIO(personPresent: true))
    _ = try ConsoleRunReporter(console: person, unattended: false)
    _ = try ConsoleRollbackReporter(console: person, unattended: false)
}

@Test func aCommandsExitCodeIsItsBodysOrItsErrorsAfterItsErrorLineAndHint() {
    let io = ScriptedIO()
    let console = Console(environment: [:], io: io)
    #expect(
        console.exitCode { console in
            console.out("Decision: downgrade-required")
            return 3
        } == 3)
    #expect(io.output == "Decision: downgrade-required\n")
    #expect(io.errors.isEmpty)
    let code = console.exitCode { _ in
        throw Failure(message: "backup.tgz does not exist", hint: "check the path", exitCode: 66)
    }
    #expect(code == 66)
    #expect(io.errors == "error: backup.tgz does not exist\nhint: check the path\n")
}

@Test func underQuietTheHeldResultComesBeforeTheErrorAndAnUnexpectedErrorIsABugWithExitSeventy() {
    struct Unforeseen: Error {}
    let io = ScriptedIO()
    let console = Console(verbosity: .quiet, environment: [:], io: io)
    let code = console.exitCode { console in
        console.out("first")
        console.out("last")
        throw Unforeseen()
    }
    #expect(code == 70)
    #expect(io.output == "last\n")
    #expect(io.errors.hasPrefix("error: unexpected: "))
    #expect(io.errors.hasSuffix("hint: this is a bug in cwmigrate; please report it\n"))
}
