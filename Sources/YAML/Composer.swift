import CYAML

/// Reads one YAML document into its node tree: the document's root, nil for a stream
/// without a document (empty, or only comments). A second document is refused, as are a
/// mapping with a key twice, an alias to no anchor, more than `nodeLimit` nodes once
/// aliases are counted at their full size, and collections nested deeper than `depthLimit`.
/// An alias shares its anchor's node, so a caller that reads only a few known keys and never
/// walks the tree may pass `nodeLimit: .max`; a mapping key that is a collection is still
/// refused past 1,000 nodes, since comparing keys walks them.
public func composeYAML(_ text: String, nodeLimit: Int = 100_000, depthLimit: Int = 256) throws(YAMLError)
    -> YAMLNode?
{
    let parser = EventParser(text)
    var composer = Composer(parser: parser, nodeLimit: nodeLimit, depthLimit: depthLimit)
    return try composer.document()
}

/// One libyaml event, copied out of the C union.
private struct Event {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd, alias, scalar, sequenceStart, sequenceEnd,
            mappingStart, mappingEnd, none
    }
    var kind: Kind
    var mark: YAMLMark
    var anchor: String?
    var tag: String?
    var value = ""
    var style = YAMLNode.ScalarStyle.plain
    var quotedImplicit = false
}

/// Owns libyaml's parser and its copy of the input.
private final class EventParser {
    private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let text: [UInt8]

    init(_ text: String) {
        self.text = Array(text.utf8)
        input = .allocate(capacity: max(self.text.count, 1))
        _ = input.initialize(from: self.text)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, self.text.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    func next() throws(YAMLError) -> Event {
        var raw = yaml_event_t()
        guard yaml_parser_parse(parser, &raw) == 1 else { throw failure() }
        defer { yaml_event_delete(&raw) }
        let mark = YAMLMark(line: Int(raw.start_mark.line) + 1, column: Int(raw.start_mark.column) + 1)
        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
        switch raw.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, mark: mark)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, mark: mark)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, mark: mark)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, mark: mark)
        case YAML_ALIAS_EVENT: return Event(kind: .alias, mark: mark, anchor: string(raw.data.alias.anchor))
        case YAML_SCALAR_EVENT:
            let s = raw.data.scalar
            let style: YAMLNode.ScalarStyle =
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: .literal
                case YAML_FOLDED_SCALAR_STYLE: .folded
                default: .plain
                }
            // The text may hold NUL characters (`"\0"`), so by its length, not as a C string.
            let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            return Event(
                kind: .scalar, mark: mark, anchor: string(s.anchor), tag: string(s.tag), value: value, style: style,
                quotedImplicit: s.quoted_implicit != 0)
        case YAML_SEQUENCE_START_EVENT:
            let s = raw.data.sequence_start
            return Event(
                kind: .sequenceStart, mark: mark, anchor: string(s.anchor), tag: s.implicit != 0 ? nil : string(s.tag))
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, mark: mark)
        case YAML_MAPPING_START_EVENT:
            let m = raw.data.mapping_start
            return Event(
                kind: .mappingStart, mark: mark, anchor: string(m.anchor), tag: m.implicit != 0 ? nil : string(m.tag))
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, mark: mark)
        default: return Event(kind: .none, mark: mark)
        }
    }

    /// libyaml's error as ours: its problem and where it is (a reader error, bad encoding or
    /// a control character, has only a byte offset, turned into line and column here).
    private func failure() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unreadable YAML"
        if p.error == YAML_READER_ERROR {
            let before = text.prefix(min(p.problem_offset, text.count))
            let line = before.count(where: { $0 == 10 }) + 1
            let lineStart = before.lastIndex(of: 10).map { $0 + 1 } ?? 0
            let column = String(decoding: text[lineStart..<before.endIndex], as: UTF8.self).unicodeScalars.count + 1
            return .syntax(problem: problem, mark: YAMLMark(line: line, column: column))
        }
        let mark = YAMLMark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        return .syntax(problem: problem, mark: mark)
    }
}

/// Builds the tree from the events, as Yams' composer did (the same checks, the same
/// problems), with a budget for what aliases expand to.
private struct Composer {
    let parser: EventParser
    let nodeLimit: Int
    let depthLimit: Int
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var nodes = 0
    var depth = 0

    init(parser: EventParser, nodeLimit: Int, depthLimit: Int) {
        self.parser = parser
        self.nodeLimit = nodeLimit
        self.depthLimit = depthLimit
    }

    mutating func document() throws(YAMLError) -> YAMLNode? {
        _ = try parser.next()  // stream start
        let start = try parser.next()
        guard start.kind == .documentStart else { return nil }
        let root = try node(from: try parser.next()).node
        _ = try parser.next()  // document end
        let after = try parser.next()
        if after.kind != .streamEnd {
            throw .syntax(problem: "but found another document", mark: after.mark)
        }
        return root
    }

    /// The node the event starts, and how many nodes it holds with aliases expanded.
    private mutating func node(from event: Event) throws(YAMLError) -> (node: YAMLNode, size: Int) {
        let result: (node: YAMLNode, size: Int)
        switch event.kind {
        case .alias:
            guard let anchor = event.anchor, let target = anchors[anchor] else {
                throw .syntax(problem: "found undefined alias", mark: event.mark)
            }
            try count(target.size, at: event.mark)
            return target
        case .scalar:
            try count(1, at: event.mark)
            result = (
                .scalar(
                    .init(
                        string: event.value, style: event.style, tag: event.tag, mark: event.mark,
                        quotedImplicit: event.quotedImplicit)), 1
            )
        case .sequenceStart:
            try count(1, at: event.mark)
            try enter(at: event.mark)
            var items: [YAMLNode] = []
            var size = 1
            var next = try parser.next()
            while next.kind != .sequenceEnd {
                let item = try node(from: next)
                items.append(item.node)
                size = Self.sum(size, item.size)
                next = try parser.next()
            }
            depth -= 1
            result = (.sequence(.init(items: items, tag: event.tag, mark: event.mark)), size)
        case .mappingStart:
            try count(1, at: event.mark)
            try enter(at: event.mark)
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var size = 1
            var next = try parser.next()
            while next.kind != .mappingEnd {
                let key = try node(from: next)
                let value = try node(from: try parser.next())
                if key.node.scalar == nil, key.size > Self.keyNodeLimit {
                    throw .tooLarge(limit: Self.keyNodeLimit, mark: key.node.mark)
                }
                pairs.append((key.node, value.node))
                size = Self.sum(size, Self.sum(key.size, value.size))
                next = try parser.next()
            }
            depth -= 1
            try Self.refuseDuplicates(pairs.map(\.key))
            result = (.mapping(.init(pairs: pairs, tag: event.tag, mark: event.mark)), size)
        default:
            throw .syntax(problem: "unexpected event in a document", mark: event.mark)
        }
        if let anchor = event.anchor { anchors[anchor] = result }
        return result
    }

    static let keyNodeLimit = 1_000

    /// Sizes saturate: with aliases, nine levels of nine make 9^10 nodes, ten of ten overflow.
    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : total
    }

    private mutating func count(_ size: Int, at mark: YAMLMark) throws(YAMLError) {
        nodes = Self.sum(nodes, size)
        if nodes > nodeLimit { throw .tooLarge(limit: nodeLimit, mark: mark) }
    }

    private mutating func enter(at mark: YAMLMark) throws(YAMLError) {
        depth += 1
        if depth > depthLimit { throw .tooDeep(limit: depthLimit, mark: mark) }
    }

    /// Keys are the same when their text and their resolved tags are (`a` and `"a"` are,
    /// `1` and `"1"` are not), collections when their items are, as Yams compared them.
    private static func refuseDuplicates(_ keys: [YAMLNode]) throws(YAMLError) {
        guard keys.count > 1 else { return }
        var first: [KeyIdentity: YAMLNode] = [:]
        var duplicates: [KeyIdentity: YAMLNode] = [:]
        for key in keys {
            let identity = KeyIdentity(key)
            if let earlier = first[identity] {
                if duplicates[identity] == nil { duplicates[identity] = earlier }
            } else {
                first[identity] = key
            }
        }
        guard !duplicates.isEmpty else { return }
        let named = duplicates.values.map { (name: $0.string ?? "<not a scalar>", node: $0) }
            .sorted {
                ($0.name, $0.node.mark.line, $0.node.mark.column) < ($1.name, $1.node.mark.line, $1.node.mark.column)
            }
        throw .duplicateKeys(named.map(\.name), mark: named[0].node.mark)
    }
}

/// A node's content for comparing keys: text and tag, never place or style.
private indirect enum KeyIdentity: Hashable {
    case scalar(tag: String, text: String)
    case sequence(tag: String, items: [KeyIdentity])
    case mapping(tag: String, pairs: [[KeyIdentity]])

    init(_ node: YAMLNode) {
        switch node {
        case .scalar(let scalar): self = .scalar(tag: scalar.resolvedTag, text: scalar.string)
        case .sequence(let sequence):
            self = .sequence(tag: node.resolvedTag, items: sequence.items.map(KeyIdentity.init))
        case .mapping(let mapping):
            self = .mapping(
                tag: node.resolvedTag, pairs: mapping.pairs.map { [KeyIdentity($0.key), KeyIdentity($0.value)] })
        }
    }
}
