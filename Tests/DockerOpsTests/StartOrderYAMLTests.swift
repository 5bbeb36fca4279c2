import Testing

@testable import DockerOps

// How StartOrder reads a compose file's YAML, pinned while Yams read it.
@Suite struct StartOrderYAMLTests {
    @Test func aMergeKeyInAServiceIsNotFollowed() {
        // Yams' compose left `<<` as a key: the merged depends_on was not seen.
        let text = "x-dep: &d\n  depends_on: [b]\nservices:\n  a:\n    <<: *d\n  b: {}\n"
        #expect(StartOrder.fromComposeFile(text) == ["a", "b"])
    }

    @Test func anAliasedDependencyListIsFollowed() {
        let text = "services:\n  a:\n    depends_on: &deps [b]\n  c:\n    depends_on: *deps\n  b: {}\n"
        #expect(StartOrder.fromComposeFile(text) == ["b", "a", "c"])
    }

    @Test func quotedServiceNamesAreNames() {
        let text = "services:\n  \"yes\":\n    depends_on: ['1.10']\n  '1.10': {}\n"
        #expect(StartOrder.fromComposeFile(text) == ["1.10", "yes"])
    }

    @Test func brokenYAMLOrAKeyWrittenTwiceGivesNoOrder() {
        #expect(StartOrder.fromComposeFile("services: [\n") == nil)
        #expect(StartOrder.fromComposeFile("services:\n  a: {}\n  a: {}\n") == nil)
        #expect(StartOrder.fromComposeFile("services: {}\n---\nservices: {}\n") == nil)
    }
}
