import ArchiveInspect
import Foundation
import Testing
import TestSupport

@Suite("Tar dialects and compressions")
struct FormatTests {
    static let cases: [(Maker, Compression)] = Maker.all.flatMap { maker in Compression.allCases.map { (maker, $0) } }

    @Test("Every tar dialect in every compression is read and verified", arguments: cases)
    func everyDialectAndCompression(maker: Maker, compression: Compression) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let metadata = #"{"version": "1.0.73", "createdBy": "test"}"#
        let dump = String(repeating: "INSERT INTO users VALUES (1, 'admin');\n", count: 200)
        try scratch.tree(["backup/metadata.json": metadata, "backup/db/cybus_connectware.sql": dump])
        let file = try scratch.archive(
            "b.tar.\(compression.rawValue)", with: maker, compression,
            order: ["backup", "backup/db", "backup/db/cybus_connectware.sql", "backup/metadata.json"])

        let facts = try inspectBackup(at: file, options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.0.73")
        #expect(facts.compression == compression.rawValue)
        #expect(facts.format == maker.expectedFormat)
        #expect(facts.entries == 4)
        #expect(facts.uncompressedBytes == Int64(metadata.utf8.count + dump.utf8.count))
        #expect(facts.verified && facts.complete)
        #expect(facts.sha256 == (try scratch.sh("sha256sum \(file) | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("A gzip file of several members is read across the member boundary")
    func multiMemberGzip() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.tree([
            "a/filler.bin": String(repeating: "x", count: 100_000),
            "a/VERSION": "1.7.2\n",
        ])
        // Split one tar stream at a block boundary and gzip each half: the VERSION file
        // lives only in the second member.
        try scratch.sh(
            """
            cd tree && tar --format=gnu -cf ../whole.tar a/filler.bin a/VERSION && cd ..
            head -c 51200 whole.tar | gzip -c > part1.gz
            tail -c +51201 whole.tar | gzip -c > part2.gz
            cat part1.gz part2.gz > multi.tgz
            """)

        let facts = try inspectBackup(at: scratch.path("multi.tgz"), options: InspectOptions(verify: true))

        #expect(facts.version.description == "1.7.2")
        #expect(facts.evidence.map(\.source) == [.versionFile])
        #expect(facts.entries == 2)
        #expect(facts.compression == "gzip")
    }

    @Test("sha256(ofFileAt:) and SHA256Hasher agree with sha256sum")
    func sha256MatchesCoreutils() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.sh("head -c 3000001 /dev/urandom > blob")
        let expected = try scratch.sh("sha256sum blob | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)

        #expect(try sha256(ofFileAt: scratch.path("blob")) == expected)
        let hasher = SHA256Hasher()
        let data = try Data(contentsOf: URL(fileURLWithPath: scratch.path("blob")))
        var offset = 0
        for size in [1, 63, 4096, 1 << 20] + Array(repeating: 1 << 20, count: 3) where offset < data.count {
            let end = min(offset + size, data.count)
            hasher.update(data[offset..<end])
            offset = end
        }
        #expect(hasher.finalize() == expected)
    }
}
