@testable import DockerOps
import Foundation
import TestSupport
import Testing

@Suite("staged tars are told from an operator's files by their whole name")
struct StagedNameTests {
    @Test func onlyAStagedTarOfADeadOwnerIsClearedAndAnOperatorsCwmigrateNamedSnapshotIsKept() throws {
        let directory = try TestSupport.temporaryDirectory("cwmigrate-staged-names")
        defer { try? FileManager.default.removeItem(at: directory) }
        // An operator's own snapshot whose name happens to split like a staged one.
        let kept = [
            "cwmigrate-pg-2026.11-snap.tar.zst", "cwmigrate-restore-2026.11-notes.tar",
            "cwmigrate-snapshot-2026.11-0123ABCD.tar", "cwmigrate-snapshot-2026.11-0123abcd.zip",
        ]
        // A dead owner: no process has this pid.
        let staged = [
            "cwmigrate-snapshot-2147483646.17-0123abcd.tar", ".cwmigrate-restore-2147483646.17-89abcdef.tar.part",
        ]
        for name in kept + staged {
            try Data(name.utf8).write(to: directory.appendingPathComponent(name))
        }
        let removed = removeStagedLeftovers(in: directory.path)
        #expect(Set(removed) == Set(staged.map { directory.path + "/" + $0 }))
        for name in kept {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(bytes == Data(name.utf8), "\(name) is kept as it was")
        }
    }
}
