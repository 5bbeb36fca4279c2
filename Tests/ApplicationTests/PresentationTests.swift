import Application
import ArchiveInspect
import ConnectwareAPI
import DockerOps
import Foundation
import Migration
import Planner
import TestSupport
import Testing

// The exact lines the commands print for a person, from the library results they show.

@Test func hostShowsTheInstallationAsAlignedRowsWithItsServicesAndVolumes() throws {
    let volume = try JSONDecoder().decode(
        ProjectVolume.self,
        from: Data(
            #"{"name":"connectware_postgresql","shortName":"postgresql","driver":"local","mountpoint":"/m","labels":{},"usedBy":["postgresql"],"sizeBytes":1572864}"#
                .utf8))
    let container = CoreContainer(
        id: "1", name: "connectware_postgresql_1", service: "postgresql", image: "cybus/postgresql:1.8.0",
        imageVersion: "1.8.0", state: "running", status: "Up", health: "healthy", mounts: [])
    let installation = Installation(
        project: "connectware", workingDirectory: "/opt/connectware", containers: [container], volumes: [volume],
        imageVersions: ["1.8.0": ["postgresql"]], displayVersion: nil, engineVersion: "20.10.24", apiVersion: "1.41")
    #expect(
        installation.summaryLines == [
            "project:   connectware",
            "directory: /opt/connectware",
            "version:   1.8.0",
            "docker:    Engine 20.10.24, API 1.41",
            "services:  postgresql              running (healthy)   cybus/postgresql:1.8.0",
            "volumes:   connectware_postgresql                  1.5 MiB     used by postgresql",
        ])
    #expect(installation.volumeLines() == ["connectware_postgresql                  1.5 MiB     used by postgresql"])
    #expect(
        volume.removedLine(snapshot: "pg.tar.zst")
            == "removed:   connectware_postgresql (snapshot pg.tar.zst verified)")
    #expect(try installation.hostJSON().contains(#""version":"1.8.0""#))
    #expect(installation.mixedVersionsWarning == nil)
    var mixed = installation
    mixed.imageVersions["1.7.3"] = ["connectware"]
    #expect(
        mixed.mixedVersionsWarning
            == "the services run different versions: 1.7.3 (connectware); 1.8.0 (postgresql)")
}

@Test func inspectShowsTheFactsOfAPartlyReadArchiveAndSaysSo() {
    let facts = ArchiveFacts(
        file: "/b/backup.tgz", version: Version(major: 1, minor: 0, patch: 73), backupID: nil,
        evidence: [VersionEvidence(source: .fileName, detail: "in the file name", version: Version(major: 1, minor: 0, patch: 73))],
        entries: 12, uncompressedBytes: 2048, compression: "gzip", format: "GNU tar", verified: false, sha256: nil,
        warnings: [], complete: false)
    let source = "file-name      "
    #expect(
        facts.summaryLines == [
            "file:      /b/backup.tgz",
            "version:   1.0.73",
            "backup id: none found",
            "evidence:  \(source)1.0.73  in the file name",
            "entries:   12 so far (stopped at the metadata; --verify reads all)",
            "size:      2048 bytes uncompressed (2.0 KiB) so far",
            "archive:   GNU tar, compression gzip",
            "verified:  no (use --verify)",
        ])
}

@Test func statusSaysWhatRanLastAndHowLongItTook() {
    let status = MaintenanceStatus(
        running: false,
        backup: .init(
            succeeded: true, id: "1.8.0_2026-11-30T10:00:00.000Z", startDateText: "2026-11-30T10:00:00.000Z",
            endDateText: "2026-11-30T10:00:12.500Z"),
        restore: .init(succeeded: false, statusMessage: "Backup version 1.0.73 is not supported"))
    #expect(
        StatusReport.lines(url: "https://cw.local", status: status) == [
            "Connectware: https://cw.local",
            "Now:          idle",
            "Last backup:  succeeded  1.8.0_2026-11-30T10:00:00.000Z  started 2026-11-30T10:00:00.000Z, took 12.5 s",
            "Last restore: FAILED\n              Backup version 1.0.73 is not supported",
        ])
    #expect(StatusReport.lines(url: "u", status: MaintenanceStatus(running: false))[2] == "Last backup:  never ran")
}

@Test func checksArePrintedAsPassFailOrSkipWithAlignedNamesAndAVerdict() {
    let checks = [
        CheckResult("backup", .pass, "1.0.73, verified"), CheckResult("disk space", .fail, "2 GiB free, 5 GiB needed"),
        CheckResult("lock", .skip, "needs the installation"),
    ]
    #expect(
        CheckResult.lines(checks, color: false) == [
            "pass  backup      1.0.73, verified",
            "FAIL  disk space  2 GiB free, 5 GiB needed",
            "skip  lock        needs the installation",
        ])
    #expect(CheckResult.lines(checks, color: true)[0] == "\u{1B}[32mpass\u{1B}[0m  backup      1.0.73, verified")
    #expect(CheckResult.verdict(checks) == "2 of 3 checks did not pass.")
    #expect(CheckResult.verdict([checks[0]]) == "All 1 checks passed.")
}

@Test func aRunsStepsArePrintedWithTheirPositionAndKind() {
    #expect(
        RunEvent.started(position: 2, kind: .removeVolumes, title: "Remove the volumes").lines(total: 11, color: false)
            == ["[3/11] remove-volumes: Remove the volumes"])
    #expect(
        RunEvent.done(position: 2, kind: .removeVolumes, message: "removed 2").lines(total: 11, color: false)
            == ["[3/11] remove-volumes done: removed 2"])
    #expect(
        RunEvent.repeating(position: 0, kind: .removeVolumes, reason: "not verified").lines(total: 2, color: false)
            == ["[1/2] remove-volumes was interrupted and is done again (not verified)"])
    #expect(RunEvent.completed.lines(total: 2, color: false) == ["Migration completed."])
    #expect(RunEvent.completed.lines(total: 2, color: true) == ["\u{1B}[32mMigration completed.\u{1B}[0m"])
}

@Test func theVersionReportNamesTheBuildAndTheLibraries() {
    let report = VersionReport(version: "0.1.0-dev", commit: "abc")
    #expect(report.lines[0] == "cwmigrate   0.1.0-dev (abc)")
    #expect(report.lines[1].hasPrefix("libcurl     "))
    #expect(report.lines[2].hasPrefix("libarchive  "))
}

@Test func aMistypedNameSuggestsTheNearestCandidateWithinAThirdOfItsLength() {
    #expect(closestName(to: "inpsect", among: ["plan", "inspect", "status"]) == "inspect")
    #expect(closestName(to: "--runing", among: ["--running", "--refusal"]) == "--running")
    #expect(closestName(to: "--xyzzy-plugh", among: ["--running"]) == nil)
    #expect(closestName(to: "-v", among: ["-h", "-y"]) == nil, "a short word is near to everything")
}

@Test func aSnapshotSaysWhatItHoldsAndWarnsOfEachSocketItLeftOut() throws {
    let work = try TestSupport.temporaryDirectory("cwmigrate-snapshot")
    defer { TestSupport.remove(work) }
    try TestSupport.shell(
        """
        mkdir data && printf 'PG' > data/PG_VERSION \
        && python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("data/.s.PGSQL.5432")'
        """, in: work)
    let output = work.appendingPathComponent("pg.tar.zst").path
    let manifest = try ConnectwareHost.snapshotDirectory(
        work.appendingPathComponent("data").path, volume: "connectware_postgresql", to: output,
        connectwareVersion: "1.8.0")
    let socket = work.appendingPathComponent("data/.s.PGSQL.5432").path
    #expect(manifest.skippedWarnings == ["left out \(socket): tar cannot hold a socket"])
    #expect(
        manifest.summaryLines(file: output).prefix(3)
            == ["snapshot:  \(output)", "volume:    connectware_postgresql", "version:   1.8.0"])
}
