import Testing
import YAML

@Suite struct ComposeTests {
    @Test func scalarsKeepTheirTextAndStyle() throws {
        let text = "a: 1.10\nb: 'yes'\nc: \"x\\ty\"\nd: |\n  one\n  two\ne: >\n  one\n  two\nf: ~\n"
        let root = try #require(try composeYAML(text))
        let pairs = try #require(root.mapping).pairs
        #expect(pairs.map { $0.value.string } == ["1.10", "yes", "x\ty", "one\ntwo\n", "one two\n", "~"])
        #expect(
            pairs.map { $0.value.scalar?.style }
                == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded, .plain])
    }
}
