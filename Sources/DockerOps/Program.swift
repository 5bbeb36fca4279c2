import Foundation

extension ConnectwareHost {
    static let diesWithParent = access("/usr/bin/setpriv", X_OK) == 0

    /// Runs a program (found on PATH) to its end with `environment`, stdin closed, and
    /// returns its combined output. Secrets travel in the environment or files, never in
    /// `arguments`, and output is only shown when the program fails.
    @discardableResult
    func runProgram(
        _ arguments: [String], in directory: String?, extraEnvironment: [String: String] = [:],
        redacting secret: String? = nil
    ) throws(DockerOpsError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A child must not outlive a cwmigrate that was killed: a resumed run would otherwise
        // race an orphaned installer. setpriv (util-linux) sets the parent-death signal.
        process.arguments = Self.diesWithParent ? ["setpriv", "--pdeathsig", "KILL", "--"] + arguments : arguments
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
            try process.run()
        } catch {
            throw .programFailed(command: command, status: 127, output: "\(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            var tail = text.split(separator: "\n").suffix(8).joined(separator: " | ")
            if let secret, !secret.isEmpty { tail = tail.replacingOccurrences(of: secret, with: "<license key>") }
            throw .programFailed(command: command, status: process.terminationStatus, output: tail)
        }
        return text
    }
}
