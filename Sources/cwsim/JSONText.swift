import Foundation
import Vocabulary

/// A JSON value written with its keys in the order given, so the status reads
/// exactly like the vendor's documented example. Strings are quoted by Vocabulary's
/// `yamlQuoted`, whose output JSON reads back as the same text.
indirect enum JSONText {
    case string(String)
    case number(Int)
    case decimal(Double)
    case bool(Bool)
    case null
    case object([(String, JSONText)])

    var rendered: String {
        switch self {
        case .string(let text): return yamlQuoted(text)
        case .number(let value): return String(value)
        case .decimal(let value): return value.isFinite ? String(value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .object(let members):
            return "{" + members.map { yamlQuoted($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    var data: Data { Data(rendered.utf8) }

    static func message(_ text: String) -> JSONText { .object([("message", .string(text))]) }
}

/// Connectware's timestamp form: ISO-8601 in UTC with milliseconds.
func isoTimestamp(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
}
