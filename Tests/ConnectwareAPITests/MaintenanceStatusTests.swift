import Testing

@testable import ConnectwareAPI

private func status(_ json: String) throws -> MaintenanceStatus {
    try MaintenanceStatus(body: Array(json.utf8))
}

@Test func decodesTheVendorsDocumentedStatusWithItsMisspelling() throws {
    let s = try status(
        """
        {"running":false,
         "backup":{"succeded":true,"id":"1.0.73_2022-02-16T15:37:19.242Z","statusMessage":"OK",
                   "startDate":"2022-02-16T15:37:19.242Z","endDate":"2022-02-16T15:37:19.270Z"},
         "restore":{"succeded":true,"id":"1.0.73_2022-02-16T10:19:11.377Z","statusMessage":"OK",
                    "startDate":"2022-02-16T15:38:39.197Z","endDate":"2022-02-16T15:38:39.385Z"}}
        """)
    #expect(s.running == false)
    #expect(s.backup?.succeeded == true)
    #expect(s.backup?.backupID?.version.description == "1.0.73")
    #expect(s.restore?.statusMessage == "OK")
    let start = try #require(s.backup?.startDate)
    let end = try #require(s.backup?.endDate)
    #expect(abs(end.timeIntervalSince(start) - 0.028) < 0.0005)
}

@Test func acceptsTheCorrectSpellingAndIgnoresUnknownKeys() throws {
    let s = try status(
        #"{"running":true,"extra":[1,2],"backup":{"succeeded":false,"statusMessage":"disk full","new":1}}"#)
    #expect(s.running)
    #expect(s.backup?.succeeded == false)
    #expect(s.backup?.statusMessage == "disk full")
    #expect(s.restore == nil)
}

@Test func missingAndNullObjectsMeanNeverRan() throws {
    let s = try status(#"{"running":false,"backup":null}"#)
    #expect(s.backup == nil)
    #expect(s.restore == nil)
    let empty = try status("{}")
    #expect(empty.running == false)
}

@Test func nullFieldsInsideAnOperationAreTolerated() throws {
    let s = try status(
        #"{"running":false,"restore":{"succeded":null,"id":null,"statusMessage":null,"startDate":null}}"#)
    #expect(s.restore?.succeeded == nil)
    #expect(s.restore?.startDate == nil)
}

@Test func anHTMLErrorPageIsReportedWithItsFirstLine() {
    #expect(throws: ConnectwareAPIError.notJSON(firstLine: "<html><head><title>502 Bad Gateway</title></head>")) {
        try status("<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>")
    }
}

@Test func aJSONValueThatIsNotAnObjectIsRejected() {
    #expect(throws: ConnectwareAPIError.self) { try status("[1,2,3]") }
    #expect(throws: ConnectwareAPIError.self) { try status(#"{"running":"yes"}"#) }
}

@Test func datesAreReadWithAndWithoutMillisecondsAndWithOffsets() throws {
    let withMilliseconds = try #require(MaintenanceStatus.parseDate("2022-02-16T15:37:19.242Z"))
    #expect(abs(withMilliseconds.timeIntervalSince1970 - 1_645_025_839.242) < 0.0005)
    #expect(MaintenanceStatus.parseDate("2022-02-16T15:37:19Z")?.timeIntervalSince1970 == 1_645_025_839)
    #expect(MaintenanceStatus.parseDate("2022-02-16T16:37:19+01:00")?.timeIntervalSince1970 == 1_645_025_839)
    #expect(MaintenanceStatus.parseDate("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
    #expect(MaintenanceStatus.parseDate("2024-02-29T00:00:00Z")?.timeIntervalSince1970 == 1_709_164_800)
    for bad in ["", "2022-02-16", "2022-02-16T.242Z", "2022-13-16T15:37:19Z", "2022-02-16T15:37:19", "2022-02-16T15:37:19.Z",
                "2022-02-16T15:37:24.107a", "2022-02-16T15:37:19Zjunk"] {
        #expect(MaintenanceStatus.parseDate(bad) == nil, "\(bad)")
    }
}

/// Found by FuzzMaintenanceStatus: ICU (behind ISO8601DateFormatter) died with SIGFPE on
/// these dates; the status must decode with the bad dates left out.
@Test func aStatusWithMangledDatesDecodesInsteadOfCrashing() throws {
    let body = #"{"running": false, "backup": {"succeded": true, "i$": "1.0.73_2022-02-16T.242Z", "endDate": "2022-02-16T15:37:24.107a"}, "restore": {"succeded": true, "startDate": "2022-02-16T.242Z"}}"#
    let s = try MaintenanceStatus(body: Array(body.utf8))
    #expect(s.backup?.endDate == nil)
    #expect(s.backup?.endDateText == "2022-02-16T15:37:24.107a")
    #expect(s.restore?.startDate == nil)
}
