import Foundation
import Testing

@testable import Vocabulary

@Test(arguments: [
    ("2026-11-26T22:59:01.123Z", 1_795_733_941.123),
    ("1970-01-01T00:00:00.000Z", 0),
    ("2024-02-29T00:00:00.000Z", 1_709_164_800),
    ("1969-12-31T23:59:59.999Z", -0.001),
    ("9999-12-31T23:59:59.999Z", 253_402_300_799.999),
])
func aTimestampIsWrittenInTheJournalsFormatAndReadBack(text: String, seconds: Double) throws {
    let date = Date(timeIntervalSince1970: seconds)
    #expect(Timestamp.format(date) == text)
    let read = try #require(Timestamp.parse(text))
    #expect(abs(read.timeIntervalSince1970 - seconds) < 0.0005)
    #expect(Timestamp.format(read) == text)
}

/// The hand formatter writes what ISO8601DateFormatter wrote for every millisecond-exact
/// date, so journals written before and after the change read the same.
@Test func theHandFormatterAgreesWithFoundationOnManyDates() {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    var seconds: Int64 = 0
    for step in 0..<5_000 {
        // Spread over 1970 to about 2100, leap days, month ends and every millisecond digit.
        seconds = (seconds &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407) & 0x7FFF_FFFF_FFFF
        let date = Date(timeIntervalSince1970: Double(seconds % 4_102_444_800) + Double(step % 1000) / 1000)
        let expected = formatter.string(from: date)
        #expect(Timestamp.format(date) == expected)
        if Timestamp.format(date) != expected { return }
    }
}

@Test func offsetsAndAMissingFractionAreRead() {
    #expect(Timestamp.parse("2022-02-16T15:37:19Z")?.timeIntervalSince1970 == 1_645_025_839)
    #expect(Timestamp.parse("2022-02-16T16:37:19+01:00")?.timeIntervalSince1970 == 1_645_025_839)
    #expect(Timestamp.parse("2022-02-16T14:37:19-01:00")?.timeIntervalSince1970 == 1_645_025_839)
}

/// What a damaged file or a hostile server might hold: each is nil, never a crash.
@Test(arguments: [
    "", "2026", "2026-11-26", "2026-11-26T22:59:01", "2026-11-26T22:59:01.Z", "2026-11-26T22:59:01.1234567890Z",
    "2026-13-26T22:59:01Z", "2026-11-32T22:59:01Z", "2026-11-26T24:59:01Z", "2026-11-26T22:60:01Z",
    "2026-11-26T22:59:01.123Zjunk", "2026-11-26T22:59:01+1:00", "2026-11-26T22:59:01+25:00", "+2026-11-26T22:59:01Z",
    "２０２６-11-26T22:59:01Z", "2026-11-26T22:59:01.12٣Z", "0000-00-00T00:00:00Z", "2026-11-26 22:59:01Z",
    "2026-11-26T22:59:01.123+", "\u{0}026-11-26T22:59:01Z", String(repeating: "9", count: 100_000),
    "2026-11-26T22:59:01." + String(repeating: "1", count: 100_000) + "Z",
])
func aHostileTimestampIsRefused(text: String) {
    #expect(Timestamp.parse(text) == nil)
}

@Test func datesTheFormatCannotHoldAreClampedNotCrashed() {
    #expect(Timestamp.format(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59.999Z")
    #expect(Timestamp.format(Date(timeIntervalSince1970: -1e300)) == "0000-01-01T00:00:00.000Z")
    #expect(Timestamp.format(Date.distantFuture).hasPrefix("4001-01-01"))
}
