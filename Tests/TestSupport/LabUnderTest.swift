import Foundation

/// The Docker lab a test process was given (scripts/test exports the lines `scripts/lab up`
/// printed): the setup the lab tests that drive `scripts/lab` share. Its scratch directory is
/// the test's own and goes with the test (see `ScratchDirectory`).
public struct LabUnderTest: Sendable {
    /// The lab's directory (CWMIGRATE_LAB_DIR).
    public let directory: String
    /// A fresh directory for this test's files, removed when the test's value goes.
    public let scratch: ScratchDirectory

    /// The lab of this process's environment, or `LabMissing` when it has none (or its
    /// DOCKER_HOST is not the lab's own socket).
    public init(scratchLabel: String) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["DOCKER_HOST"], let directory = environment["CWMIGRATE_LAB_DIR"],
            host.hasPrefix("unix://" + directory), environment["CWMIGRATE_URL"] != nil,
            environment["CWMIGRATE_PASSWORD"] != nil, environment["CWMIGRATE_CACERT"] != nil
        else { throw LabMissing() }
        self.directory = directory
        scratch = try ScratchDirectory(scratchLabel)
    }

    /// `scripts/lab ARGUMENTS` on this lab; `LabSetupFailed` (with its stderr) unless it exits 0.
    @discardableResult
    public func script(_ arguments: [String], environment: [String: String] = [:]) throws -> ProgramResult {
        let result = try TestSupport.run(
            TestSupport.packageRoot.appendingPathComponent("scripts/lab"), arguments,
            environment: environment.merging(["CWMIGRATE_LAB_DIR": directory]) { $1 })
        guard result.status == 0 else {
            throw LabSetupFailed(
                description:
                    "scripts/lab \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result
    }

    /// VERSION installed by the lab's installer (`-s -S`) and its maintenance API answering.
    public func install(_ version: String) throws {
        try script(["install", version, "-s", "-S"])
        try script(["wait", "120"])
    }

    /// `scripts/lab check`: one checksum line per table and one for service-manager.
    public func check() throws -> String { try script(["check"]).stdout }

    /// Runs `body` holding the lab's lock (see `TestSupport.holdingLabLock`), off the pool.
    public func exclusively<T>(_ body: () throws -> T) async throws -> T {
        try await TestSupport.holdingLabLock(directory, body)
    }

    /// Runs `body` holding the lab's lock, on the calling thread.
    public func exclusively<T>(_ body: () throws -> T) throws -> T {
        try TestSupport.holdingLabLock(directory, body)
    }
}

public struct LabMissing: Error, CustomStringConvertible {
    public init() {}
    public var description: String {
        "this test needs the lab (DOCKER_HOST, CWMIGRATE_LAB_DIR, CWMIGRATE_URL, CWMIGRATE_PASSWORD, CWMIGRATE_CACERT): "
            + "run it through scripts/test, or export the lines `scripts/lab up` prints"
    }
}

public struct LabSetupFailed: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// A fresh directory under the system's temporary directory that is removed, with all in it,
/// when the last copy of its value goes: a suite's test (a new suite value per test) keeps
/// one as a property, and its files go when the test ends, passed or failed.
public final class ScratchDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ label: String) throws {
        url = try TestSupport.temporaryDirectory(label)
    }

    public func appendingPathComponent(_ component: String) -> URL { url.appendingPathComponent(component) }

    deinit { TestSupport.remove(url) }
}
