import Foundation
import HTTP
import TestSupport
import Testing

private let quickRetries = RetryPolicy(attempts: 4, backoffBase: .milliseconds(10), backoffMax: .milliseconds(40))

@Suite struct AuthenticationTests {
    @Test func basicCredentialsAreAccepted() throws {
        let server = try TestServer()
        let client = HTTPClient(authentication: .basic(user: "admin", password: "s3cret"))
        let response = try client.send(HTTPRequest(.get, server.url("/basic/admin/s3cret")))
        #expect(response.status == 200)
        #expect(response.text == "welcome admin")
    }

    @Test func aWrongPasswordGets401WithTheServersMessage() throws {
        let server = try TestServer()
        let client = HTTPClient(authentication: .basic(user: "admin", password: "wrong"))
        let response = try client.send(HTTPRequest(.get, server.url("/basic/admin/s3cret")))
        #expect(response.status == 401)
        #expect(response.text == "bad credentials")
    }

    @Test func aBearerTokenIsAccepted() throws {
        let server = try TestServer()
        let client = HTTPClient(authentication: .bearer("tok-123"))
        let response = try client.send(HTTPRequest(.get, server.url("/bearer/tok-123")))
        #expect(response.status == 200)
    }

    @Test func aWrongBearerTokenGets401() throws {
        let server = try TestServer()
        let client = HTTPClient(authentication: .bearer("tok-999"))
        #expect(try client.send(HTTPRequest(.get, server.url("/bearer/tok-123"))).status == 401)
    }

    @Test func credentialsNeverAppearInDescriptions() {
        let basic = Authentication.basic(user: "admin", password: "hunter2")
        let bearer = Authentication.bearer("tok-hunter2")
        var dumped = ""
        dump(basic, to: &dumped)
        dump(bearer, to: &dumped)
        for text in ["\(basic)", String(reflecting: basic), "\(bearer)", String(reflecting: bearer), dumped] {
            #expect(!text.contains("hunter2"))
        }
        #expect("\(basic)".contains("admin"))
    }

    @Test func theUserAgentIsSent() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(userAgent: "cwmigrate/9.9.9"))
        let response = try client.send(HTTPRequest(.get, server.url("/echo")))
        let headers = json(response.body)["headers"] as? [String: String]
        #expect(headers?["user-agent"] == "cwmigrate/9.9.9")
    }

    @Test func aBytesBodyArrivesWithItsMethod() throws {
        let server = try TestServer()
        let client = HTTPClient()
        let body = Array("{\"a\":1}".utf8)
        let response = try client.send(
            HTTPRequest(
                .put, server.url("/echo"), headers: [HTTPHeader("Content-Type", "application/json")],
                body: .bytes(body)))
        let echo = json(response.body)
        #expect(echo["method"] as? String == "PUT")
        #expect(echo["length"] as? Int == body.count)
        #expect((echo["headers"] as? [String: String])?["content-type"] == "application/json")
    }
}

@Suite struct RetryTests {
    @Test func aGetIsRetriedAfter503UntilItSucceeds() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(retry: quickRetries))
        let response = try client.send(HTTPRequest(.get, server.url("/flaky/k/2/503")))
        #expect(response.status == 200)
        #expect(try client.send(HTTPRequest(.get, server.url("/count/k"))).text == "3")
    }

    @Test func a502And504AreRetriedToo() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(retry: quickRetries))
        #expect(try client.send(HTTPRequest(.get, server.url("/flaky/a/1/502"))).status == 200)
        #expect(try client.send(HTTPRequest(.get, server.url("/flaky/b/1/504"))).status == 200)
    }

    @Test func a500IsNotRetried() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(retry: quickRetries))
        #expect(try client.send(HTTPRequest(.get, server.url("/flaky/k/1/500"))).status == 500)
        #expect(try client.send(HTTPRequest(.get, server.url("/count/k"))).text == "1")
    }

    @Test func aPostIsNotRetried() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(retry: quickRetries))
        let response = try client.send(HTTPRequest(.post, server.url("/flaky/k/1/503")))
        #expect(response.status == 503)
        #expect(response.text == "failure 1 of 1")
        #expect(try client.send(HTTPRequest(.get, server.url("/count/k"))).text == "1")
    }

    @Test func aPostMarkedRetryableIsRetried() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(retry: quickRetries))
        let response = try client.send(HTTPRequest(.post, server.url("/flaky/k/1/503"), retryable: true))
        #expect(response.status == 200)
        #expect(try client.send(HTTPRequest(.get, server.url("/count/k"))).text == "2")
    }

    @Test func afterTheLastAttemptTheFailingAnswerIsReturned() throws {
        let server = try TestServer()
        let policy = RetryPolicy(attempts: 2, backoffBase: .milliseconds(10), backoffMax: .milliseconds(10))
        let client = HTTPClient(options: TransportOptions(retry: policy))
        let response = try client.send(HTTPRequest(.get, server.url("/flaky/k/5/503")))
        #expect(response.status == 503)
        #expect(try client.send(HTTPRequest(.get, server.url("/count/k"))).text == "2")
    }

    @Test func backoffDoublesUpToItsMaximum() {
        let policy = RetryPolicy(attempts: 6, backoffBase: .milliseconds(100), backoffMax: .milliseconds(350))
        #expect(
            (1...4).map { policy.delay(after: $0) } == [
                .milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350),
            ])
    }
}

@Suite struct TransportErrorTests {
    @Test func aRefusedConnectionIsCouldNotConnect() throws {
        let server = try TestServer()
        let url = server.url("/echo")
        server.stop()
        let client = HTTPClient(options: TransportOptions(retry: .never))
        #expect {
            try client.send(HTTPRequest(.get, url))
        } throws: { error in
            guard case .couldNotConnect(let failed, _) = error as? HTTPError else { return false }
            return failed == url
        }
    }

    @Test func credentialsInAURLAreNotRepeatedInErrors() throws {
        let server = try TestServer()
        let url = "http://admin:topsecret@127.0.0.1:\(server.port)/echo"
        server.stop()
        let client = HTTPClient(options: TransportOptions(retry: .never))
        do {
            _ = try client.send(HTTPRequest(.get, url))
            Issue.record("a stopped server answered")
        } catch {
            #expect(!error.description.contains("topsecret"))
            #expect(error.description.contains("127.0.0.1:\(server.port)/echo"))
        }
    }

    @Test func anUnsupportedSchemeIsAnInvalidURL() {
        let client = HTTPClient()
        #expect {
            try client.send(HTTPRequest(.get, "file:///etc/passwd"))
        } throws: { error in
            if case .invalidURL = error as? HTTPError { return true }
            return false
        }
    }

    @Test func aStalledServerTimesOut() throws {
        let server = try TestServer()
        let options = TransportOptions(lowSpeedLimit: 1, lowSpeedTime: .seconds(1), retry: .never)
        let client = HTTPClient(options: options)
        #expect {
            try client.send(HTTPRequest(.get, server.url("/stall/6")))
        } throws: { error in
            guard case .timedOut(_, let what) = error as? HTTPError else { return false }
            return what.hasPrefix("waiting for data")
        }
    }

    @Test func anAnswerLargerThanTheLimitIsRefused() throws {
        let server = try TestServer()
        let client = HTTPClient(options: TransportOptions(maximumResponseBytes: 1000))
        #expect(throws: HTTPError.responseTooLarge(url: server.url("/bytes/5000"), limit: 1000)) {
            try client.send(HTTPRequest(.get, server.url("/bytes/5000")))
        }
    }

    @Test func theHandleIsReusedForManyRequests() throws {
        let server = try TestServer()
        let client = HTTPClient()
        for n in [10, 0, 70_000, 3] {
            #expect(try client.send(HTTPRequest(.get, server.url("/bytes/\(n)"))).body == pattern(n))
        }
    }
}

@Suite struct TLSTests {
    @Test func aSelfSignedCertificateIsRejectedWithoutItsCA() throws {
        let certificate = try SelfSignedCertificate()
        defer { certificate.remove() }
        let server = try TestServer(["--tls", certificate.certificate, certificate.key])
        let client = HTTPClient(options: TransportOptions(retry: .never))
        do {
            _ = try client.send(HTTPRequest(.get, server.url("/echo", scheme: "https")))
            Issue.record("an untrusted certificate was accepted")
        } catch {
            guard case .tlsFailure = error else {
                Issue.record("expected a TLS failure, got \(error)")
                return
            }
            #expect(error.description.contains("--cacert"))
            #expect(error.description.contains("--insecure"))
        }
    }

    @Test func theCACertificateMakesItTrusted() throws {
        let certificate = try SelfSignedCertificate()
        defer { certificate.remove() }
        let server = try TestServer(["--tls", certificate.certificate, certificate.key])
        let client = HTTPClient(options: TransportOptions(caCertificatePath: certificate.certificate))
        #expect(try client.send(HTTPRequest(.get, server.url("/bytes/100", scheme: "https"))).body == pattern(100))
    }

    @Test func insecureSkipsVerification() throws {
        let certificate = try SelfSignedCertificate()
        defer { certificate.remove() }
        let server = try TestServer(["--tls", certificate.certificate, certificate.key])
        let client = HTTPClient(options: TransportOptions(insecure: true))
        #expect(try client.send(HTTPRequest(.get, server.url("/echo", scheme: "https"))).status == 200)
    }

    @Test func aMissingCAFileIsNamed() throws {
        let client = HTTPClient(options: TransportOptions(caCertificatePath: "/nonexistent/ca.pem"))
        #expect {
            try client.send(HTTPRequest(.get, "https://127.0.0.1:1/"))
        } throws: { error in
            guard case .file(let path, _) = error as? HTTPError else { return false }
            return path == "/nonexistent/ca.pem"
        }
    }
}

@Suite struct UnixSocketTests {
    @Test func aRequestReachesAServerOnAUnixSocket() throws {
        let directory = try TestSupport.temporaryDirectory("cwmigrate-sock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("api.sock").path
        let server = try TestServer(["--unix", socket])
        defer { server.stop() }
        let client = HTTPClient(options: TransportOptions(unixSocketPath: socket))
        let response = try client.send(HTTPRequest(.get, "http://localhost/v1.41/echo"))
        #expect(response.status == 404)
        #expect(response.text == "no such endpoint: /v1.41/echo")
        let echo = try client.send(HTTPRequest(.get, "http://localhost/echo"))
        #expect(json(echo.body)["path"] as? String == "/echo")
    }
}

@Suite struct ErrorDescriptionTests {
    @Test func everyErrorReadsAsOneLineWithoutOptionals() {
        let url = "https://cw.example/api"
        let errors: [HTTPError] = [
            .invalidURL("ftp:/x", message: "bad"), .couldNotResolve(url: url, message: "no such host"),
            .couldNotConnect(url: url, message: "refused"), .tlsFailure(url: url, message: "self-signed"),
            .timedOut(url: url, what: "connecting"), .transferFailed(url: url, curlCode: 56, message: "reset"),
            .partialTransfer(url: url, received: 1, expected: 2),
            .partialTransfer(url: url, received: 1, expected: nil),
            .file(path: "/tmp/x", message: "Permission denied"), .responseTooLarge(url: url, limit: 16),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("Optional("))
            #expect(
                error.description.contains(url) || error.description.contains("/tmp/x")
                    || error.description.contains("ftp:/x"))
        }
    }

    @Test func theInsecureWarningNamesTheRisk() {
        #expect(TransportOptions.insecureWarning.contains("--insecure"))
    }
}
