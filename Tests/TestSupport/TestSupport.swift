import Foundation
import Testing

/// What a finished program showed: its exit status and both output streams.
public struct ProgramResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum TestSupport {
    /// The package's root directory (the one holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The example barrier (1.8.0 refuses backups before 1.1.0; 1.7.3 restores them), which
    /// cwmigrate does not ship as knowledge: tests that need a downgrade give it with --compat.
    public static var exampleCompat: String {
        packageRoot.appendingPathComponent("examples/compat-example.yml").path
    }

    /// A built product of this package, found beside the running test bundle
    /// (or in CWMIGRATE_BIN_DIR when set).
    public static func product(_ name: String) -> URL {
        if let dir = ProcessInfo.processInfo.environment["CWMIGRATE_BIN_DIR"] {
            return URL(fileURLWithPath: dir).appendingPathComponent(name)
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while dir.path != "/" {
            dir.deleteLastPathComponent()
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)")
    }

    /// Runs a program to its end and returns what it printed. `environment` is added to
    /// (and overrides) the test's own environment; NO_COLOR is always set.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:],
        stdin: Data? = nil, currentDirectory: URL? = nil
    ) throws -> ProgramResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        group.wait()
        // wait4 reaps the child directly: Foundation's own SIGCHLD-driven waitUntilExit can
        // hang inside the test runner. A child's peak memory is not taken from it: Linux
        // keeps the runner's high-water mark across exec, so tests use /usr/bin/time -f %M.
        var status: Int32 = 0
        let pid = process.processIdentifier
        var reaped: pid_t
        repeat { reaped = wait4(pid, &status, 0, nil) } while reaped == -1 && errno == EINTR
        let code: Int32
        if reaped == pid {
            code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        } else {
            process.waitUntilExit()
            code = process.terminationStatus
        }
        return ProgramResult(
            status: code, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a shell command line with bash; for building fixtures with tar, bsdtar, python.
    @discardableResult
    public static func shell(_ script: String, in directory: URL? = nil) throws -> ProgramResult {
        let result = try run(URL(fileURLWithPath: "/bin/bash"), ["-c", script], currentDirectory: directory)
        guard result.status == 0 else {
            throw ShellError(script: script, status: result.status, stderr: result.stderr)
        }
        return result
    }

    /// Inverts the byte at `offset` of the file in place (so it is never written as it was), and
    /// with `keepingModificationTime` sets the modification time back to what it was, to the
    /// nanosecond: a change that only the contents and the change time show.
    public static func invertByte(at offset: Int, of path: String, keepingModificationTime: Bool = false) throws {
        let invert =
            "b=$(od -An -tu1 -j\(offset) -N1 '\(path)') && printf \"\\\\$(printf %o $((255 - b)))\" | dd of='\(path)' bs=1 seek=\(offset) conv=notrunc status=none"
        try shell(keepingModificationTime ? "m=$(stat -c %y '\(path)') && \(invert) && touch -d \"$m\" '\(path)'" : invert)
    }

    /// A fresh directory under the system's temporary directory. It is removed when the test
    /// process exits (a test that wants it gone sooner keeps a `ScratchDirectory`), so a run
    /// of the suite leaves nothing in /tmp.
    public static func temporaryDirectory(_ label: String = "cwmigrate-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        Made.shared.add(url.path)
        return url
    }

    /// Removes a directory this process made, with all in it, also files a test made
    /// read-only or unreadable.
    public static func remove(_ url: URL) {
        Made.shared.forget(url.path)
        removeTree(url.path)
    }

    fileprivate static func removeTree(_ path: String) {
        if (try? FileManager.default.removeItem(atPath: path)) != nil { return }
        guard FileManager.default.fileExists(atPath: path) else { return }
        makeRemovable(path)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Every directory under `path` readable, writable and searchable by its owner.
    private static func makeRemovable(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return }
        chmod(path, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            makeRemovable(path + "/" + name)
        }
    }
}

/// The temporary directories this process made and has not removed yet, removed at its exit.
private final class Made: @unchecked Sendable {
    static let shared = Made()
    private let lock = NSLock()
    private var paths: Set<String> = []
    private var registered = false

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.insert(path)
        if !registered {
            registered = true
            atexit { Made.shared.removeAll() }
        }
    }

    func forget(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.remove(path)
    }

    func removeAll() {
        lock.lock()
        let all = paths
        paths = []
        lock.unlock()
        for path in all { TestSupport.removeTree(path) }
    }
}

public struct ShellError: Error, CustomStringConvertible {
    public let script: String
    public let status: Int32
    public let stderr: String
    public var description: String { "shell command failed (\(status)): \(script)\n\(stderr)" }
}

extension TestSupport {
    /// Runs `body` holding the Docker lab's test lock (flock on `LAB/test.lock`), so tests of
    /// every suite and test process that share the lab take turns. Freed even on a crash.
    public static func holdingLabLock<T>(_ labDirectory: String, _ body: () throws -> T) throws -> T {
        let fd = open(labDirectory + "/test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SetupFailure(description: "cannot open \(labDirectory)/test.lock: is the lab up?") }
        defer { close(fd) }
        let asked = Date()
        flock(fd, LOCK_EX)
        let got = Date()
        let images = LabImages(labDirectory: labDirectory)
        let found = images?.tags()
        defer {
            if let images, let found { images.restore(found, after: Test.current?.name ?? "?") }
            flock(fd, LOCK_UN)
            // The lab's tests take turns, so their time adds up: each says what it cost.
            func seconds(_ interval: TimeInterval) -> String { "\((interval * 10).rounded() / 10)" }
            print(
                "lab lock: \(Test.current?.name ?? "?") held the lab \(seconds(Date().timeIntervalSince(got))) s"
                    + " (waited \(seconds(got.timeIntervalSince(asked))) s)")
        }
        return try body()
    }
}

extension TestSupport {
    /// Runs `body`, which blocks (waits for a child, a lock, a pipe), on threads of its own and
    /// awaits it: the test runner's cooperative threads (two on a 2-core machine) stay free
    /// for the async tests beside it, which a synchronous test holding them for minutes starves.
    /// It stays in the test's task (a task executor preference, not a detached thread), so its
    /// expectations are the test's own.
    public static func offThePool<T>(_ body: () throws -> T) async throws -> T {
        try await withTaskExecutorPreference(BlockingThreads.shared) {
            try body()
        }
    }

    /// `holdingLabLock`, waiting for the lock and running `body` off the cooperative pool.
    public static func holdingLabLock<T>(_ labDirectory: String, _ body: () throws -> T) async throws -> T {
        try await offThePool { try holdingLabLock(labDirectory, body) }
    }
}

/// A task executor that runs each job on a new thread: a job that blocks holds only its own.
/// A task has one job at a time, so its jobs still run one after the other.
final class BlockingThreads: TaskExecutor, @unchecked Sendable {
    static let shared = BlockingThreads()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread { job.runSynchronously(on: executor) }
        thread.name = "cwmigrate-test-blocking"
        thread.start()
    }
}

/// The image tags of a lab's Docker daemon, which every lab test leaves as it found them: an
/// install pulls a version's images and the lab installer prunes like the vendor's, which never
/// prunes admin-web-app and doc-server, so an older version's tags of those stay behind after
/// the lab is back at its version (`admin-web-app:1.0.91`), and would change what the next test
/// finds (the installer's "deletes the images of every other version", the precheck's disk).
struct LabImages {
    let dockerHost: String
    let labDirectory: String

    /// Only the daemon of this process's lab (DOCKER_HOST in the lab's directory); nil for another.
    init?(labDirectory: String) {
        guard let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], host.hasPrefix("unix://" + labDirectory + "/")
        else { return nil }
        dockerHost = host
        self.labDirectory = labDirectory
    }

    func docker(_ script: String) -> ProgramResult? {
        try? TestSupport.run(
            URL(fileURLWithPath: "/bin/bash"), ["-c", script],
            environment: ["DOCKER_HOST": dockerHost, "DOCKER_CONFIG": labDirectory + "/docker-config"])
    }

    /// `repository:tag` of every tagged image.
    func tags() -> Set<String>? {
        guard let result = docker("docker images --format '{{.Repository}}:{{.Tag}}'"), result.status == 0 else { return nil }
        return Set(result.stdout.split(separator: "\n").map(String.init).filter { !$0.contains("<none>") })
    }

    /// Removes the tags that came since `found` and pulls back from the lab's registry the ones
    /// that went, saying which test changed them (`scripts/test`'s log names the culprit).
    func restore(_ found: Set<String>, after test: String) {
        guard let now = tags() else { return }
        let added = now.subtracting(found).sorted()
        let gone = found.subtracting(now).sorted()
        for tag in added {
            let removed = docker("docker rmi '\(tag)' >/dev/null")?.status == 0
            print("lab images: \(test) left \(tag)\(removed ? "; removed" : "; cannot remove it (in use?)")")
        }
        for tag in gone {
            let pulled = docker("docker pull -q '\(tag)' >/dev/null")?.status == 0
            print("lab images: \(test) removed \(tag)\(pulled ? "; pulled again" : "; cannot pull it again")")
        }
    }
}
