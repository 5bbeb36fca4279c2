#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// ISO-8601 dates read and written by hand: `2026-11-26T22:59:01.123Z`.
///
/// Foundation's ISO8601DateFormatter hands the text to ICU, which crashed (SIGFPE) on a
/// date a fuzzer made; a server's answer or a damaged file must never crash cwmigrate.
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS`, an optional fraction of up to 9 digits, then `Z` or
    /// `±HH:MM`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let c = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= c.count else { return nil }
            var value = 0
            for byte in c[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard c.count >= 20, let year = number(0..<4), c[4] == 45, let month = number(5..<7), c[7] == 45,
            let day = number(8..<10), c[10] == 84 || c[10] == 116, let hour = number(11..<13), c[13] == 58,
            let minute = number(14..<16), c[16] == 58, let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if c[index] == 46 {
            var scale = 0.1
            index += 1
            let start = index
            while index < c.count, c[index] >= 48, c[index] <= 57 {
                fraction += Double(c[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }
        guard index < c.count else { return nil }
        var offset = 0
        if c[index] == 90 || c[index] == 122 {
            index += 1
        } else if c[index] == 43 || c[index] == 45, let hours = number((index + 1)..<(index + 3)),
            index + 3 < c.count, c[index + 3] == 58, let minutes = number((index + 4)..<(index + 6)),
            hours < 24, minutes < 60
        {
            offset = (hours * 3600 + minutes * 60) * (c[index] == 45 ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == c.count else { return nil }
        let seconds =
            daysSinceEpoch(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60
            + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// The ways cwmigrate writes a time; every one is UTC, computed by hand so no locale,
    /// time zone database or ICU takes part.
    public enum Style: Sendable {
        /// `2026-11-26T22:59:01.123Z`, milliseconds rounded to the nearest: files and JSON.
        case milliseconds
        /// `2026-11-26T22:59:01Z`, the fraction dropped: whole seconds, as ISO 8601 writes them.
        case seconds
        /// `2026-11-26 22:59 UTC`, seconds dropped: what a person reads in a runbook.
        case minute
        /// `20261126T225901Z`, seconds dropped: sorts as text, fits in a file name.
        case compact
    }

    /// UTC with milliseconds, rounded to the nearest: `2026-11-26T22:59:01.123Z`.
    public static func format(_ date: Date) -> String { format(date, .milliseconds) }

    /// `date` in UTC as `style` writes it.
    public static func format(_ date: Date, _ style: Style) -> String {
        let interval = date.timeIntervalSince1970
        // Years 0000 to 9999 are what the formats can hold; the clamp keeps a wild date
        // from overflowing instead of being written.
        let clamped = min(max(interval, -62_167_219_200), 253_402_300_799.999)
        let milliseconds =
            style == .milliseconds ? Int64((clamped * 1000).rounded()) : Int64(clamped.rounded(.down)) * 1000
        let (seconds, millisecond) = floorDivide(milliseconds, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86400)
        let (year, month, day) = civil(daysSinceEpoch: Int(days))
        let hour = pad(Int(secondOfDay / 3600), 2)
        let minute = pad(Int(secondOfDay % 3600 / 60), 2)
        let second = pad(Int(secondOfDay % 60), 2)
        switch style {
        case .milliseconds:
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(hour):\(minute):\(second).\(pad(Int(millisecond), 3))Z"
        case .seconds:
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(hour):\(minute):\(second)Z"
        case .minute:
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(hour):\(minute) UTC"
        case .compact:
            return "\(pad(year, 4))\(pad(month, 2))\(pad(day, 2))T\(hour)\(minute)\(second)Z"
        }
    }

    // Howard Hinnant's algorithms for the proleptic Gregorian calendar.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    private static func civil(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let r = a % b
        return r < 0 ? (a / b - 1, r + b) : (a / b, r)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
