/// Where a node or a problem starts in the document: line and column from 1, the column
/// counted in characters (libyaml's count).
public struct YAMLMark: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// One node of a YAML document as written: scalars keep their text and style exactly (no
/// type is guessed; the caller decides what a scalar means), mappings keep their order,
/// aliases are already replaced by the node they name.
public indirect enum YAMLNode: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    /// How a scalar was written.
    public enum ScalarStyle: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's text and how it was written.
    public struct Scalar: Sendable {
        public let string: String
        public let style: ScalarStyle
        /// The explicit tag (`!!str` arrives as `tag:yaml.org,2002:str`); nil when untagged.
        public let tag: String?
        public let mark: YAMLMark
        /// libyaml's word that an untagged quoted or block scalar is a string whatever it says.
        let quotedImplicit: Bool

        /// The tag the YAML 1.1 core schema gives the scalar, as Yams resolved it: the
        /// explicit tag, else `str` for a quoted or block scalar, else what a plain text
        /// looks like (`yes` a bool, `1.10` a float, `~` a null, `0x1F` an int).
        public var resolvedTag: String {
            if quotedImplicit { return YAMLTag.str }
            return tag ?? YAMLTag.resolve(plain: string)
        }
    }

    /// A mapping's pairs in document order.
    public struct Mapping: Sendable, RandomAccessCollection {
        public let pairs: [(key: YAMLNode, value: YAMLNode)]
        public let tag: String?
        public let mark: YAMLMark

        public var startIndex: Int { pairs.startIndex }
        public var endIndex: Int { pairs.endIndex }
        public subscript(position: Int) -> (key: YAMLNode, value: YAMLNode) { pairs[position] }

        public var keys: [YAMLNode] { pairs.map(\.key) }
        public var values: [YAMLNode] { pairs.map(\.value) }

        /// The value of the key written as `name` (plain or quoted alike, as long as the
        /// text means the same: a quoted "yes" is not the key `yes`).
        public subscript(name: String) -> YAMLNode? {
            let wanted = YAMLTag.resolve(plain: name)
            return pairs.first { pair in
                guard case .scalar(let key) = pair.key else { return false }
                return key.string == name && key.resolvedTag == wanted
            }?.value
        }

        /// The mapping as YAML's merge keys (`<<: *defaults`) make it, as a loader applies
        /// them: the merged mappings' pairs first (of a list of them, the first listed wins),
        /// then the mapping's own, so a later duplicate of a key overrides an earlier one.
        public func merged() -> Mapping {
            var merges: [(key: YAMLNode, value: YAMLNode)] = []
            var own: [(key: YAMLNode, value: YAMLNode)] = []
            for pair in pairs {
                guard case .scalar(let key) = pair.key, key.resolvedTag == YAMLTag.merge else {
                    own.append(pair)
                    continue
                }
                switch pair.value {
                case .mapping(let mapping): merges += mapping.merged().pairs
                case .sequence(let sequence):
                    for case .mapping(let mapping) in sequence.items.reversed() { merges += mapping.merged().pairs }
                case .scalar: break
                }
            }
            return Mapping(pairs: merges + own, tag: tag, mark: mark)
        }
    }

    /// A sequence's items in order.
    public struct Sequence: Sendable, RandomAccessCollection {
        public let items: [YAMLNode]
        public let tag: String?
        public let mark: YAMLMark

        public var startIndex: Int { items.startIndex }
        public var endIndex: Int { items.endIndex }
        public subscript(position: Int) -> YAMLNode { items[position] }
    }

    public var scalar: Scalar? {
        if case .scalar(let scalar) = self { return scalar }
        return nil
    }

    public var mapping: Mapping? {
        if case .mapping(let mapping) = self { return mapping }
        return nil
    }

    public var sequence: Sequence? {
        if case .sequence(let sequence) = self { return sequence }
        return nil
    }

    /// A scalar's text; nil for a mapping or a sequence.
    public var string: String? { scalar?.string }

    /// In a mapping, the value of the key `name`; nil otherwise.
    public subscript(name: String) -> YAMLNode? { mapping?[name] }

    public var mark: YAMLMark {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(let mapping): mapping.mark
        case .sequence(let sequence): sequence.mark
        }
    }

    /// The tag the node has or the schema gives it.
    public var resolvedTag: String {
        switch self {
        case .scalar(let scalar): scalar.resolvedTag
        case .mapping(let mapping): mapping.tag ?? YAMLTag.map
        case .sequence(let sequence): sequence.tag ?? YAMLTag.seq
        }
    }
}

/// What a problem in a YAML document is, and where.
public enum YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libyaml refused the text (a scanner, parser or reader error), or an alias names no
    /// anchor, or a second document follows the first: `problem` in libyaml's words.
    case syntax(problem: String, mark: YAMLMark)
    /// A mapping has a key twice (as text and meaning: `a` and `"a"` are the same key);
    /// the keys are sorted, the mark is the first one's first use.
    case duplicateKeys([String], mark: YAMLMark)
    /// Aliases would make the document larger than the reader takes (a "billion laughs").
    case tooLarge(limit: Int, mark: YAMLMark)
    /// Collections nested deeper than the reader follows.
    case tooDeep(limit: Int, mark: YAMLMark)

    public var mark: YAMLMark {
        switch self {
        case .syntax(_, let mark), .duplicateKeys(_, let mark), .tooLarge(_, let mark), .tooDeep(_, let mark): mark
        }
    }

    /// What is wrong, without the place.
    public var problem: String {
        switch self {
        case .syntax(let problem, _): problem
        case .duplicateKeys(let keys, _): "duplicate key \(keys.joined(separator: ", "))"
        case .tooLarge(let limit, _): "more than \(limit) nodes once its aliases are expanded"
        case .tooDeep(let limit, _): "collections nested more than \(limit) deep"
        }
    }

    public var description: String { "\(mark): \(problem)" }
}
