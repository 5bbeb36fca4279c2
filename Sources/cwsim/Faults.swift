import Foundation

/// Fault switches a test flips to see how a client copes: server errors, a slow
/// answer, a download cut short, a forced "operation running" conflict, and slow
/// backups and restores (so a test can break in while one runs).
actor Faults {
    /// The next N API requests fail with 500.
    private(set) var failNext = 0
    /// The next API response is held back this many seconds.
    private(set) var stallSeconds = 0.0
    /// The next download closes the connection after this many bytes.
    private(set) var cutDownloadAfterBytes: Int?
    /// Starting a backup or restore answers 409 while this is on.
    private(set) var forceConflict = false
    /// Every backup started while this is set waits this many more seconds before pg_dump.
    private(set) var backupDelaySeconds = 0.0
    /// Every restore started while this is set waits this many more seconds before it unpacks.
    private(set) var restoreDelaySeconds = 0.0

    struct Settings: Codable, Sendable {
        var failNext: Int?
        var stallSeconds: Double?
        var cutDownloadAfterBytes: Int?
        var forceConflict: Bool?
        var backupDelaySeconds: Double?
        var restoreDelaySeconds: Double?
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
        if let value = settings.backupDelaySeconds { backupDelaySeconds = max(0, value) }
        if let value = settings.restoreDelaySeconds { restoreDelaySeconds = max(0, value) }
    }

    func reset() {
        failNext = 0
        stallSeconds = 0
        cutDownloadAfterBytes = nil
        forceConflict = false
        backupDelaySeconds = 0
        restoreDelaySeconds = 0
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
            ("backupDelaySeconds", .decimal(backupDelaySeconds)),
            ("restoreDelaySeconds", .decimal(restoreDelaySeconds)),
        ])
    }
}
