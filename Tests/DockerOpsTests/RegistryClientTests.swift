import DockerOps
import Foundation
import TestSupport
import Testing

/// The registry precheck's client against a server that answers as a token-authenticating
/// registry does (registry.cybus.io answers `401` with `WWW-Authenticate: Bearer realm=…`; the
/// lab's Debian registry, which the lab tests use, answers Basic): a Python http.server on the
/// loopback that hands a token only to `license` with the right key.
@Suite(.serialized)
struct RegistryClientTests {
    static let server = #"""
        import base64, http.server, json, sys, urllib.parse
        KEY = sys.argv[1]
        class Registry(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def answer(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers: self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                auth = self.headers.get("Authorization", "")
                if url.path == "/token":
                    query = urllib.parse.parse_qs(url.query)
                    good = "Basic " + base64.b64encode(("license:" + KEY).encode()).decode()
                    if auth != good or query.get("service") != ["registry.test"]:
                        return self.answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                    return self.answer(200, {"token": "token-for-" + query["scope"][0]})
                name = url.path[len("/v2/"):-len("/tags/list")]
                if auth != "Bearer token-for-repository:" + name + ":pull":
                    realm = "http://%s:%d/token" % self.server.server_address
                    challenge = 'Bearer realm="%s",service="registry.test",scope="repository:%s:pull"' % (realm, name)
                    return self.answer(401, {"errors": [{"code": "UNAUTHORIZED"}]}, [("WWW-Authenticate", challenge)])
                if name != "cybus/postgresql":
                    return self.answer(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
                return self.answer(200, {"name": name, "tags": ["1.7.3", "1.8.0"]})
        server = http.server.HTTPServer(("127.0.0.1", 0), Registry)
        print("listening %d" % server.server_address[1], flush=True)
        server.serve_forever()
        """#

    func withRegistry(_ body: (String) throws -> Void) throws {
        let directory = try TestSupport.temporaryDirectory("cwmigrate-registry")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("registry.py")
        try Self.server.write(to: script, atomically: true, encoding: .utf8)
        let program = try RunningProgram(
            URL(fileURLWithPath: "/usr/bin/python3"), [script.path, "the-license-key"], readyPrefix: "listening ",
            logFile: directory.appendingPathComponent("registry.log"))
        defer { program.stop() }
        try body("127.0.0.1:" + program.readyLine.dropFirst("listening ".count))
    }

    func references(_ registry: String, _ names: String...) -> [ImageReference] {
        names.compactMap { ImageReference(registry + "/" + $0) }
    }

    @Test func aTokenRegistryConfirmsTheTagsWithTheLicenseCredentials() throws {
        try withRegistry { registry in
            let client = RegistryClient(registry: registry, user: "license", password: "the-license-key")
            #expect(try client.tags(of: "cybus/postgresql") == ["1.7.3", "1.8.0"])
            try client.requireTags(references(registry, "cybus/postgresql:1.7.3", "cybus/postgresql:1.8.0"))
        }
    }

    @Test func aMissingTagIsNamedWithTheTagsTheRegistryHas() throws {
        try withRegistry { registry in
            let client = RegistryClient(registry: registry, user: "license", password: "the-license-key")
            #expect(throws: RegistryError.tagMissing(image: registry + "/cybus/postgresql", tag: "1.6.0", available: ["1.7.3", "1.8.0"])) {
                try client.requireTags(references(registry, "cybus/postgresql:1.8.0", "cybus/postgresql:1.6.0"))
            }
            #expect(throws: RegistryError.tagMissing(image: registry + "/cybus/broker", tag: "1.8.0", available: [])) {
                try client.requireTags(references(registry, "cybus/broker:1.8.0"))
            }
        }
    }

    @Test func aWrongLicenseKeyIsRefusedAndNeverShown() throws {
        try withRegistry { registry in
            let client = RegistryClient(registry: registry, user: "license", password: "not-the-key")
            do throws(RegistryError) {
                try client.requireTags(references(registry, "cybus/postgresql:1.8.0"))
                Issue.record("a wrong key was accepted")
            } catch {
                #expect(error == .credentialsRefused(registry: registry, user: "license", status: 401))
                #expect(error.description.contains("CYBUS_REGISTRY_PASS"))
                #expect(!error.description.contains("not-the-key"))
            }
        }
    }

    @Test func aRegistryThatDoesNotAnswerIsUnreachable() throws {
        var registry = ""
        try withRegistry { registry = $0 }
        let client = RegistryClient(registry: registry, user: "license", password: "the-license-key")
        #expect {
            try client.requireTags(references(registry, "cybus/postgresql:1.8.0"))
        } throws: { error in
            guard case .unreachable(let host, _) = error as? RegistryError else { return false }
            return host == registry
        }
    }
}
