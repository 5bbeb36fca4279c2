import Testing

@testable import Runbook

private func render(_ text: String, _ context: [String: Any], partials: [String: String] = [:]) throws -> String {
    var templates = ["main": try MustacheTemplate(text)]
    for (name, partial) in partials { templates[name] = try MustacheTemplate(partial) }
    return try #require(MustacheRenderer(templates: templates).render("main", context: context))
}

private func problem(_ text: String) -> String? {
    do {
        _ = try MustacheTemplate(text)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct TemplateTests {
    @Test func aVariableIsEscapedForHTMLUnlessTripledOrAmpersanded() throws {
        let context: [String: Any] = ["x": "<a href=\"q\">'&'</a>"]
        #expect(try render("{{x}}", context) == "&lt;a href=&quot;q&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(try render("{{{x}}}|{{& x}}", context) == "<a href=\"q\">'&'</a>|<a href=\"q\">'&'</a>")
    }

    @Test func aTextPragmaStopsEscapingFromWhereItStands() throws {
        #expect(try render("{{x}}\n{{% CONTENT_TYPE: TEXT}}\n{{x}}\n", ["x": "<&>"]) == "&lt;&amp;&gt;\n<&>\n")
    }

    @Test func numbersFlagsAndMissingNamesRenderAsText() throws {
        #expect(try render("{{n}} {{b}} [{{missing}}]", ["n": 3, "b": true]) == "3 true []")
    }

    @Test func dottedNamesAndTheImplicitIteratorReachIntoTheContext() throws {
        let context: [String: Any] = ["yaml": ["binary": "/usr/bin/x"], "volumes": ["a", "b"], "name": "outer"]
        #expect(try render("{{yaml.binary}} {{#volumes}}[{{.}}]{{/volumes}}", context) == "/usr/bin/x [a][b]")
        #expect(try render("{{yaml.missing.deeper}}|{{volumes.x}}", context) == "|")
    }

    @Test func aSectionRepeatsForAListShowsForTrueAndEntersAnObject() throws {
        let context: [String: Any] = [
            "steps": [["n": 1], ["n": 2]], "on": true, "off": false, "none": [Any](), "subject": ["who": "me"],
            "title": "outer",
        ]
        #expect(try render("{{#steps}}{{n}}{{title}};{{/steps}}", context) == "1outer;2outer;")
        #expect(try render("{{#on}}yes{{/on}}{{#off}}no{{/off}}{{#none}}x{{/none}}", context) == "yes")
        #expect(try render("{{#subject}}{{who}}{{/subject}}{{#absent}}x{{/absent}}", context) == "me")
    }

    @Test func anInvertedSectionShowsForFalseEmptyOrMissing() throws {
        let context: [String: Any] = ["off": false, "none": [Any](), "some": ["a"], "text": ""]
        #expect(
            try render(
                "{{^off}}1{{/off}}{{^none}}2{{/none}}{{^absent}}3{{/absent}}{{^some}}4{{/some}}{{^text}}5{{/text}}",
                context) == "123")
    }

    @Test func aLineHoldingOnlyASectionCommentOrDelimiterTagLeavesNoLine() throws {
        let text = "a\n  {{#on}}  \n  b\n  {{/on}}\n{{! a comment }}\n{{=<% %>=}}\n<%x%> {{x}}\n"
        #expect(try render(text, ["on": true, "x": "X"]) == "a\n  b\nX {{x}}\n")
        #expect(try render("  {{#on}}b{{/on}}  \n", ["on": true]) == "  b  \n")
        #expect(try render("a {{! note }} b", [:]) == "a  b")
    }

    @Test func aPartialRendersAnotherTemplateIndentedAsItsTag() throws {
        let text = "list:\n  {{> item}}\nend {{>item}}"
        #expect(
            try render(text, ["v": "x"], partials: ["item": "- {{v}}\n- two\n"])
                == "list:\n  - x\n  - two\nend - x\n- two\n")
        #expect(try render("{{>self}}", [:], partials: ["self": "a{{>self}}"]).count == 32)
    }

    @Test(arguments: [
        ("a\n{{#steps}}\nb\n", "line 2: section `steps` is not closed with `{{/steps}}`"),
        ("{{#a}}\n{{/b}}\n", "line 2: `{{/b}}` where section `a` ends"),
        ("x\n\n{{/a}}", "line 3: `{{/a}}` ends a section that was never opened"),
        ("{{name", "line 1: the variable is not closed with `}}` or has a character a name cannot have"),
        ("ok\n{{a b}}", "line 2: the variable is not closed with `}}` or has a character a name cannot have"),
        ("{{{x}}", "line 1: `{{{x` is not closed with `}}}`"),
        ("{{! never closed", "line 1: the comment is not closed"),
        ("{{% CONTENT_TYPE: PDF}}", "line 1: the only pragma is `{{% CONTENT_TYPE: TEXT}}` (or HTML)"),
        ("{{=<%>=}}", "line 1: a delimiter change must read `{{=<start> <end>=}}`"),
        ("{{uppercased(x)}}", "line 1: the variable `uppercased(…)`: transforms are not supported"),
    ])
    func aMistakeInATemplateNamesItsLine(text: String, message: String) {
        #expect(problem(text) == message)
    }
}
