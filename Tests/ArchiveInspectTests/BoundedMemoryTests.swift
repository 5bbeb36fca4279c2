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

        let result = try TestSupport.run(TestSupport.product("cwmigrate"), ["inspect", "--verify", "--json", scratch.path("big")])

        #expect(result.status == 0, "\(result.stderr)")
        let facts = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(facts?["version"] as? String == "1.0.73")
        #expect((facts?["uncompressedBytes"] as? Int ?? 0) > 2 << 30)
        #expect(facts?["verified"] as? Bool == true)
        #expect(result.maxRSSKiB < 64 * 1024, "peak memory \(result.maxRSSKiB) KiB")
    }
}
