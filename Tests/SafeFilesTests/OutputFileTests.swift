import Foundation
import SafeFiles
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The one file writer every command uses: what it refuses, what it leaves on disk.
struct OutputFileTests {
    final class Scene {
        let root: String
        let victim: String

        init() throws {
            root = try TestSupport.temporaryDirectory("cwmigrate-output-file").path
            victim = root + "/victim"
            try Data("the victim's bytes\n".utf8).write(to: URL(fileURLWithPath: victim))
            chmod(victim, 0o644)
        }

        func path(_ name: String) -> String { root + "/" + name }
        func text(_ name: String) -> String? { try? String(contentsOfFile: path(name), encoding: .utf8) }
        var victimUnchanged: Bool {
            (try? String(contentsOfFile: victim, encoding: .utf8)) == "the victim's bytes\n" && mode(victim) == 0o644
        }
        /// Names in the directory other than `keep`: a temporary file left behind shows here.
        func others(than keep: Set<String>) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !keep.contains($0) }.sorted()
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func aNewFileIsWrittenWholeWithTheModeAskedForAndNoTemporaryFileLeft() throws {
        let scene = try Scene()
        let old = umask(0o077)
        defer { umask(old) }
        try OutputFile.write(Array("hello\n".utf8), to: scene.path("out.md"), mode: 0o644, replacing: false)
        #expect(scene.text("out.md") == "hello\n")
        #expect(mode(scene.path("out.md")) == 0o644)
        #expect(scene.others(than: ["out.md", "victim"]).isEmpty)
    }

    @Test func anExistingFileIsRefusedUnlessReplacingAndKeepsItsBytes() throws {
        let scene = try Scene()
        #expect(throws: OutputFileError.exists(path: scene.victim)) {
            try OutputFile.write(Array("new\n".utf8), to: scene.victim, replacing: false)
        }
        #expect(scene.victimUnchanged)
        try OutputFile.write(Array("new\n".utf8), to: scene.victim, mode: 0o600, replacing: true)
        #expect(scene.text("victim") == "new\n")
        #expect(mode(scene.victim) == 0o600)
    }

    @Test func replacingASymlinkReplacesTheLinkNotTheFileBehindIt() throws {
        let scene = try Scene()
        symlink(scene.victim, scene.path("link"))
        #expect(throws: OutputFileError.exists(path: scene.path("link"))) {
            try OutputFile.write(Array("x".utf8), to: scene.path("link"), replacing: false)
        }
        try OutputFile.write(Array("x".utf8), to: scene.path("link"), replacing: true)
        #expect(scene.victimUnchanged)
        #expect(kind(scene.path("link")) == S_IFREG)
        #expect(scene.text("link") == "x")
    }

    @Test func aDirectoryIsRefusedEvenWhenReplacing() throws {
        let scene = try Scene()
        mkdir(scene.path("dir"), 0o755)
        #expect(throws: OutputFileError.isDirectory(path: scene.path("dir"))) {
            try OutputFile.write(Array("x".utf8), to: scene.path("dir"), replacing: true)
        }
        #expect(kind(scene.path("dir")) == S_IFDIR)
    }

    @Test func aDeviceIsRefusedEvenWhenReplacingAndStaysADevice() throws {
        #expect(throws: OutputFileError.notARegularFile(path: "/dev/full", kind: "character device")) {
            try OutputFile.write(Array("x".utf8), to: "/dev/full", replacing: true)
        }
        #expect(kind("/dev/full") == S_IFCHR)
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let scene = try Scene()
        #expect(mkfifo(scene.path("fifo"), 0o600) == 0)
        #expect(throws: OutputFileError.notARegularFile(path: scene.path("fifo"), kind: "FIFO")) {
            try OutputFile.write(Array("x".utf8), to: scene.path("fifo"), replacing: true)
        }
        #expect(kind(scene.path("fifo")) == S_IFIFO)
    }

    @Test func aSocketIsRefused() throws {
        let scene = try Scene()
        try TestSupport.shell(
            "python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' '\(scene.path("sock"))'")
        #expect(throws: OutputFileError.notARegularFile(path: scene.path("sock"), kind: "socket")) {
            try OutputFile.check(scene.path("sock"), replacing: true)
        }
        #expect(kind(scene.path("sock")) == S_IFSOCK)
    }

    /// The same file by device and inode: another spelling, a hard link, a symlink to it.
    @Test(arguments: ["./victim", "hardlink", "symlink"])
    func theCommandsOwnInputIsRefusedUnderAnyNameEvenWhenReplacing(name: String) throws {
        let scene = try Scene()
        link(scene.victim, scene.path("hardlink"))
        symlink(scene.victim, scene.path("symlink"))
        let output = scene.root + "/" + name
        #expect(throws: OutputFileError.isInput(path: output, input: scene.victim)) {
            try OutputFile.write(Array("x".utf8), to: output, replacing: true, inputs: ["/nonexistent", scene.victim])
        }
        #expect(scene.victimUnchanged)
    }

    @Test func aDashIsStandardOutputOnlyWhereTextMayGoThere() throws {
        #expect(try OutputFile.check("-", replacing: false, standardOutputRefusal: nil) == .standardOutput)
        #expect(throws: OutputFileError.standardOutputRefused(what: "a backup archive")) {
            try OutputFile.check("-", replacing: false, standardOutputRefusal: "a backup archive")
        }
    }

    @Test func aMissingDirectoryIsRefusedByTheCheckAlone() throws {
        let scene = try Scene()
        let output = scene.path("missing/out.md")
        #expect(
            throws: OutputFileError.unusableDirectory(
                path: output, directory: scene.path("missing"), reason: "does not exist")
        ) {
            try OutputFile.check(output, replacing: true)
        }
        #expect(
            throws: OutputFileError.unusableDirectory(
                path: scene.path("victim/x"), directory: scene.victim, reason: "is not a directory")
        ) {
            try OutputFile.check(scene.path("victim/x"), replacing: true)
        }
    }

    /// A symlink planted at the temporary name is removed, not followed.
    @Test func aSymlinkAtTheTemporaryNameIsNotFollowed() throws {
        let scene = try Scene()
        symlink(scene.victim, scene.path("out.tgz.part"))
        try OutputFile.write(Array("x".utf8), to: scene.path("out.tgz"), replacing: false, temporarySuffix: ".part")
        #expect(scene.victimUnchanged)
        #expect(scene.text("out.tgz") == "x")
        #expect(scene.others(than: ["out.tgz", "victim"]).isEmpty)
    }

    @Test func aDiscardedFileLeavesThePreviousFileAndNoTemporaryFile() throws {
        let scene = try Scene()
        let file = try OutputFile.create(scene.victim, replacing: true)
        try file.write(Array("half".utf8))
        file.discard()
        #expect(scene.victimUnchanged)
        #expect(scene.others(than: ["victim"]).isEmpty)
    }

    /// Between the check and the end of a long write something appears at the name: it is kept.
    @Test func aFileThatAppearsWhileWritingIsNotReplacedWithoutReplacing() throws {
        let scene = try Scene()
        let file = try OutputFile.create(scene.path("out.tgz"), replacing: false)
        try file.write(Array("ours".utf8))
        symlink(scene.victim, scene.path("out.tgz"))
        #expect(throws: OutputFileError.exists(path: scene.path("out.tgz"))) { try file.commit() }
        #expect(kind(scene.path("out.tgz")) == S_IFLNK)
        #expect(scene.victimUnchanged)
        #expect(scene.others(than: ["out.tgz", "victim"]).isEmpty)
    }

    @Test func aNameInADirectoryDescriptorIsWrittenThere() throws {
        let scene = try Scene()
        mkdir(scene.path("runs"), 0o700)
        let directory = open(scene.path("runs"), O_RDONLY | O_DIRECTORY)
        defer { close(directory) }
        try OutputFile.write(Array("{}".utf8), to: "run.json", in: directory, replacing: true)
        try OutputFile.write(Array("{1}".utf8), to: "run.json", in: directory, replacing: true)
        #expect(scene.text("runs/run.json") == "{1}")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scene.path("runs")) == ["run.json"])
    }
}

private func mode(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
}

private func kind(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
}
