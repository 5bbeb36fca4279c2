import Testing

@testable import Planner

/// Wordings a server might use; the wording is not public, so the parser must be tolerant.
@Test(arguments: [
    (
        "Restore failed: the backup was created with version 1.0.73 and is not compatible with this version. The last version that can restore it is 1.0.91.",
        "1.0.91"
    ),
    ("Backup 1.0.73_2022-02-16T15:37:19.242Z is incompatible. Latest compatible version: 1.7.3", "1.7.3"),
    ("Cannot restore backup from 1.0.73; last supported version is v1.7.2", "1.7.2"),
    ("incompatible database schema, please downgrade to 1.0.91 to restore this backup", "1.0.91"),
    ("Restore not possible. Use Connectware 1.7.3 (or older) to restore backups of version 1.0.73", "1.7.3"),
    ("backup version 1.0.73 not supported by 1.8.0, max version: 1.7.3-rc.2", "1.7.3-rc.2"),
    ("The backup can only be restored up to version 1.10.2.", "1.10.2"),
    ("Error: restore refused (compatible until 1.7.3)", "1.7.3"),
    ("RESTORE ERROR: LAST COMPATIBLE VERSION 1.0.91", "1.0.91"),
])
func findsTheLastRestoringVersion(message: String, expected: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == v(expected))
    #expect(refusal.statusMessage == message)
}

@Test(arguments: [
    "Restore failed: incompatible backup",
    "Backup 1.0.73_2022-02-16T15:37:19.242Z could not be restored",
    "backup from version 1.0.73 is too old for Connectware 1.8.0",
    "",
    "checksum mismatch at offset 1.2.3.4",
])
func namesNoVersionWhenTheMessageHasNone(message: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == nil)
    #expect(refusal.statusMessage == message)
}

@Test func prefersTheNamedVersionOverTheBackupsOwnWhenBothAppear() {
    let message = "Latest version able to restore: 1.0.91 (backup version 1.0.73)"
    #expect(RestoreRefusal(statusMessage: message).lastRestoringVersion == v("1.0.91"))
    #expect(RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73")).lastRestoringVersion == v("1.0.91"))
}

@Test func takesTheBackupsOwnVersionWhenTheRefusalNamesNoOtherAsTheLastThatRestoresIt() {
    // cwsim's wording for a 1.0.91 backup behind the barrier whose last version is 1.0.91.
    let message =
        "Restore failed: the backup was created with Connectware 1.0.91, whose database structure is not supported by 1.8.0. The last version that can restore this backup is 1.0.91."
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.91"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == v("1.0.91"))
    #expect(refusal.kind == .versionRefusal(lastRestoring: v("1.0.91")))
}

@Test(arguments: [
    "backup version 1.0.91 is not compatible with this Connectware",
    "Restore refused: backup 1.0.91 is too old",
    "Restore refused: backups created 1.0.91 are not supported",
])
func doesNotTakeTheBackupsOwnVersionNamedOnlyAsTheBackups(message: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.91"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == nil)
    #expect(refusal.kind == .refusalWithoutVersion)
}

@Test func neverTakesTheRunningVersionAsTheLastThatRestores() {
    let message = "Restore refused. The last version that can restore this backup is 1.8.0."
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.8.0"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == nil)
}

@Test func findsTheVersionWithoutKnowingTheBackupOrRunningVersion() {
    let message = "This backup (1.0.73) is not compatible. Please restore it on the last compatible version 1.7.3."
    #expect(RestoreRefusal(statusMessage: message).lastRestoringVersion == v("1.7.3"))
}

@Test(arguments: [
    ("Version 1.8.0 cannot restore backups from 1.0.73. Please use version 1.7.3 or lower.", "1.7.3"),
    ("restore refused; the latest version supporting this backup is 1.7.3-rc.1.", "1.7.3-rc.1"),
    ("Backup 1.0.73 requires Connectware <= 1.0.91 (current: 1.8.0)", "1.0.91"),
])
func findsTheVersionWithoutKnowingTheRunningVersion(message: String, expected: String) {
    #expect(RestoreRefusal(statusMessage: message).lastRestoringVersion == v(expected))
}

// Issue 15: a refusal is only a refusal.

@Test(arguments: [
    // Three versions: the backup's, the running one's and the last that restores it.
    ("Backup made with 1.0.73 cannot be restored on 1.10.2; the last version that restores it is 1.4.2", "1.4.2"),
    ("Restore refused: backup 1.0.73, Connectware 1.10.2, last compatible version 1.4.2", "1.4.2"),
    (
        "Connectware 1.10.2 does not support backups of 1.0.73 (incompatible); newest version able to restore: 1.4.2",
        "1.4.2"
    ),
    // "last compatible version"
    ("Restore refused: last compatible version is 1.7.3", "1.7.3"),
    ("incompatible backup. The last compatible version for this backup: 1.0.91", "1.0.91"),
    // In quotes, or with a v
    ("Restore refused: the last version that restores this backup is \"1.7.3\"", "1.7.3"),
    ("Restore refused: the last version that restores this backup is '1.4.2'.", "1.4.2"),
    ("incompatible backup; last compatible version: v1.4.2", "1.4.2"),
    ("Restore refused (backup v1.0.73): please downgrade to v1.7.3", "1.7.3"),
])
func findsTheLastRestoringVersionInMoreWordings(message: String, expected: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.10.2"))
    #expect(refusal.lastRestoringVersion == v(expected))
    #expect(refusal.kind == .versionRefusal(lastRestoring: v(expected)))
}

@Test(arguments: [
    "restore failed after upgrade to 1.8.0: disk full",
    "Error: restore failed: disk full",
    "Restore failed: the backup 1.0.73_2022-02-16T15:37:19.242Z holds no database dump (cybus_connectware.dump).",
    "pg_restore: error: could not write to file: No space left on device (Connectware 1.8.0)",
    "Restore of 1.0.73 failed: connection to database lost",
])
func aFailureThatMentionsAVersionIsNotARefusal(message: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.8.0"))
    #expect(refusal.lastRestoringVersion == nil)
    #expect(refusal.kind == .failure)
    #expect(RestoreRefusal(statusMessage: message).kind == .failure)
}

@Test(arguments: [
    "Restore failed: incompatible backup",
    "backup from version 1.0.73 is too old for Connectware 1.8.0",
    "Restore refused: this backup is not supported",
])
func aRefusalNamingNoVersionSaysSo(message: String) {
    let refusal = RestoreRefusal(statusMessage: message, backupVersion: v("1.0.73"), runningVersion: v("1.8.0"))
    #expect(refusal.kind == .refusalWithoutVersion)
}
