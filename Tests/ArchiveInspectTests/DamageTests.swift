import ArchiveInspect
import Foundation
import Testing
import TestSupport

@Suite("Damaged archives and files that are not archives")
struct DamageTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    func failure(_ file: String, verify: Bool) -> ArchiveInspectError? {
        do {
            _ = try inspectBackup(at: file, options: InspectOptions(verify: verify))
            return nil
        } catch { return error }
    }

    /// A backup with its metadata first and many text files after it.
    func manyFiles(_ compression: Compression) throws -> String {
        var files = ["\(backupID)/metadata.json": #"{"version": "1.0.73"}"#]
        var order = [backupID, "\(backupID)/metadata.json"]
        for i in 1...150 {
            files["\(backupID)/table\(i).sql"] = (1...400).map { "INSERT INTO t\(i) VALUES (\($0 * i));" }.joined(separator: "\n")
            order.append("\(backupID)/table\(i).sql")
        }
        try scratch.tree(files)
        return try scratch.archive("b.tar.\(compression.rawValue)", with: .gnuTar("pax"), compression, order: order)
    }

    @Test("A truncated archive passes a quick look but --verify names the entry and offset", arguments: Compression.allCases)
    func truncated(compression: Compression) throws {
        defer { scratch.remove() }
        let whole = try manyFiles(compression)
        let size = try FileManager.default.attributesOfItem(atPath: whole)[.size] as! Int
        try scratch.sh("head -c \(size * 2 / 3) \(whole) > cut")

        #expect(try inspectBackup(at: scratch.path("cut")).version.description == "1.0.73")
        guard case .damaged(let path, let entry, let offset, let message) = failure(scratch.path("cut"), verify: true) else {
            Issue.record("expected damage to be reported")
            return
        }
        #expect(path == scratch.path("cut"))
        #expect(entry?.hasPrefix("\(backupID)/table") == true)
        #expect(offset > 0 && offset <= Int64(size * 2 / 3))
        #expect(!message.isEmpty)
    }

    @Test("Bytes flipped in the middle are caught by --verify", arguments: [Compression.gzip, .bzip2, .xz, .zstd])
    func corrupted(compression: Compression) throws {
        defer { scratch.remove() }
        let whole = try manyFiles(compression)
        try scratch.sh(
            """
            python3 -c '
            import sys
            d = bytearray(open(sys.argv[1], "rb").read())
            m = len(d) // 2
            for i in range(m, m + 64): d[i] ^= 0x5a
            open("bad", "wb").write(d)
            ' \(whole)
            """)

        guard case .damaged(_, let entry, let offset, _) = failure(scratch.path("bad"), verify: true) else {
            Issue.record("expected damage to be reported")
            return
        }
        #expect(entry != nil)
        #expect(offset > 0)
    }

    @Test("A byte changed inside incompressible gzip data is caught by its CRC-32")
    func gzipCRC() throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/metadata.json": #"{"version": "1.0.73"}"#])
        try scratch.sh("head -c 400000 /dev/urandom > tree/\(fileSafeID)/blob.bin")
        let whole = try scratch.archive(
            "b.tgz", with: .gnuTar("gnu"), .gzip, order: ["\(fileSafeID)/metadata.json", "\(fileSafeID)/blob.bin"])
        // gzip stores random data verbatim, so inflating the changed byte succeeds and the
        // tar structure stays intact: only the trailer's CRC-32 can tell.
        try scratch.sh(
            """
            python3 -c '
            import sys
            d = bytearray(open(sys.argv[1], "rb").read())
            d[len(d) // 2] ^= 0x01
            open("bad.tgz", "wb").write(d)
            ' \(whole)
            """)

        #expect(try inspectBackup(at: whole, options: InspectOptions(verify: true)).verified)
        guard case .damaged(_, _, let offset, let message) = failure(scratch.path("bad.tgz"), verify: true) else {
            Issue.record("expected the CRC-32 mismatch to be reported")
            return
        }
        #expect(message.contains("CRC-32 mismatch"))
        #expect(offset > 200_000)
    }

    @Test("A gzip member whose trailer gives the wrong length is reported as a length mismatch")
    func gzipLength() throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/metadata.json": #"{"version": "1.0.73"}"#])
        try scratch.sh("head -c 400000 /dev/urandom > tree/\(fileSafeID)/blob.bin")
        let whole = try scratch.archive(
            "b.tgz", with: .gnuTar("gnu"), .gzip, order: ["\(fileSafeID)/metadata.json", "\(fileSafeID)/blob.bin"])
        // The last 4 bytes are the member's length modulo 2^32; the CRC-32 before them stays right.
        try scratch.sh(
            """
            python3 -c '
            import sys
            d = bytearray(open(sys.argv[1], "rb").read())
            d[-4] ^= 0x01
            open("bad.tgz", "wb").write(d)
            ' \(whole)
            """)

        guard case .damaged(_, _, _, let message) = failure(scratch.path("bad.tgz"), verify: true) else {
            Issue.record("expected the length mismatch to be reported")
            return
        }
        #expect(message.contains("gzip length mismatch"))
    }

    @Test("A corrupt deflate block after which igzip's input count is broken ends in one damage error, not a crash")
    func igzipBrokenCount() throws {
        // 248 bytes FuzzArchiveInspect made: igzip 2.30 returns ISAL_INVALID_LOOKBACK for them
        // with avail_in wrapped to 4294967294, and the decoder trapped on the subtraction.
        let input = Data(base64Encoded:
            "H4sIAAAAAAAC/+3UT2/aMBQAcK7kUzxxoUgkix0CG9UOrArSVAoM0gPTJGQSF2VKbOaYtdO07z4HOtry97C22qT3uySyX55j" +
            "v7wQx3Va3pS6lNoutUkzJH7ba7XJO4c26Oc3pWfgGi3fX12N7evqnjSo61Hiu36r5BKPEK8EfukVLHPNlHkVJaU+Fndq/j9F" +
            "TtQ/45rFTDPnay7FX9S/2WgcrD+l3lb9fb9p6u9i/V/cTwvt1E9v2jAUAHCu5FM8caFIJIsdAhvVDqwK0lQKDNID0yRkEhdl" +
            "SmzmmLXTtO8+B1kyz1vjIIT/////////YSdiDu+hegA=")!
        do {
            _ = try inspectBackup(bytes: Array(input), named: "fuzzed.tgz", options: InspectOptions(verify: true))
            Issue.record("expected the damage to be reported")
        } catch {
            guard case .damaged(_, _, _, let message) = error else {
                Issue.record("expected damage, got \(error)")
                return
            }
            #expect(message.contains("gzip data is corrupt: invalid distance too far back"), "\(message)")
        }
    }

    /// The file is read in 1 MiB blocks: these put the first member's 8-byte trailer before,
    /// at and across a block's end.
    @Test(
        "Each gzip member's CRC-32 is checked, wherever its trailer falls in the blocks read",
        arguments: [(1 << 20) - 9, (1 << 20) - 8, (1 << 20) - 3, 1 << 20, (1 << 20) + 5])
    func gzipMemberTrailerAcrossBlocks(firstMemberEnd: Int) throws {
        defer { scratch.remove() }
        try scratch.tree(["\(fileSafeID)/metadata.json": #"{"version": "1.0.73"}"#])
        try scratch.sh("head -c 2500000 /dev/urandom > tree/\(fileSafeID)/blob.bin")
        _ = try scratch.archive(
            "b.tar", with: .gnuTar("gnu"), .none, order: ["\(fileSafeID)/metadata.json", "\(fileSafeID)/blob.bin"])
        // Two members, the first stored (level 0) and cut so that it ends exactly at
        // firstMemberEnd; then a copy whose first trailer's CRC-32 has one bit changed.
        try scratch.sh(
            """
            python3 -c '
            import gzip, sys
            data, end = open("b.tar", "rb").read(), int(sys.argv[1])
            n = next(n for n in range(end - 300, end) if len(gzip.compress(data[:n], 0, mtime=0)) == end)
            first = gzip.compress(data[:n], 0, mtime=0)
            whole = first + gzip.compress(data[n:], 6, mtime=0)
            open("good.tgz", "wb").write(whole)
            bad = bytearray(whole)
            bad[end - 8] ^= 0x01
            open("bad.tgz", "wb").write(bad)
            ' \(firstMemberEnd)
            """)

        let facts = try inspectBackup(at: scratch.path("good.tgz"), options: InspectOptions(verify: true))
        #expect(facts.verified)
        #expect(facts.version.description == "1.0.73")
        guard case .damaged(_, _, _, let message) = failure(scratch.path("bad.tgz"), verify: true) else {
            Issue.record("expected the first member's CRC-32 mismatch to be reported")
            return
        }
        #expect(message.contains("CRC-32 mismatch"))
    }

    @Test(
        "Random bytes, a text file and an empty file are not archives",
        arguments: ["head -c 65536 /dev/urandom > f", "seq 1 5000 > f", ": > f", "head -c 5000 /dev/urandom | gzip -c > f"])
    func notArchives(script: String) throws {
        defer { scratch.remove() }
        try scratch.sh(script)

        guard case .notAnArchive(let path, let message) = failure(scratch.path("f"), verify: true) else {
            Issue.record("expected 'not an archive'")
            return
        }
        #expect(path == scratch.path("f"))
        #expect(!message.isEmpty)
    }

    @Test("A missing file and a directory are reported as such")
    func missingAndDirectory() throws {
        defer { scratch.remove() }
        #expect(failure(scratch.path("absent.tgz"), verify: false) == .fileNotFound(scratch.path("absent.tgz")))
        #expect(failure(scratch.root.path, verify: false) == .unreadable(scratch.root.path, reason: "it is a directory"))
    }
}
