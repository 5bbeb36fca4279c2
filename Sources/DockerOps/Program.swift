import CSpawn
import Vocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        try Self.runProgram(
            arguments, in: directory, environment: environment, extraEnvironment: extraEnvironment, redacting: secret,
            deadline: deadline)
    }

    /// `runProgram` with the given environment: running a program needs no Docker Engine.
    @discardableResult
    static func runProgram(
        _ arguments: [String], in directory: String?, environment: [String: String],
        extraEnvironment: [String: String] = [:], redacting secret: String? = nil, deadline: Int = programDeadlineSeconds
    ) throws(DockerOpsError) -> String {
        // A child must not outlive a cwmigrate that was killed: a resumed run would otherwise
        // race an orphaned installer, or the docker and compose processes it started.
        let argv =
            ["/usr/bin/env"]
            + (Self.diesWithParent
                ? ["setpriv", "--pdeathsig", "TERM", "--", "sh", "-c", Self.groupWatcher, "sh", String(deadline)]
                    + arguments
                : arguments)
        var env = environment
        // cwmigrate's own secrets are not the child's business.
        for key in env.keys where key.hasPrefix("CWMIGRATE_") && (key.contains("PASSWORD") || key.contains("TOKEN")) {
            env[key] = nil
        }
        for (key, value) in extraEnvironment { env[key] = value }
        let command = arguments.joined(separator: " ")
        let (status, output): (Int32, [UInt8])
        let started = ContinuousClock.now
        do {
            (status, output) = try spawnCollectingOutput(argv, environment: env, directory: directory)
        } catch {
            throw .programFailed(command: command, status: 127, output: "\(error)")
        }
        let text = String(decoding: output, as: UTF8.self)
        // The arguments carry no secret (they travel in the environment or files, see above).
        CallLog.record(
            "run: \(command)\(directory.map { " (in \($0))" } ?? "") -> exit \(status) after \(ContinuousClock.now - started)")
        if Self.diesWithParent && status == 124 {
            throw .programFailed(
                command: command, status: status,
                output: "it did not finish within \(deadline) s and was stopped, with every process it started")
        }
        guard status == 0 else {
            var tail = text.split(separator: "\n").suffix(8).joined(separator: " | ")
            if let secret, !secret.isEmpty { tail = tail.replacing(secret, with: "<license key>") }
            throw .programFailed(command: command, status: status, output: tail)
        }
        return text
    }
}

/// Why a program could not be started (what `Process.run()` threw before).
struct SpawnFailure: Error, CustomStringConvertible {
    let call: String
    let code: Int32
    var description: String { "\(call): \(String(cString: strerror(code)))" }
}

/// Starts `argv` with `environment` in `directory` by posix_spawn, stdin from /dev/null, stdout
/// and stderr into one pipe, no other descriptor of ours, in a process group of its own, no
/// signal blocked (a dispatch thread blocks nearly every signal, and a child inherits the mask:
/// the watcher would then never see its parent-death TERM nor its child's exit); reads the
/// output to its end and waits. The status is the exit code, or the signal's number when a signal ended it (as
/// Foundation's `terminationStatus`).
func spawnCollectingOutput(_ argv: [String], environment: [String: String], directory: String?)
    throws(SpawnFailure) -> (status: Int32, output: [UInt8])
{
    var fds: [Int32] = [-1, -1]
    guard pipe2(&fds, O_CLOEXEC) == 0 else { throw SpawnFailure(call: "pipe2", code: errno) }
    let (readEnd, writeEnd) = (fds[0], fds[1])
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
    posix_spawn_file_actions_addclosefrom_np(&actions, 3)
    if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var nothing = sigset_t()
    sigemptyset(&nothing)
    posix_spawnattr_setsigmask(&attributes, &nothing)
    // A process group of its own, as Foundation's Process gave it: a terminal's Ctrl-C reaches
    // cwmigrate, whose exit the watcher sees as its parent-death TERM.
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
    let cArguments = argv.map { strdup($0) } + [nil]
    let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cArguments.forEach { free($0) }
        cEnvironment.forEach { free($0) }
    }
    var pid = pid_t()
    let started = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
    close(writeEnd)
    guard started == 0 else {
        close(readEnd)
        throw SpawnFailure(call: "posix_spawn \(argv[0])", code: started)
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
        if count > 0 {
            output.append(contentsOf: buffer[0..<count])
        } else if count == 0 || errno != EINTR {
            break
        }
    }
    close(readEnd)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { throw SpawnFailure(call: "waitpid", code: errno) }
    }
    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
    let signal = status & 0x7F
    return (signal == 0 ? (status >> 8) & 0xFF : signal, output)
}
