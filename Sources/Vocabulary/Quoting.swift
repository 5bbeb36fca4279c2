/// Whether `character` means only itself to a POSIX shell, in any position of a word: ASCII
/// letters, digits and `/._-:+=@%,`.
public func isShellPlain(_ character: Character) -> Bool {
    character.isASCIILetter || character.isASCIIDigit || "/._-:+=@%,".contains(character)
}

/// A word as a POSIX shell reads it back: unchanged when every character is plain
/// (`isShellPlain`), else single-quoted with each `'` written as `'\''`. The empty word is `''`.
public func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.allSatisfy(isShellPlain)
    return plain ? word : "'" + word.replacingAll("'", with: "'\\''") + "'"
}

/// A double-quoted scalar that YAML and JSON both read back as `text`.
///
/// Escaped as `\uXXXX` (the form both languages know), besides `"` `\` `\n` `\t` `\r`:
/// what YAML does not allow in a document (C0 and C1 controls, DEL, U+FFFE, U+FFFF) and
/// what a reader would fold as a line break or drop as a byte order mark (U+2028, U+2029,
/// U+FEFF).
public func yamlQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) || [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF].contains(value) {
                let hex = String(value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Text made safe inside HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`).
public func htmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
