import Foundation
import Testing
import TestSupport

@Suite("Constant memory")
struct BoundedMemoryTests {
    @Test("A 2 GiB entry of zeros is verified by cwmigrate in bounded memory", arguments: ["gzip -1 -c", "zstd -q -c"])
    func twoGiBOfZeros(compressor: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // A sparse file: tar reads 2 GiB of zeros from it without 2 GiB ever touching the disk.
        try scratch.tree(["\(fileSafeID)/metadata.json": #"{"version": "1.0.73"}"#])
        try scratch.sh(
            """
            truncate -s 2G tree/\(fileSafeID)/zeros.bin
            cd tree && tar --format=pax -cf - \(fileSafeID)/zeros.bin \(fileSafeID)/metadata.json | \(compressor) > ../big
            rm \(fileSafeID)/zeros.bin
            """)
        let size = try FileManager.default.attributesOfItem(atPath: scratch.path("big"))[.size] as! Int
        #expect(size < 64 << 20)

        // /usr/bin/time measures cwmigrate alone: the rusage of a child forked straight from
        // the test process would also count the pages it shared with the test runner.
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/time"),
            ["-f", "%M", "-o", scratch.path("peak"), TestSupport.product("cwmigrate").path, "inspect", "--verify", "--json", scratch.path("big")])
        let peakKiB = Int(try String(contentsOfFile: scratch.path("peak"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max

        #expect(result.status == 0, "\(result.stderr)")
        let facts = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(facts?["version"] as? String == "1.0.73")
        #expect((facts?["uncompressedBytes"] as? Int ?? 0) > 2 << 30)
        #expect(facts?["verified"] as? Bool == true)
        #expect(peakKiB < 64 * 1024, "peak memory \(peakKiB) KiB")
    }
}
