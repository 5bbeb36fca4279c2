import Foundation

/// A long-running child (cwsim) that a test starts, waits for until it prints its
/// ready line, and stops again; stderr goes to a log file the failure message quotes.
public final class RunningProgram: @unchecked Sendable {
    public let readyLine: String
    public let logFile: URL
    private let process: Process

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:],
        readyPrefix: String, logFile: URL, timeout: TimeInterval = 60
    ) throws {
        self.logFile = logFile
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        // Lines are read on a thread of their own; the first one with the prefix wins,
        // and the pipe keeps being drained afterwards so the child never blocks on it.
        let found = DispatchSemaphore(value: 0)
        let box = ReadyBox()
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            var signalled = false
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                guard !signalled else { continue }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    if line.hasPrefix(readyPrefix) {
                        box.set(line)
                        signalled = true
                        found.signal()
                        break
                    }
                }
            }
            if !signalled { found.signal() }
        }
        let waited = found.wait(timeout: .now() + timeout)
        guard waited == .success, let ready = box.get() else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            throw StartFailure(
                description: "\(executable.lastPathComponent) did not print '\(readyPrefix)…' (stderr: \(log))")
        }
        readyLine = ready
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    /// SIGTERM, then SIGKILL when it has not ended after five seconds.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

private final class ReadyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var line: String?
    func set(_ value: String) { lock.withLock { line = value } }
    func get() -> String? { lock.withLock { line } }
}
