import Foundation
import Migration
import Testing

@Test func aJournalsDatesAreWrittenWithMillisecondsAndReadBackTheSame() throws {
    let journal = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_733_941.123))
    let text = String(decoding: try JournalCoding.encode(journal), as: UTF8.self)
    #expect(text.contains("\"createdAt\" : \"2026-11-26T22:59:01.123Z\""))
    let read = try JournalCoding.decode(Data(text.utf8))
    #expect(JournalCoding.timestamp(read.createdAt) == "2026-11-26T22:59:01.123Z")
    #expect(try JournalCoding.encode(read) == JournalCoding.encode(journal))
}

/// A journal whose date was damaged is refused with a decoding error, not a crash
/// (the kind of date that made ICU die with SIGFPE included).
@Test(arguments: ["2026-11-26T22:59:01.123", "2026-02-30T99:00:00Z", "+275760-09-13T00:00:00.000Z", "", "0"])
func aJournalWithADamagedDateIsRefused(date: String) throws {
    let journal = try Fixtures.journal(at: Date(timeIntervalSince1970: 1_795_733_941.123))
    let text = String(decoding: try JournalCoding.encode(journal), as: UTF8.self)
        .replacingOccurrences(of: "\"createdAt\" : \"2026-11-26T22:59:01.123Z\"", with: "\"createdAt\" : \"\(date)\"")
    #expect(throws: DecodingError.self) { try JournalCoding.decode(Data(text.utf8)) }
}
