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
