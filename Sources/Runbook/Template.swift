import Vocabulary

/// A Mustache template, parsed as swift-mustache 2.1.1 parsed the runbook templates (so every
/// shipped template renders byte for byte as before): variables (`{{x}}` escaped for HTML
/// unless a `{{% CONTENT_TYPE: TEXT}}` pragma says the output is text, `{{{x}}}` and `{{& x}}`
/// never), dotted names and `{{.}}`, sections over lists, flags and objects, inverted sections,
/// comments, partials (`{{> name}}`, another template of the same directory), set delimiters
/// (`{{=<% %>=}}`), and the spec's rule that a line holding only a section, comment, pragma,
/// partial or delimiter tag leaves no line in the output.
struct MustacheTemplate: Sendable {
    indirect enum Token: Sendable {
        case text(String)
        case variable(name: String, escaped: Bool)
        case section(name: String, inverted: Bool, body: [Token])
        case partial(name: String, indentation: String)
        /// A `CONTENT_TYPE` pragma: from here on, variables are HTML-escaped or not.
        case output(html: Bool)
    }

    /// What is wrong in a template and on which line.
    struct ParseError: Error, Sendable, CustomStringConvertible {
        let line: Int
        let problem: String
        var description: String { "line \(line): \(problem)" }
    }

    let tokens: [Token]

    init(_ text: String) throws(ParseError) {
        var parser = Parser(Array(text))
        tokens = try parser.parse(section: nil, newLine: true, openedAt: 0)
    }

    private struct Parser {
        let characters: [Character]
        var position = 0
        var start: [Character] = ["{", "{"]
        var end: [Character] = ["}", "}"]

        init(_ characters: [Character]) { self.characters = characters }

        var atEnd: Bool { position >= characters.count }
        var current: Character? { atEnd ? nil : characters[position] }

        /// The line of `index` (from 1), for problems.
        func line(at index: Int) -> Int {
            characters[..<min(index, characters.count)].reduce(1) { $1.isNewline ? $0 + 1 : $0 }
        }

        func failure(_ problem: String, at index: Int? = nil) -> ParseError {
            ParseError(line: line(at: index ?? position), problem: problem)
        }

        func looking(at text: [Character]) -> Bool {
            position + text.count <= characters.count && Array(characters[position..<position + text.count]) == text
        }

        mutating func skip(_ text: [Character]) -> Bool {
            guard looking(at: text) else { return false }
            position += text.count
            return true
        }

        @discardableResult
        mutating func skip(while ok: (Character) -> Bool) -> String {
            var out = ""
            while let c = current, ok(c) {
                out.append(c)
                position += 1
            }
            return out
        }

        /// Text up to a newline (not consumed) or past the start delimiter (consumed).
        mutating func textUntilTagOrNewline() -> String {
            var text = ""
            while let c = current {
                if c.isNewline { break }
                if skip(start) { break }
                text.append(c)
                position += 1
            }
            return text
        }

        /// Whether the rest of the line is blanks; if so they and the newline are consumed.
        mutating func lineFinished() -> Bool {
            if atEnd { return true }
            var probe = position
            while probe < characters.count, characters[probe] == " " || characters[probe] == "\t" { probe += 1 }
            guard probe < characters.count, characters[probe].isNewline else { return false }
            position = probe + 1
            return true
        }

        static let nameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*")

        mutating func name(_ what: String, opened: Int) throws(ParseError) -> String {
            skip(while: \.isWhitespace)
            let name = skip(while: { Self.nameCharacters.contains($0) })
            skip(while: \.isWhitespace)
            if current == "(" {
                throw failure("\(what) `\(name)(…)`: transforms are not supported", at: opened)
            }
            guard skip(end) else {
                throw failure(
                    "\(what) is not closed with `\(String(end))` or has a character a name cannot have", at: opened)
            }
            return name
        }

        mutating func parse(section: String?, newLine startsLine: Bool, openedAt opened: Int) throws(ParseError)
            -> [Token]
        {
            var tokens: [Token] = []
            var newLine = startsLine
            var blanks = ""
            while !atEnd {
                if newLine { blanks = skip(while: { $0 == " " || $0 == "\t" }) }
                let text = textUntilTagOrNewline()
                if let c = current, c.isNewline {
                    tokens.append(.text(blanks + text + String(c)))
                    blanks = ""
                    newLine = true
                    position += 1
                    continue
                }
                if !text.isEmpty {
                    tokens.append(.text(blanks + text))
                    blanks = ""
                    newLine = false
                }
                guard let kind = current else { break }
                let tag = position - start.count
                var standalone = false
                func flushBlanks() {
                    if !blanks.isEmpty { tokens.append(.text(blanks)) }
                    blanks = ""
                }
                switch kind {
                case "#", "^":
                    position += 1
                    let name = try self.name("the section", opened: tag)
                    standalone = newLine && lineFinished()
                    if !standalone { flushBlanks() }
                    let body = try parse(section: name, newLine: standalone, openedAt: tag)
                    tokens.append(.section(name: name, inverted: kind == "^", body: body))
                case "/":
                    position += 1
                    let name = try self.name("the section end", opened: tag)
                    guard let section else {
                        throw failure(
                            "`\(String(start))/\(name)\(String(end))` ends a section that was never opened", at: tag)
                    }
                    guard name == section else {
                        throw failure(
                            "`\(String(start))/\(name)\(String(end))` where section `\(section)` ends", at: tag)
                    }
                    if !(newLine && lineFinished()) { flushBlanks() }
                    return tokens
                case "!":
                    position += 1
                    while !atEnd, !looking(at: end) { position += 1 }
                    guard skip(end) else { throw failure("the comment is not closed", at: tag) }
                    standalone = newLine && lineFinished()
                case "{":
                    flushBlanks()
                    position += 1
                    let name = try self.name("the variable", opened: tag)
                    guard skip(["}"]) else { throw failure("`{{{\(name)` is not closed with `}}}`", at: tag) }
                    tokens.append(.variable(name: name, escaped: false))
                case "&":
                    flushBlanks()
                    position += 1
                    tokens.append(.variable(name: try self.name("the variable", opened: tag), escaped: false))
                case ">":
                    position += 1
                    skip(while: \.isWhitespace)
                    let name = skip(while: { Self.nameCharacters.contains($0) || $0 == "/" })
                    skip(while: \.isWhitespace)
                    guard skip(end) else { throw failure("the partial is not closed with `\(String(end))`", at: tag) }
                    standalone = newLine && lineFinished()
                    if !standalone { flushBlanks() }
                    tokens.append(.partial(name: name, indentation: standalone ? blanks : ""))
                    if standalone { blanks = "" }
                case "=":
                    position += 1
                    skip(while: \.isWhitespace)
                    let newStart = Array(skip(while: { !$0.isWhitespace && $0 != "=" }))
                    skip(while: \.isWhitespace)
                    let newEnd = Array(skip(while: { !$0.isWhitespace && $0 != "=" }))
                    skip(while: \.isWhitespace)
                    guard !newStart.isEmpty, !newEnd.isEmpty, skip(["="]), skip(end) else {
                        throw failure(
                            "a delimiter change must read `\(String(start))=<start> <end>=\(String(end))`", at: tag)
                    }
                    start = newStart
                    end = newEnd
                    standalone = newLine && lineFinished()
                case "%":
                    position += 1
                    skip(while: \.isWhitespace)
                    let variable = skip(while: { Self.nameCharacters.contains($0) })
                    skip(while: \.isWhitespace)
                    let colon = skip([":"])
                    skip(while: \.isWhitespace)
                    let value = skip(while: { Self.nameCharacters.contains($0) })
                    skip(while: \.isWhitespace)
                    guard colon, skip(end), variable == "CONTENT_TYPE", value == "TEXT" || value == "HTML" else {
                        throw failure(
                            "the only pragma is `\(String(start))% CONTENT_TYPE: TEXT\(String(end))` (or HTML)", at: tag
                        )
                    }
                    tokens.append(.output(html: value == "HTML"))
                    standalone = newLine && lineFinished()
                default:
                    flushBlanks()
                    tokens.append(.variable(name: try self.name("the variable", opened: tag), escaped: true))
                }
                newLine = standalone
            }
            if let section {
                throw failure(
                    "section `\(section)` is not closed with `\(String(start))/\(section)\(String(end))`", at: opened)
            }
            return tokens
        }
    }
}

/// Renders templates of one directory against a context of strings, numbers, flags, lists
/// and string-keyed dictionaries.
struct MustacheRenderer {
    let templates: [String: MustacheTemplate]

    func render(_ name: String, context: Any) -> String? {
        guard let template = templates[name] else { return nil }
        return render(template.tokens, stack: [context], html: true, depth: 0)
    }

    private func render(_ tokens: [MustacheTemplate.Token], stack: [Any], html: Bool, depth: Int) -> String {
        var html = html
        var out = ""
        for token in tokens {
            switch token {
            case .text(let text): out += text
            case .output(let isHTML): html = isHTML
            case .variable(let name, let escaped):
                guard let value = lookUp(name, in: stack) else { continue }
                let text = String(describing: value)
                out += escaped && html ? htmlEscaped(text) : text
            case .section(let name, let inverted, let body):
                let value = lookUp(name, in: stack)
                if inverted {
                    let empty: Bool =
                        switch value {
                        case nil: true
                        case let list as [Any]: list.isEmpty
                        case let flag as Bool: !flag
                        default: false
                        }
                    if empty { out += render(body, stack: stack, html: html, depth: depth) }
                    continue
                }
                switch value {
                case nil: break
                case let list as [Any]:
                    for item in list { out += render(body, stack: stack + [item], html: html, depth: depth) }
                case let flag as Bool:
                    if flag { out += render(body, stack: stack, html: html, depth: depth) }
                case let value?:
                    out += render(body, stack: stack + [value], html: html, depth: depth)
                }
            case .partial(let name, let indentation):
                // A partial that includes itself stops at a depth no real template reaches.
                guard depth < 32, let partial = templates[name] else { continue }
                let text = render(partial.tokens, stack: stack, html: html, depth: depth + 1)
                out += indentation.isEmpty ? text : Self.indented(text, by: indentation)
            }
        }
        return out
    }

    /// `name` in the context: `.` is the innermost object; `a.b` is `a` found in the innermost
    /// object that has it, then its `b`; a name starting with `.` looks in the innermost only.
    private func lookUp(_ name: String, in stack: [Any]) -> Any? {
        if name == "." { return stack.last }
        let parts = name.split(separator: ".").map(String.init)
        guard let first = parts.first else { return nil }
        var value: Any?
        if name.hasPrefix(".") {
            value = stack.last.flatMap { Self.child(first, of: $0) }
        } else {
            value = stack.reversed().lazy.compactMap { Self.child(first, of: $0) }.first
        }
        for part in parts.dropFirst() {
            guard let current = value else { return nil }
            value = Self.child(part, of: current)
        }
        return value
    }

    private static func child(_ name: String, of object: Any) -> Any? {
        switch object {
        case let dictionary as [String: Any]: dictionary[name]
        case let dictionary as [String: String]: dictionary[name]
        default: nil
        }
    }

    private static func indented(_ text: String, by indentation: String) -> String {
        var out = ""
        var atLineStart = true
        for c in text {
            if atLineStart { out += indentation }
            out.append(c)
            atLineStart = c.isNewline
        }
        return out
    }
}
