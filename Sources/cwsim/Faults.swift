import Foundation

/// Fault switches a test flips to see how a client copes: server errors, a slow
/// answer, a download cut short, and a forced "operation running" conflict.
actor Faults {
    /// The next N API requests fail with 500.
    private(set) var failNext = 0
    /// The next API response is held back this many seconds.
    private(set) var stallSeconds = 0.0
    /// The next download closes the connection after this many bytes.
    private(set) var cutDownloadAfterBytes: Int?
    /// Starting a backup or restore answers 409 while this is on.
    private(set) var forceConflict = false

    struct Settings: Codable, Sendable {
        var failNext: Int?
        var stallSeconds: Double?
        var cutDownloadAfterBytes: Int?
        var forceConflict: Bool?
    }

    init(_ settings: Settings = Settings()) {
        failNext = max(0, settings.failNext ?? 0)
        stallSeconds = max(0, settings.stallSeconds ?? 0)
        cutDownloadAfterBytes = settings.cutDownloadAfterBytes
        forceConflict = settings.forceConflict ?? false
    }

    /// Applies the switches present in `settings`; absent ones stay as they are.
    func apply(_ settings: Settings) {
        if let value = settings.failNext { failNext = max(0, value) }
        if let value = settings.stallSeconds { stallSeconds = max(0, value) }
        if let value = settings.cutDownloadAfterBytes { cutDownloadAfterBytes = value >= 0 ? value : nil }
        if let value = settings.forceConflict { forceConflict = value }
    }

    func reset() {
        failNext = 0
        stallSeconds = 0
        cutDownloadAfterBytes = nil
        forceConflict = false
    }

    func takeFailure() -> Bool {
        guard failNext > 0 else { return false }
        failNext -= 1
        return true
    }

    func takeStall() -> Double {
        defer { stallSeconds = 0 }
        return stallSeconds
    }

    func takeCut() -> Int? {
        defer { cutDownloadAfterBytes = nil }
        return cutDownloadAfterBytes
    }

    var json: JSONText {
        .object([
            ("failNext", .number(failNext)),
            ("stallSeconds", .decimal(stallSeconds)),
            ("cutDownloadAfterBytes", cutDownloadAfterBytes.map { .number($0) } ?? .null),
            ("forceConflict", .bool(forceConflict)),
        ])
    }
}
