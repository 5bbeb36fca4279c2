import Foundation
import Vocabulary

extension ConnectwareHost {
    static let diesWithParent = ["/usr/bin/setpriv", "/usr/bin/setsid", "/usr/bin/timeout"].allSatisfy {
        (path: String) in access(path, X_OK) == 0
    }

    /// How long an installer or compose run may take before it is stopped (with everything
    /// it started): longer than pulling a release's images over a slow line.
    public static let programDeadlineSeconds = 1800

    /// The watcher every child runs under: `sh`, which dies with cwmigrate (the parent-death
    /// signal, set by setpriv), runs the program in a process group of its own (setsid) under
    /// a deadline (timeout), and on its way out kills that whole group, so the `docker` and
    /// compose processes an installer starts die with cwmigrate too, not only the installer.
    static let groupWatcher =
        #"group=; trap '[ -n "$group" ] && kill -KILL -"$group" 2>/dev/null; exit 143' TERM; "#
        + #"deadline="$1"; shift; setsid timeout --kill-after=30 "$deadline" "$@" & group=$!; wait "$group""#

    /// Runs a program (found on PATH) to its end with `environment`, stdin closed, and
    /// returns its combined output. Secrets travel in the environment or files, never in
    /// `arguments`, and output is only shown when the program fails. It and every process it
    /// starts die with cwmigrate, and it is stopped after `deadline` seconds.
    @discardableResult
    func runProgram(
        _ arguments: [String], in directory: String?, extraEnvironment: [String: String] = [:],
        redacting secret: String? = nil, deadline: Int = programDeadlineSeconds
    ) throws(DockerOpsError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A child must not outlive a cwmigrate that was killed: a resumed run would otherwise
        // race an orphaned installer, or the docker and compose processes it started.
        process.arguments =
            Self.diesWithParent
            ? ["setpriv", "--pdeathsig", "TERM", "--", "sh", "-c", Self.groupWatcher, "sh", String(deadline)]
                + arguments
            : arguments
        var env = environment
        // cwmigrate's own secrets are not the child's business.
        for key in env.keys where key.hasPrefix("CWMIGRATE_") && (key.contains("PASSWORD") || key.contains("TOKEN")) {
            env[key] = nil
        }
        for (key, value) in extraEnvironment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let command = arguments.joined(separator: " ")
        do {
            // The child inherits the calling thread's signal mask, and a dispatch thread's blocks
            // nearly every signal: the watcher would then never see its parent-death TERM nor
            // its child's exit (seen: a watcher left waiting on a finished `timeout`). Children
            // start with nothing blocked, as from a shell.
            var nothing = sigset_t()
            var saved = sigset_t()
            sigemptyset(&nothing)
            pthread_sigmask(SIG_SETMASK, &nothing, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try process.run()
        } catch {
            throw .programFailed(command: command, status: 127, output: "\(error)")
        }
        let started = ContinuousClock.now
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        // The arguments carry no secret (they travel in the environment or files, see above).
        CallLog.record(
            "run: \(command)\(directory.map { " (in \($0))" } ?? "") -> exit \(process.terminationStatus) after \(ContinuousClock.now - started)")
        if Self.diesWithParent && process.terminationStatus == 124 {
            throw .programFailed(
                command: command, status: process.terminationStatus,
                output: "it did not finish within \(deadline) s and was stopped, with every process it started")
        }
        guard process.terminationStatus == 0 else {
            var tail = text.split(separator: "\n").suffix(8).joined(separator: " | ")
            if let secret, !secret.isEmpty { tail = tail.replacingOccurrences(of: secret, with: "<license key>") }
            throw .programFailed(command: command, status: process.terminationStatus, output: tail)
        }
        return text
    }
}
