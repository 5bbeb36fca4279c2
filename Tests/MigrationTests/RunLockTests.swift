import Foundation
import Migration
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// flock(1) from util-linux holding a lock file in another process, until it is killed.
final class ForeignHolder {
    let process = Process()

    init(_ path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        // --no-fork: the process killed is the one holding the lock, and no orphan keeps it.
        process.arguments = ["--exclusive", "--no-fork", path, "sleep", "300"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until `held()` says the lock is taken (flock(1) needs a moment to start).
    func waitUntilHeld(_ held: () throws -> Bool) throws {
        for _ in 0..<600 where try !held() { usleep(50_000) }
        #expect(try held(), "flock(1) did not take the lock")
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}

@Suite("the installation lock across processes")
struct RunLockTests {
    func lockPath(_ store: JournalStore, _ installation: InstallationRef = Fixtures.installation) -> String {
        store.locksDirectory + "/" + installation.lockKey + ".lock"
    }

    @Test func aSecondRunOnTheSameInstallationIsRefusedAndNamesTheHolder() throws {
        let store = try Fixtures.store()
        let first = try RunLock.acquire(Fixtures.installation, in: store, holder: "run 20261126T225901Z-abcdef")
        defer { first.release() }
        #expect {
            try RunLock.acquire(Fixtures.installation, in: store, holder: "second")
        } throws: { error in
            guard case MigrationError.installationLocked(let installation, let file, let holder) = error else {
                return false
            }
            return installation == "connectware (/opt/connectware)" && file == lockPath(store)
                && holder == "pid \(getpid()): run 20261126T225901Z-abcdef"
        }
        #expect(Fixtures.mode(lockPath(store)) == 0o600)
        #expect(Fixtures.mode(store.locksDirectory) == 0o700)
        let other = InstallationRef(name: "connectware", directory: "/srv/connectware-b")
        let second = try RunLock.acquire(other, in: store, holder: "other installation")
        second.release()
    }

    @Test func aLockHeldByAnotherProcessRefusesTheRunAndIsFreeOnceThatProcessIsKilled() throws {
        let store = try Fixtures.store()
        RunLock.createFile(Fixtures.installation, store)
        let holder = try ForeignHolder(lockPath(store))
        try holder.waitUntilHeld { try RunLock.state(of: Fixtures.installation, in: store) != .free }
        #expect(
            throws: MigrationError.installationLocked(
                installation: Fixtures.installation.description, lockFile: lockPath(store), holder: nil)
        ) {
            try RunLock.acquire(Fixtures.installation, in: store, holder: "me")
        }
        holder.kill()
        #expect(try RunLock.state(of: Fixtures.installation, in: store) == .free)
        let lock = try RunLock.acquire(Fixtures.installation, in: store, holder: "me")
        lock.release()
    }

    @Test func anotherProcessSeesTheLockWhileItIsHeldAndNotAfterRelease() throws {
        let store = try Fixtures.store()
        let lock = try RunLock.acquire(Fixtures.installation, in: store, holder: "me")
        let whileHeld = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/flock"), ["--nonblock", lockPath(store), "true"])
        #expect(whileHeld.status == 1)
        lock.release()
        let afterwards = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/flock"), ["--nonblock", lockPath(store), "true"])
        #expect(afterwards.status == 0)
    }

    @Test func aLockFileReplacedByASymlinkIsRefused() throws {
        let store = try Fixtures.store()
        RunLock.createFile(Fixtures.installation, store)
        let victim = store.directory + "/../victim"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.removeItem(atPath: lockPath(store))
        try FileManager.default.createSymbolicLink(atPath: lockPath(store), withDestinationPath: victim)
        #expect(throws: MigrationError.self) { try RunLock.acquire(Fixtures.installation, in: store, holder: "me") }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    @Test func abandoningIsRefusedWhileAnotherProcessHoldsTheInstallationsLock() throws {
        let store = try Fixtures.store()
        let journal = try Fixtures.journal()
        try store.save(journal)
        RunLock.createFile(Fixtures.installation, store)
        let holder = try ForeignHolder(lockPath(store))
        try holder.waitUntilHeld { try RunLock.state(of: Fixtures.installation, in: store) != .free }
        #expect(throws: MigrationError.self) { try store.abandon(journal.id, at: Date(), reason: "no") }
        #expect(try store.load(journal.id).outcome == .inProgress)
        holder.kill()
        try store.abandon(journal.id, at: Date(), reason: "yes")
        #expect(try store.load(journal.id).outcome == .abandoned)
    }
}

extension RunLock {
    /// Creates the lock file (and its directory) as a run would, then lets it go.
    static func createFile(_ installation: InstallationRef, _ store: JournalStore) {
        (try? acquire(installation, in: store, holder: "setup"))?.release()
    }
}
