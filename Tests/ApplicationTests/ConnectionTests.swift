import Application
import Foundation
import Migration
import Planner
import TestSupport
import Testing

/// Where each credential of a connection comes from: a file, the environment, a prompt, `.env`.
@Suite final class ConnectionTests {
    let directory: URL

    init() throws { directory = try TestSupport.temporaryDirectory("connection") }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func request(passwordFile: String? = nil, tokenFile: String? = nil, url: String? = "http://127.0.0.1:9")
        -> ConnectionRequest
    {
        ConnectionRequest(
            url: url, user: nil, passwordFile: passwordFile, tokenFile: tokenFile, caCertificate: nil,
            insecure: false, login: false, userAgent: "cwmigrate/test")
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    let nobody: (String) -> String? = { _ in nil }

    @Test func theFilesASecretIsReadFromAreThePasswordAndTokenFilesGiven() {
        #expect(request().secretFiles.isEmpty)
        #expect(request(passwordFile: "/run/pw").secretFiles == ["/run/pw"])
        #expect(request(passwordFile: "/run/pw", tokenFile: "/run/token").secretFiles == ["/run/pw", "/run/token"])
    }

    @Test func aPasswordFileGivesItsFirstLineAndIsNamedAsTheSource() throws {
        let path = try file("password", "s3cret\nignored\n")
        let connection = try request(passwordFile: path).connect(
            environment: ["CWMIGRATE_PASSWORD": "from-env"], askSecret: nobody, warn: { _ in })
        #expect(connection.password == "s3cret")
        #expect(connection.passwordSource == .file(path))
        #expect(connection.user == "admin")
        #expect(!connection.tokens)
    }

    @Test func thePasswordVariableIsUsedWhenNoFileIsGivenAndNobodyIsAsked() throws {
        var asked = false
        let connection = try request().connect(
            environment: ["CWMIGRATE_PASSWORD": "from-env", "CWMIGRATE_USER": "ops"],
            askSecret: { _ in
                asked = true
                return "typed"
            }, warn: { _ in })
        #expect(connection.password == "from-env")
        #expect(connection.passwordSource == .environment("CWMIGRATE_PASSWORD"))
        #expect(connection.user == "ops")
        #expect(!asked)
    }

    @Test func withoutFileOrVariableThePersonIsAskedForTheUsersPassword() throws {
        var prompt: String?
        let connection = try request().connect(
            environment: [:],
            askSecret: {
                prompt = $0
                return "typed"
            }, warn: { _ in })
        #expect(prompt == "Password for admin: ")
        #expect(connection.password == "typed")
        #expect(connection.passwordSource == nil)
    }

    @Test func withNobodyToAskAndNoPasswordGivenTheUserIsNamed() throws {
        #expect(throws: ConnectionError.noPassword(user: "admin")) {
            try request().connect(environment: [:], askSecret: nobody, warn: { _ in })
        }
    }

    @Test func anEmptyPasswordFileIsRefusedAsEmpty() throws {
        let path = try file("empty", "\n")
        #expect(throws: ConnectionError.empty(what: "password file", path: path)) {
            try request(passwordFile: path).connect(environment: [:], askSecret: nobody, warn: { _ in })
        }
    }

    @Test func withoutAnAddressNothingIsConnectedAndTheOptionIsHinted() throws {
        #expect(throws: ConnectionError.noAddress) {
            try request(url: nil).connect(environment: ["CWMIGRATE_PASSWORD": "x"], askSecret: nobody, warn: { _ in })
        }
        #expect(ConnectionError.noAddress.hint == "pass --url https://HOST or set CWMIGRATE_URL")
    }

    @Test func aTokenFileMeansBearerTokensAndNoPassword() throws {
        let path = try file("token", "tok\n")
        let connection = try request(tokenFile: path).connect(
            environment: ["CWMIGRATE_PASSWORD": "from-env"], askSecret: nobody, warn: { _ in })
        #expect(connection.password == nil)
        #expect(connection.tokens)
    }

    @Test func theBackupPasswordDefaultsToTheProductionOneAndTheInitialComesFromDotEnv() throws {
        _ = try file(".env", "CYBUS_INITIAL_ADMIN_USER_PASSWORD=\"initial\"\n")
        let connection = try request().connect(
            environment: ["CWMIGRATE_PASSWORD": "prod"], askSecret: nobody, warn: { _ in })
        let credentials = connection.runCredentials(
            initialPasswordFile: nil, backupPasswordFile: nil, directory: directory.path, environment: [:])
        #expect(credentials.backup.password == "prod")
        #expect(credentials.backup.source == .sameAsProduction)
        let initial = credentials.initialFor(Version(major: 1, minor: 0, patch: 70))
        #expect(initial.password == "initial")
        #expect(initial.source == .installationEnv(directory.path + "/.env"))
    }
}
