import Testing

@testable import Vocabulary

@Test func parsesPlainAndPrefixedVersions() throws {
    #expect(try Version(parsing: "1.0.73").description == "1.0.73")
    #expect(try Version(parsing: "v1.7.2") == Version(major: 1, minor: 7, patch: 2))
    #expect(try Version(parsing: "1.8.0-rc.1+build.5").description == "1.8.0-rc.1+build.5")
}

@Test(arguments: ["", "latest", "1.x", "1.0", "1.0.0.0", "01.0.0", "1.0.-1", "1.0.0-", "1.0.0+", "1..0", "v", " 1.0.0"])
func rejectsWhatIsNotAVersion(text: String) {
    #expect(throws: VersionError.self) { try Version(parsing: text) }
}

@Test func rejectionShowsTheBadValue() {
    do {
        _ = try Version(parsing: "1.x")
        Issue.record("1.x parsed")
    } catch {
        #expect(error.description.contains("'1.x'"))
    }
}

@Test func ordersBySemanticVersioningPrecedence() throws {
    let ordered = [
        "0.37.2", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
        "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.22", "1.0.73", "1.0.91", "1.7.2", "1.10.2", "1.11.0",
    ]
    let versions = try ordered.map { try Version(parsing: $0) }
    #expect(versions.shuffled().sorted() == versions)
    #expect(try Version(parsing: "1.0.0+a") == Version(parsing: "1.0.0+b"))
}

@Test func backupIDParsesCanonicalAndFileSafeForms() throws {
    let id = try #require(BackupID("1.0.73_2022-02-16T15:37:19.242Z"))
    #expect(id.version == (try Version(parsing: "1.0.73")))
    #expect(id.timestamp == "2022-02-16T15:37:19.242Z")
    #expect(BackupID("1.0.73_2022-02-16T15-37-19.242Z") == id)
    #expect(id.fileSafe == "1.0.73_2022-02-16T15-37-19.242Z")
    #expect(BackupID("1.0.73_yesterday") == nil)
    #expect(BackupID("latest_2022-02-16T15:37:19.242Z") == nil)
}

@Test func backupIDIsFoundInsideAFileName() throws {
    #expect(
        BackupID.find(in: "connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")?.description
            == "1.0.73_2022-02-16T15:37:19.242Z")
    #expect(BackupID.find(in: "backup_v1.7.2_2023-01-01T00:00:00Z.tar.gz")?.version.description == "1.7.2")
    #expect(BackupID.find(in: "connectware-db-backup.tgz") == nil)
}
