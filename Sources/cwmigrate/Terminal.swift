import Application
import ArgumentParser
import Foundation
import Planner

/// How much a command says: `--quiet` only its errors and its final result, `--verbose`
/// also each call to Connectware, Docker or a program.
enum Verbosity: Sendable {
    case quiet, normal, verbose
}

/// Where a command writes, the console every command is handed: stdout for results, stderr
/// for diagnostics and progress, the one prompt, and whether a person is there to answer.
struct Terminal: Sendable {
    let colorOnStdout: Bool
    let colorOnStderr: Bool
    let verbosity: Verbosity
    /// Under `--quiet`, the last result written, printed when the command ends.
    private let held = HeldResult()

    init(verbosity: Verbosity = .normal, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let allowed = environment["NO_COLOR"].map(\.isEmpty) ?? true
        let dumb = environment["TERM"] == "dumb"
        colorOnStdout = allowed && !dumb && isatty(STDOUT_FILENO) == 1
        colorOnStderr = allowed && !dumb && isatty(STDERR_FILENO) == 1
        self.verbosity = verbosity
    }

    var quiet: Bool { verbosity == .quiet }

    /// A result on stdout; under `--quiet` only the last one is printed, when the command ends.
    func out(_ text: String) {
        if quiet { held.set(text) } else { Self.emit(text, to: FileHandle.standardOutput) }
    }

    /// A diagnostic on stderr; `--quiet` leaves it out (errors go through `report`).
    func err(_ text: String) {
        if !quiet { Self.emit(text, to: FileHandle.standardError) }
    }

    /// Under `--quiet`, prints the result held back: the command's final result line.
    func finish() {
        if let text = held.take() { Self.emit(text, to: FileHandle.standardOutput) }
    }

    private static func emit(_ text: String, to handle: FileHandle) { handle.write(Data((text + "\n").utf8)) }

    /// Written from whichever thread reports (a wait's updates come from the transfer's).
    private final class HeldResult: @unchecked Sendable {
        private let lock = NSLock()
        private var text: String?

        func set(_ value: String) { lock.withLock { text = value } }

        func take() -> String? {
            lock.withLock {
                defer { text = nil }
                return text
            }
        }
    }

    /// Whether a person is there to answer a question: standard input is a terminal.
    var personPresent: Bool { isatty(STDIN_FILENO) == 1 }

    /// Reads a secret from the controlling terminal with echo off; nil when there is no terminal.
    func askSecret(_ prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        _ = tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            _ = tcsetattr(fd, TCSAFLUSH, &original)
            _ = write(fd, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A change only a person (or `--yes`) may allow: asked on a terminal; off a terminal
    /// `offTerminal` is thrown unless `yes`, and a declined question throws `declined`.
    func requireConsent(_ question: String, yes: Bool, offTerminal: Failure, declined: Failure) throws {
        guard !yes else { return }
        try requirePerson(unless: yes, offTerminal: offTerminal)
        guard confirm(question) else { throw declined }
    }

    /// A command that will ask before it changes something: off a terminal, `offTerminal` is
    /// thrown unless `yes` says nobody needs to be asked.
    func requirePerson(unless yes: Bool, offTerminal: Failure) throws {
        guard yes || personPresent else { throw offTerminal }
    }

    /// The one confirmation prompt: asks on stderr, true only when the person answers `y` or
    /// `yes` (any case, blanks around ignored); false when nobody is there to answer.
    func confirm(_ question: String) -> Bool {
        guard personPresent else { return false }
        FileHandle.standardError.write(Data((question + " Type yes to go on: ").utf8))
        guard let answer = readLine(strippingNewline: true) else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    func warning(_ text: String) { err(paint("warning:", .yellow, colorOnStderr) + " " + text) }
    func note(_ text: String) { err(paint("note:", .cyan, colorOnStderr) + " " + text) }

    /// An error, and its hint: always said, also under `--quiet`.
    func report(_ failure: Failure) {
        Self.emit(paint("error:", .red, colorOnStderr) + " " + failure.message, to: FileHandle.standardError)
        if let hint = failure.hint {
            Self.emit(paint("hint:", .cyan, colorOnStderr) + " " + hint, to: FileHandle.standardError)
        }
    }

    enum Color: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case blue = "34"
        case cyan = "36"
        case bold = "1"
    }

    func paint(_ text: String, _ color: Color, _ enabled: Bool) -> String {
        enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}

extension ParsableCommand {
    /// Runs a command body, turning every error into one `error:` line (plus a `hint:`)
    /// and its documented exit code; a body's own non-zero result is its exit code.
    func guarded(_ global: GlobalOptions, _ body: (Terminal) throws -> Int32) throws {
        let terminal = Terminal(verbosity: global.verbosity)
        if terminal.verbosity == .verbose {
            CallLog.bootstrap { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let code: Int32
        defer { terminal.finish() }
        do {
            code = try body(terminal)
            terminal.finish()
        } catch let failure as Failure {
            terminal.finish()
            terminal.report(failure)
            code = failure.exitCode
        } catch let error as any OperatorFacing {
            terminal.finish()
            terminal.report(error.failure)
            code = error.failure.exitCode
        } catch let exit as ExitCode {
            throw exit
        } catch {
            terminal.report(
                Failure(
                    message: "unexpected: \(error)", hint: "this is a bug in cwmigrate; please report it",
                    exitCode: ExitStatus.software))
            code = ExitStatus.software
        }
        if code != 0 { throw ExitCode(code) }
    }
}
