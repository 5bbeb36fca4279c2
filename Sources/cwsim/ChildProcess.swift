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
        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished.continuation.yield($0.terminationStatus) }
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
        var status: Int32 = -1
        for await code in finished.stream {
            status = code
            break
        }
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
