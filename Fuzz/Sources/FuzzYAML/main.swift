import CFuzzerDriver
import Glibc
import YAML

// Bytes as any YAML document: the reader must refuse or read it within its budgets, and what
// it reads, written out again with every scalar double-quoted and every tag explicit, must
// read back as the same tree (text, tags and shape), so no scalar is silently changed.
private func fuzzYAML(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    let node: YAMLNode?
    do { node = try composeYAML(text) } catch {
        precondition(error.mark.line >= 1 && error.mark.column >= 1, "an error without a place: \(error)")
        _ = error.description
        return
    }
    guard let node else { return }
    var out = ""
    write(node, to: &out)
    let again: YAMLNode?
    do { again = try composeYAML(out) } catch {
        preconditionFailure("the tree written out does not read back: \(error)\n\(out)")
    }
    precondition(again.map { same(node, $0) } == true, "the tree changed on reading back:\n\(out)")
    if let mapping = node.mapping { _ = mapping.merged() }
}

private func write(_ node: YAMLNode, to out: inout String) {
    switch node {
    case .scalar(let scalar):
        out += "!<\(uri(scalar.resolvedTag))> \"\(escaped(scalar.string))\""
    case .sequence(let sequence):
        if let tag = sequence.tag { out += "!<\(uri(tag))> " }
        out += "["
        for (index, item) in sequence.enumerated() {
            if index > 0 { out += ", " }
            write(item, to: &out)
        }
        out += "]"
    case .mapping(let mapping):
        if let tag = mapping.tag { out += "!<\(uri(tag))> " }
        out += "{"
        for (index, pair) in mapping.enumerated() {
            if index > 0 { out += ", " }
            out += "? "
            write(pair.key, to: &out)
            out += " : "
            write(pair.value, to: &out)
        }
        out += "}"
    }
}

private func same(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
    switch (a, b) {
    case (.scalar(let x), .scalar(let y)): return x.string == y.string && x.resolvedTag == y.resolvedTag
    case (.sequence(let x), .sequence(let y)):
        return x.tag == y.tag && x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.mapping(let x), .mapping(let y)):
        return x.tag == y.tag && x.count == y.count
            && zip(x, y).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
    default: return false
    }
}

/// A double-quoted scalar's body: escapes for the quote, the backslash and every character
/// below space or in the C1 range, and for line and paragraph separators and BOM, which
/// libyaml would otherwise fold or refuse.
private func escaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0xFEFF:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// A tag as a verbatim tag's URI: letters, digits and a few marks as they are, the rest %-escaped.
private func uri(_ tag: String) -> String {
    var out = ""
    for byte in tag.utf8 {
        if (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
            || ":/.,-_!~".utf8.contains(byte)
        {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return out
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzYAML(UnsafeBufferPointer(start: data, count: size))
        return 0
    })
