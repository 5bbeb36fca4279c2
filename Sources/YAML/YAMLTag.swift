/// The YAML 1.1 tags a plain scalar resolves to, by the patterns Yams' default resolver
/// used (its `Resolver.default`, in its order: bool, int, float, merge, null, timestamp,
/// value), written out by hand: a regular expression engine would bring ICU back.
public enum YAMLTag {
    public static let str = "tag:yaml.org,2002:str"
    public static let bool = "tag:yaml.org,2002:bool"
    public static let int = "tag:yaml.org,2002:int"
    public static let float = "tag:yaml.org,2002:float"
    public static let null = "tag:yaml.org,2002:null"
    public static let merge = "tag:yaml.org,2002:merge"
    public static let timestamp = "tag:yaml.org,2002:timestamp"
    public static let value = "tag:yaml.org,2002:value"
    public static let map = "tag:yaml.org,2002:map"
    public static let seq = "tag:yaml.org,2002:seq"

    public static func resolve(plain text: String) -> String {
        let b = Array(text.utf8)
        if isBool(text) { return bool }
        if isInt(b) { return int }
        if isFloat(b) { return float }
        if text == "<<" { return merge }
        if ["~", "null", "Null", "NULL", ""].contains(text) { return null }
        if isTimestamp(b) { return timestamp }
        if text == "=" { return value }
        return str
    }

    static func isBool(_ text: String) -> Bool {
        [
            "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
            "off", "Off", "OFF",
        ].contains(text)
    }

    /// A cursor over the bytes for the patterns below; each `take` consumes on success only.
    private struct Cursor {
        let b: [UInt8]
        var i = 0
        var atEnd: Bool { i == b.count }

        mutating func take(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        mutating func take(where ok: (UInt8) -> Bool) -> Bool {
            guard i < b.count, ok(b[i]) else { return false }
            i += 1
            return true
        }
        /// Zero or more.
        mutating func skip(while ok: (UInt8) -> Bool) -> Int {
            let start = i
            while i < b.count, ok(b[i]) { i += 1 }
            return i - start
        }
        mutating func sign() { _ = take(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) }
    }

    private static func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func digitOrUnderscore(_ c: UInt8) -> Bool { digit(c) || c == UInt8(ascii: "_") }

    /// `(?::[0-5]?[0-9])+` at the cursor; consumes it and says whether there was one.
    private static func sexagesimalTail(_ c: inout Cursor) -> Bool {
        var any = false
        while true {
            var d = c
            guard d.take(UInt8(ascii: ":")) else { break }
            // [0-5]?[0-9]: one digit, or two with the first 0-5.
            let first = d.i < d.b.count && digit(d.b[d.i])
            guard first else { break }
            if d.i + 1 < d.b.count, digit(d.b[d.i + 1]), d.b[d.i] <= UInt8(ascii: "5") {
                d.i += 2
            } else {
                d.i += 1
            }
            c = d
            any = true
        }
        return any
    }

    static func isInt(_ b: [UInt8]) -> Bool {
        func matches(_ body: (inout Cursor) -> Bool) -> Bool {
            var c = Cursor(b: b)
            c.sign()
            return body(&c) && c.atEnd
        }
        // [-+]?0b[0-1_]+
        if matches({ c in
            c.take(48) && c.take(UInt8(ascii: "b")) && c.skip(while: { $0 == 48 || $0 == 49 || $0 == 95 }) > 0
        }) {
            return true
        }
        // [-+]?0o?[0-7_]+
        if matches({ c in
            c.take(48)
                && {
                    _ = c.take(UInt8(ascii: "o"))
                    return true
                }()
                && c.skip(while: { ($0 >= 48 && $0 <= 55) || $0 == 95 }) > 0
        }) {
            return true
        }
        // [-+]?(?:0|[1-9][0-9_]*)
        if matches({ c in
            c.take(48) || (c.take(where: { $0 >= 49 && $0 <= 57 }) && c.skip(while: digitOrUnderscore) >= 0)
        }) {
            return true
        }
        // [-+]?0x[0-9a-fA-F_]+
        if matches({ c in
            c.take(48) && c.take(UInt8(ascii: "x"))
                && c.skip(while: { digit($0) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) || $0 == 95 }) > 0
        }) {
            return true
        }
        // [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
        return matches({ c in
            c.take(where: { $0 >= 49 && $0 <= 57 }) && c.skip(while: digitOrUnderscore) >= 0 && sexagesimalTail(&c)
        })
    }

    static func isFloat(_ b: [UInt8]) -> Bool {
        // [-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        do {
            var c = Cursor(b: b)
            c.sign()
            if c.take(where: digit) {
                _ = c.skip(while: digitOrUnderscore)
                if c.take(UInt8(ascii: ".")) { _ = c.skip(while: digitOrUnderscore) }
                var e = c
                if e.take(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                    e.sign()
                    if e.skip(while: digit) > 0 { c = e }
                }
                if c.atEnd { return true }
            }
        }
        // \.[0-9_]+(?:[eE][-+][0-9]+)?
        do {
            var c = Cursor(b: b)
            if c.take(UInt8(ascii: ".")), c.skip(while: digitOrUnderscore) > 0 {
                var e = c
                if e.take(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                    e.take(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }), e.skip(while: digit) > 0
                {
                    c = e
                }
                if c.atEnd { return true }
            }
        }
        // [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        do {
            var c = Cursor(b: b)
            c.sign()
            if c.take(where: digit), c.skip(while: digitOrUnderscore) >= 0, sexagesimalTail(&c),
                c.take(UInt8(ascii: "."))
            {
                _ = c.skip(while: digitOrUnderscore)
                if c.atEnd { return true }
            }
        }
        // [-+]?\.(?:inf|Inf|INF) and \.(?:nan|NaN|NAN)
        let text = String(decoding: b, as: UTF8.self)
        let bare = text.first == "+" || text.first == "-" ? String(text.dropFirst()) : text
        if [".inf", ".Inf", ".INF"].contains(bare) { return true }
        return [".nan", ".NaN", ".NAN"].contains(text)
    }

    static func isTimestamp(_ b: [UInt8]) -> Bool {
        var c = Cursor(b: b)
        func digits(_ min: Int, _ max: Int) -> Bool {
            var n = 0
            while n < max, c.take(where: digit) { n += 1 }
            return n >= min
        }
        // [0-9]{4}-[0-9][0-9]-[0-9][0-9]
        let date = c
        if digits(4, 4), c.take(45), digits(2, 2), c.take(45), digits(2, 2), c.atEnd { return true }
        c = date
        // [0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        //   (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
        guard digits(4, 4), c.take(45), digits(1, 2), c.take(45), digits(1, 2) else { return false }
        let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        guard c.take(where: { $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: "t") }) || c.skip(while: blank) > 0 else {
            return false
        }
        guard digits(1, 2), c.take(58), digits(2, 2), c.take(58), digits(2, 2) else { return false }
        if c.take(46) { _ = c.skip(while: digit) }
        if c.atEnd { return true }
        _ = c.skip(while: blank)
        if c.take(UInt8(ascii: "Z")) { return c.atEnd }
        guard c.take(where: { $0 == 43 || $0 == 45 }), digits(1, 2) else { return false }
        if c.atEnd { return true }
        return c.take(58) && digits(2, 2) && c.atEnd
    }
}
