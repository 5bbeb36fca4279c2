import Foundation
import HTTP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A symlink planted where a download is written (the file or its `.part`) must never be
/// written through: the file it points to, outside the download's directory, keeps its bytes.
@Suite struct DownloadSafetyTests {
    /// A directory for the download and, apart from it, a victim file with known bytes.
    struct Scene {
        let directory: URL
        let victim: String
        let path: String

        init() throws {
            directory = try TestSupport.temporaryDirectory("cwmigrate-download-safety")
            let outside = directory.appendingPathComponent("outside")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            victim = outside.appendingPathComponent("victim").path
            try Data("the victim's bytes\n".utf8).write(to: URL(fileURLWithPath: victim))
            chmod(victim, 0o644)
            let downloads = directory.appendingPathComponent("downloads")
            try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
            path = downloads.appendingPathComponent("backup.tgz").path
        }

        func plant(at link: String) throws {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        }

        var victimUnchanged: Bool {
            (try? String(contentsOfFile: victim, encoding: .utf8)) == "the victim's bytes\n" && mode(victim) == 0o644
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func aSymlinkAtTheFileIsRefusedAndTheFileItPointsToIsUntouched() throws {
        let server = try TestServer()
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.path)
        #expect(throws: HTTPError.file(path: scene.path, message: "already exists")) {
            try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/4096")), to: scene.path)
        }
        #expect(scene.victimUnchanged)
        #expect(isSymlink(scene.path))
        #expect(!lexists(scene.path + ".part"))
    }

    @Test func replacingASymlinkAtTheFileReplacesTheLinkNotWhatItPointsTo() throws {
        let server = try TestServer()
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.path)
        _ = try HTTPClient().download(HTTPRequest(.get, server.url("/bytes/4096")), to: scene.path, replacing: true)
        #expect(scene.victimUnchanged)
        #expect(!isSymlink(scene.path))
        #expect(mode(scene.path) == 0o600)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: scene.path))) == pattern(4096))
    }

    @Test(arguments: [false, true])
    func aSymlinkAtThePartFileIsNotFollowed(replacing: Bool) throws {
        let server = try TestServer()
        let scene = try Scene()
        defer { scene.remove() }
        try scene.plant(at: scene.path + ".part")
        _ = try HTTPClient().download(
            HTTPRequest(.get, server.url("/bytes/4096")), to: scene.path, replacing: replacing)
        #expect(scene.victimUnchanged)
        #expect(!isSymlink(scene.path))
        #expect(mode(scene.path) == 0o600)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: scene.path))) == pattern(4096))
        #expect(!lexists(scene.path + ".part"))
    }
}

func mode(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
}

func isSymlink(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
}

func lexists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}
