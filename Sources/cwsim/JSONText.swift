import Foundation

/// A JSON value written with its keys in the order given, so the status reads
/// exactly like the vendor's documented example.
indirect enum JSONText {
    case string(String)
    case number(Int)
    case decimal(Double)
    case bool(Bool)
    case null
    case object([(String, JSONText)])

    var rendered: String {
        switch self {
        case .string(let text): return Self.quote(text)
        case .number(let value): return String(value)
        case .decimal(let value): return value.isFinite ? String(value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .object(let members):
            return "{" + members.map { Self.quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    var data: Data { Data(rendered.utf8) }

    static func message(_ text: String) -> JSONText { .object([("message", .string(text))]) }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Connectware's timestamp form: ISO-8601 in UTC with milliseconds.
func isoTimestamp(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
}
