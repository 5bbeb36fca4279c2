import Testing

@testable import ConnectwareAPI

/// The Location a refused redirect named is shown to the operator, but never a password in
/// it, a terminal escape, or a megabyte of it.
@Test(arguments: [
    ("https://other.example/api/maintenance/db", "https://other.example/api/maintenance/db"),
    ("https://admin:s3cret@other.example/x", "https://other.example/x"),
    ("http://user@10.0.0.1:8080/", "http://10.0.0.1:8080/"),
    ("/relative/path@x", "/relative/path@x"),
    ("https://host/\u{1B}[31mred\r\nX-Injected: 1", "https://host/?[31mred??X-Injected: 1"),
])
func aRedirectsLocationIsShownWithoutCredentialsOrControlCharacters(location: String, shown: String) {
    #expect(MaintenanceClient.printableLocation(location) == shown)
}

@Test func aHugeLocationIsCut() {
    let shown = MaintenanceClient.printableLocation("https://host/" + String(repeating: "a", count: 1_000_000))
    #expect(shown.count == 201)
    #expect(shown.hasSuffix("…"))
}
