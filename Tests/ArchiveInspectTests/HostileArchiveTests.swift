import Foundation
import Testing
import TestSupport

/// Archives made to hurt a reader. Each must end in a result or in one `error:` line with
/// exit 65, in bounded memory, never in a crash.
@Suite("Hostile archives")
struct HostileArchiveTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    /// What cwmigrate printed, and its peak memory as GNU time measured it.
    struct Outcome {
        let result: ProgramResult
        let peakKiB: Int

        var facts: [String: Any]? {
            try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        }

        /// Exit 0, or exit 65 with an `error:` line first; no crash, no Swift internals.
        var endedCleanly: Bool {
            let text = result.stdout + result.stderr
            guard !text.contains("Fatal error"), !text.contains("Optional("), !text.contains("Stack dump") else {
                return false
            }
            return result.status == 0 || (result.status == 65 && result.stderr.hasPrefix("error: "))
        }
    }

    /// Under a sanitizer the program's memory is the sanitizer's too, so no bound is checked.
    static let sanitized = ProcessInfo.processInfo.environment["CWMIGRATE_SANITIZER"] != nil

    func inspect(_ file: String, verify: Bool = true) throws -> Outcome {
        let peak = scratch.path("peak-\(UUID().uuidString)")
        let arguments = ["inspect", "--json"] + (verify ? ["--verify"] : []) + [file]
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/time"),
            ["-f", "%M", "-o", peak, TestSupport.product("cwmigrate").path] + arguments)
        let text = (try? String(contentsOfFile: peak, encoding: .utf8)) ?? ""
        // GNU time writes "Command exited with non-zero status N" before the figure.
        let kib = text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? .max
        return Outcome(result: result, peakKiB: kib)
    }

    func python(_ program: String, _ arguments: [String] = []) throws {
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        try scratch.sh("python3 - \(quoted) <<'PYTHON'\n\(program)\nPYTHON")
    }

    @Test("A million tiny entries are verified in bounded memory")
    func aMillionEntries() throws {
        defer { scratch.remove() }
        // Sanitized builds run many times slower, and check no memory bound anyway.
        let count = Self.sanitized ? 100_000 : 1_000_000
        // ustar headers written directly into a gzip stream: one million entries in seconds.
        try python(
            """
            import gzip, sys
            def header(name, size=0):
                h = bytearray(512)
                h[0:len(name)] = name
                h[100:108] = b"0000644\\0"; h[108:116] = b"0000000\\0"; h[116:124] = b"0000000\\0"
                h[124:136] = b"%011o\\0" % size; h[136:148] = b"14206315057\\0"
                h[148:156] = b"        "; h[156:157] = b"0"; h[257:265] = b"ustar\\x0000"
                h[148:156] = b"%06o\\0 " % sum(h)
                return bytes(h)
            meta = b'{"version": "1.0.73"}'
            with gzip.open(sys.argv[1], "wb", compresslevel=1) as out:
                out.write(header(b"backup/metadata.json", len(meta)) + meta + bytes(512 - len(meta)))
                for i in range(int(sys.argv[2])):
                    out.write(header(b"backup/d/%07d" % i))
                out.write(bytes(1024))
            """, [scratch.path("million.tgz"), "\(count)"])
        let outcome = try inspect(scratch.path("million.tgz"))
        #expect(outcome.result.status == 0, "\(outcome.result.stderr)")
        #expect(outcome.facts?["entries"] as? Int == count + 1)
        #expect(outcome.facts?["version"] as? String == "1.0.73")
        if !Self.sanitized { #expect(outcome.peakKiB < 64 * 1024, "peak memory \(outcome.peakKiB) KiB") }
    }

    @Test("Paths nesting thousands of directories named like backup ids cost linear time and memory")
    func deeplyNestedPaths() throws {
        defer { scratch.remove() }
        // 8,000 levels, a 256 KB path in a pax header: every level's prefix kept would be
        // about 1 GB of strings, which is what this once cost (3 GB and a minute).
        try python(
            """
            import io, sys, tarfile
            name = "/".join(["1.0.73_2022-02-16T15:37:19.242Z"] * 8000) + "/VERSION"
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
                info = tarfile.TarInfo(name); info.size = 7
                t.addfile(info, io.BytesIO(b"1.0.73\\n"))
                deep = "/".join(["d"] * 30000) + "/metadata.json"
                info = tarfile.TarInfo(deep); info.size = 21
                t.addfile(info, io.BytesIO(b'{"version": "1.0.73"}'))
            """, [scratch.path("nested.tar")])
        let outcome = try inspect(scratch.path("nested.tar"))
        #expect(outcome.result.status == 0, "\(outcome.result.stderr)")
        #expect(outcome.facts?["version"] as? String == "1.0.73")
        #expect((outcome.facts?["evidence"] as? [Any])?.count ?? .max <= 10)
        if !Self.sanitized { #expect(outcome.peakKiB < 64 * 1024, "peak memory \(outcome.peakKiB) KiB") }
    }

    @Test("Names that are not UTF-8 are read and reported without a crash", arguments: ["USTAR_FORMAT", "PAX_FORMAT", "GNU_FORMAT"])
    func namesThatAreNotUTF8(format: String) throws {
        defer { scratch.remove() }
        try python(
            """
            import io, sys, tarfile
            def add(t, raw, data):
                info = tarfile.TarInfo(raw.decode("utf-8", "surrogateescape")); info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            with tarfile.open(sys.argv[1], "w", format=getattr(tarfile, sys.argv[2]),
                              encoding="utf-8", errors="surrogateescape") as t:
                add(t, b"caf\\xe9-\\xff\\xfe/VERSION", b"1.0.73\\n")
                add(t, b"\\xc0\\x80/../\\xed\\xa0\\x80/metadata.json", b'{"version": "1.0.73"}')
                add(t, b"\\x1b[31mred\\x07/data", b"x")
            """, [scratch.path("latin.tar"), format])
        let outcome = try inspect(scratch.path("latin.tar"))
        #expect(outcome.endedCleanly, "\(outcome.result.status): \(outcome.result.stderr)")
        #expect(outcome.result.status == 0, "\(outcome.result.stderr)")
        #expect(outcome.facts?["version"] as? String == "1.0.73")
        #expect(outcome.facts?["entries"] as? Int == 3)
    }

    @Test("An entry whose header claims more bytes than follow is damage for --verify")
    func sizeThatLies() throws {
        defer { scratch.remove() }
        // The metadata comes first, so a quick look may succeed; reading on must not.
        try python(
            """
            import io, sys, tarfile
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
                meta = b'{"version": "1.0.73"}'
                info = tarfile.TarInfo("backup/metadata.json"); info.size = len(meta)
                t.addfile(info, io.BytesIO(meta))
                info = tarfile.TarInfo("backup/db.dump"); info.size = 4096
                t.addfile(info, io.BytesIO(bytes(4096)))
            data = bytearray(raw.getvalue())
            # The dump's header (the second one) now says 8 GiB; 4 KiB follow.
            h = 1024
            data[h + 124:h + 136] = b"%011o\\0" % ((8 << 30) - 1)
            data[h + 148:h + 156] = b"        "
            data[h + 148:h + 156] = b"%06o\\0 " % sum(data[h:h + 512])
            open(sys.argv[1], "wb").write(bytes(data[:h + 512 + 4096]))
            """, [scratch.path("liar.tar")])
        try scratch.sh("gzip -c liar.tar > liar.tgz")
        for file in ["liar.tar", "liar.tgz"] {
            let verified = try inspect(scratch.path(file))
            #expect(verified.endedCleanly, "\(file): \(verified.result.stderr)")
            #expect(verified.result.status == 65, "\(file): \(verified.result.stderr)")
            #expect(verified.result.stderr.contains("damaged"), "\(file): \(verified.result.stderr)")
            let quick = try inspect(scratch.path(file), verify: false)
            #expect(quick.endedCleanly, "\(file): \(quick.result.stderr)")
        }
    }

    @Test("A size field that is not a number is a damaged header")
    func sizeThatIsNotANumber() throws {
        defer { scratch.remove() }
        try scratch.tree(["backup/VERSION": "1.0.73\n", "backup/db.dump": String(repeating: "x", count: 5000)])
        let file = try scratch.archive("garbled.tar", with: .gnuTar("ustar"), .none, order: ["backup/VERSION", "backup/db.dump"])
        try python(
            """
            import sys
            data = bytearray(open(sys.argv[1], "rb").read())
            data[1024 + 124:1024 + 136] = b"zz\\xff9999999\\0\\0"
            open(sys.argv[1], "wb").write(data)
            """, [file])
        let outcome = try inspect(file)
        #expect(outcome.endedCleanly, "\(outcome.result.stderr)")
        #expect(outcome.result.status == 65, "\(outcome.result.stderr)")
    }

    @Test("Sparse files in GNU and pax dialects are read as their full size", arguments: ["gnu", "pax"])
    func sparseFiles(format: String) throws {
        defer { scratch.remove() }
        try scratch.tree(["backup/VERSION": "1.0.73\n"])
        try scratch.sh(
            """
            truncate -s 1G tree/backup/holes.bin
            printf end >> tree/backup/holes.bin
            cd tree && tar --format=\(format) --sparse -czf ../sparse.tgz backup/holes.bin backup/VERSION
            """)
        let outcome = try inspect(scratch.path("sparse.tgz"))
        #expect(outcome.result.status == 0, "\(outcome.result.stderr)")
        #expect(outcome.facts?["version"] as? String == "1.0.73")
        #expect((outcome.facts?["uncompressedBytes"] as? Int ?? 0) >= 1 << 30)
        if !Self.sanitized { #expect(outcome.peakKiB < 64 * 1024, "peak memory \(outcome.peakKiB) KiB") }
    }

    @Test("A zip file named like a backup is refused as not a tar archive", arguments: [false, true])
    func zipInPlaceOfATgz(verify: Bool) throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/metadata.json": #"{"version": "1.0.73"}"#])
        try scratch.sh("cd tree && bsdtar --format zip -cf ../connectware-\(fileSafeID).tgz \(fileSafeID)")
        let outcome = try inspect(scratch.path("connectware-\(fileSafeID).tgz"), verify: verify)
        #expect(outcome.endedCleanly, "\(outcome.result.stderr)")
        #expect(outcome.result.status == 65)
        #expect(outcome.result.stderr.contains("is not a tar archive"), "\(outcome.result.stderr)")
    }
}
