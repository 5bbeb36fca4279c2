import Foundation

/// What a finished child program left behind.
struct ChildOutcome: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs PostgreSQL's tools and tar as child processes without blocking Swift's
/// cooperative threads: the wait happens in a termination handler.
enum ChildProcess {
    static func run(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil
    ) async throws(SimulatorError) -> ChildOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let finished = ExitBox()
        process.terminationHandler = { finished.set($0.terminationStatus) }
        do { try process.run() } catch {
            throw .cannotStart(program: program, reason: error.localizedDescription)
        }
        let outData = drain(out.fileHandleForReading)
        let errData = drain(err.fileHandleForReading)
        if let stdin {
            DispatchQueue.global().async {
                try? input.fileHandleForWriting.write(contentsOf: stdin)
                try? input.fileHandleForWriting.close()
            }
        }
        let status = await exitStatus(of: process, announced: finished)
        return ChildOutcome(
            status: status, stdout: String(decoding: await outData.value, as: UTF8.self),
            stderr: String(decoding: await errData.value, as: UTF8.self))
    }

    /// Like `run`, but a non-zero exit is an error carrying the program's stderr.
    @discardableResult
    static func check(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil
    ) async throws(SimulatorError) -> ChildOutcome {
        let outcome = try await run(program, arguments, environment: environment, stdin: stdin)
        guard outcome.status == 0 else {
            throw .childFailed(program: program, status: outcome.status, stderr: outcome.stderr)
        }
        return outcome
    }

    /// The child's exit status, from its termination handler or, should that never come
    /// (Foundation's reaping of a child can be missed when several exit at once), from
    /// waitpid polled here; whichever tells first.
    private static func exitStatus(of process: Process, announced: ExitBox) async -> Int32 {
        let pid = process.processIdentifier
        while true {
            if let code = announced.value { return code }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid { return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
            if reaped == -1 && errno == ECHILD && !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func drain(_ handle: FileHandle) -> Task<Data, Never> {
        let done = AsyncStream<Data>.makeStream()
        DispatchQueue.global().async {
            done.continuation.yield(handle.readDataToEndOfFile())
            done.continuation.finish()
        }
        return Task {
            for await data in done.stream { return data }
            return Data()
        }
    }
}

/// Runs blocking work (archive writing, file copies) off Swift's cooperative threads.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// The exit status a termination handler reports, read by the task that polls.
final class ExitBox: @unchecked Sendable {
    private let lock = NSLock()
    private var code: Int32?

    func set(_ value: Int32) {
        lock.lock()
        code = value
        lock.unlock()
    }

    var value: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return code
    }
}
