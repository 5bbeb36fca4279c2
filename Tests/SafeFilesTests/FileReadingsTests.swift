import Foundation
import SafeFiles
import TestSupport
import Testing

@Test func aReadingIsGivenBackOnlyWhileTheFileIsTheOneItWasReadFrom() throws {
    let root = try TestSupport.temporaryDirectory("file-readings")
    defer { try? FileManager.default.removeItem(at: root) }
    let path = root.appendingPathComponent("backup.tgz").path
    try TestSupport.shell("head -c 1000 /dev/urandom > '\(path)'")
    let readings = FileReadings<String>()
    #expect(readings.earlier(at: path) == nil)

    readings.remember("first", at: path, readFrom: FileIdentity(path: path))
    #expect(readings.earlier(at: path) == "first")

    // Changed in place with its modification time put back: the change time tells.
    try TestSupport.invertByte(at: 100, of: path, keepingModificationTime: true)
    #expect(readings.earlier(at: path) == nil)

    // A file that changed while it was read is not vouched for.
    let before = FileIdentity(path: path)
    try TestSupport.invertByte(at: 200, of: path)
    readings.remember("during", at: path, readFrom: before)
    #expect(readings.earlier(at: path) == nil)

    // Gone: nothing.
    readings.remember("last", at: path, readFrom: FileIdentity(path: path))
    try FileManager.default.removeItem(atPath: path)
    #expect(readings.earlier(at: path) == nil)
}
