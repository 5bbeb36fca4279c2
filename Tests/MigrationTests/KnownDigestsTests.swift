import Foundation
import TestSupport
import Testing

@testable import Migration

@Suite("digests of files the run hashed before")
struct KnownDigestsTests {
    @Test func aFileHashedBeforeIsHashedWholeAgainOnceAByteChangedEvenWithItsModificationTimePutBack() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("fresh-backup.tgz").path
        try TestSupport.shell("head -c 200000 /dev/urandom > '\(file)'")
        let first = try KnownDigests.sha256(ofFileAt: file)
        #expect(try first == sha256sum(file))
        #expect(try KnownDigests.sha256(ofFileAt: file) == first)

        try TestSupport.invertByte(at: 100, of: file, keepingModificationTime: true)
        let now = try KnownDigests.sha256(ofFileAt: file)
        #expect(now != first)
        #expect(try now == sha256sum(file))
    }

    @Test func aFileReplacedByAnotherOfTheSameSizeAndTimesIsHashedWhole() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("backup.tgz").path
        let other = root.appendingPathComponent("other.tgz").path
        try TestSupport.shell(
            "head -c 100000 /dev/urandom > '\(file)' && head -c 100000 /dev/urandom > '\(other)' && touch -r '\(file)' '\(other)'"
        )
        let first = try KnownDigests.sha256(ofFileAt: file)
        try TestSupport.shell("mv '\(other)' '\(file)'")
        #expect(try KnownDigests.sha256(ofFileAt: file) != first)
        #expect(try KnownDigests.sha256(ofFileAt: file) == (try sha256sum(file)))
    }

    private func sha256sum(_ path: String) throws -> String {
        String(try TestSupport.shell("sha256sum '\(path)'").stdout.prefix(64))
    }
}
