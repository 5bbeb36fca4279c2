#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization
import Vocabulary

/// How much a command says: `--quiet` only its errors and its final result, `--verbose`
/// also each call to Connectware, Docker or a program.
public enum Verbosity: Sendable {
    case quiet, normal, verbose
}

/// The two streams a command writes to.
public enum ConsoleStream: Sendable {
    /// Results (stdout).
    case output
    /// Diagnostics, progress and questions (stderr).
    case errors
}

/// What a console reads and writes through: the process's standard streams and terminal, or
/// (in tests) anything that records and answers.
public protocol ConsoleIO: Sendable {
    /// Writes `text` as it is (the console adds the line breaks).
    func write(_ text: String, to stream: ConsoleStream)
    /// A line a person typed, without its line break; nil at the end of input.
    func readLine() -> String?
    /// Reads a secret with echo off after showing `prompt`; nil when there is no terminal.
    func readSecret(prompt: String) -> String?
    /// Whether standard input is a terminal: a person is there to answer.
    var personPresent: Bool { get }
    /// Whether the stream is a terminal (colour is only for one).
    func isTerminal(_ stream: ConsoleStream) -> Bool
}

/// The process's own stdin, stdout, stderr and controlling terminal.
public struct StandardIO: ConsoleIO {
    public init() {}

    public func write(_ text: String, to stream: ConsoleStream) {
        var text = text
        let fd = stream == .output ? STDOUT_FILENO : STDERR_FILENO
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    public func readLine() -> String? { Swift.readLine(strippingNewline: true) }

    public var personPresent: Bool { isatty(STDIN_FILENO) == 1 }

    public func isTerminal(_ stream: ConsoleStream) -> Bool {
        isatty(stream == .output ? STDOUT_FILENO : STDERR_FILENO) == 1
    }

    public func readSecret(prompt: String) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = prompt.withCString { Glibc.write(fd, $0, strlen($0)) }
        _ = tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            _ = tcsetattr(fd, TCSAFLUSH, &original)
            _ = Glibc.write(fd, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The colours the console paints words in (ANSI SGR codes).
public enum ConsoleColor: String, Sendable {
    case red = "31"
    case green = "32"
    case yellow = "33"
    case blue = "34"
    case cyan = "36"
    case bold = "1"
}

/// `text` in `color` when `enabled` (the stream is a terminal that wants colour), else as it is.
public func paint(_ text: String, _ color: ConsoleColor, _ enabled: Bool) -> String {
    enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
}

/// The console every command is handed: stdout for results, stderr for diagnostics and
/// progress, the one prompt, the secret prompt, and whether a person is there to answer.
public struct Console: Sendable {
    public let colorOnStdout: Bool
    public let colorOnStderr: Bool
    public let verbosity: Verbosity
    public let io: any ConsoleIO
    /// Under `--quiet`, the last result written, printed when the command ends.
    private let held = HeldResult()

    /// Colour only on a terminal, and not when `NO_COLOR` is set (non-empty) or `TERM` is `dumb`.
    public init(verbosity: Verbosity = .normal, environment: [String: String], io: any ConsoleIO = StandardIO()) {
        let allowed = environment["NO_COLOR"].map(\.isEmpty) ?? true
        let dumb = environment["TERM"] == "dumb"
        colorOnStdout = allowed && !dumb && io.isTerminal(.output)
        colorOnStderr = allowed && !dumb && io.isTerminal(.errors)
        self.verbosity = verbosity
        self.io = io
    }

    public var quiet: Bool { verbosity == .quiet }

    /// A result on stdout; under `--quiet` only the last one is printed, when the command ends.
    public func out(_ text: String) {
        if quiet { held.set(text) } else { io.write(text + "\n", to: .output) }
    }

    /// A diagnostic on stderr; `--quiet` leaves it out (errors go through `report`).
    public func err(_ text: String) {
        if !quiet { io.write(text + "\n", to: .errors) }
    }

    /// Text on stdout as it is, without a line break added (a document a command prints).
    public func document(_ text: String) { io.write(text, to: .output) }

    /// Under `--quiet`, prints the result held back: the command's final result line.
    public func finish() {
        if let text = held.take() { io.write(text + "\n", to: .output) }
    }

    /// Written from whichever thread reports (a wait's updates come from the transfer's).
    private final class HeldResult: Sendable {
        private let text = Mutex<String?>(nil)

        func set(_ value: String) { text.withLock { $0 = value } }

        func take() -> String? {
            text.withLock { text in
                defer { text = nil }
                return text
            }
        }
    }

    /// Whether a person is there to answer a question: standard input is a terminal.
    public var personPresent: Bool { io.personPresent }

    /// Reads a secret from the controlling terminal with echo off; nil when there is no terminal.
    public func askSecret(_ prompt: String) -> String? { io.readSecret(prompt: prompt) }

    /// A change only a person (or `--yes`) may allow: asked on a terminal; off a terminal
    /// `offTerminal` is thrown unless `yes`, and a declined question throws `declined`.
    public func requireConsent(_ question: String, yes: Bool, offTerminal: Failure, declined: Failure) throws {
        guard !yes else { return }
        try requirePerson(unless: yes, offTerminal: offTerminal)
        guard confirm(question) else { throw declined }
    }

    /// A command that will ask before it changes something: off a terminal, `offTerminal` is
    /// thrown unless `yes` says nobody needs to be asked.
    public func requirePerson(unless yes: Bool, offTerminal: Failure) throws {
        guard yes || personPresent else { throw offTerminal }
    }

    /// The one confirmation prompt: asks on stderr, true only when the person answers `y` or
    /// `yes` (any case, blanks around ignored); false when nobody is there to answer.
    public func confirm(_ question: String) -> Bool {
        guard personPresent else { return false }
        io.write(question + " Type yes to go on: ", to: .errors)
        guard let answer = io.readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingBlanks.lowercased())
    }

    public func warning(_ text: String) { err(paint("warning:", .yellow, colorOnStderr) + " " + text) }
    public func note(_ text: String) { err(paint("note:", .cyan, colorOnStderr) + " " + text) }

    /// An error, and its hint: always said, also under `--quiet`.
    public func report(_ failure: Failure) {
        io.write(paint("error:", .red, colorOnStderr) + " " + failure.message + "\n", to: .errors)
        if let hint = failure.hint { io.write(paint("hint:", .cyan, colorOnStderr) + " " + hint + "\n", to: .errors) }
    }

    /// Every line of `lines` on stdout.
    public func out(lines: [String]) { for line in lines { out(line) } }

    /// Runs a command's `body` on this console and returns its exit code: the body's own, or for
    /// an error its `error:` line (plus a `hint:`) and its documented exit code. Under `--quiet`
    /// the result held back is printed first either way.
    public func exitCode(running body: (Console) throws -> Int32) -> Int32 {
        do {
            let code = try body(self)
            finish()
            return code
        } catch {
            finish()
            let failure = Failure(describing: error)
            report(failure)
            return failure.exitCode
        }
    }
}
