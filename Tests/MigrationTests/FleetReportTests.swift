import Foundation
import Migration
import TestSupport
import Testing

/// A directory laid out as the playbook's fetch task leaves it: DIR/<host>/<run>.report.json.
private func fleetDirectory(_ hosts: [String: [(name: String, bytes: [UInt8])]]) throws -> String {
    let directory = try TestSupport.temporaryDirectory("cwmigrate-fleet").path
    for (host, files) in hosts {
        try FileManager.default.createDirectory(atPath: directory + "/" + host, withIntermediateDirectories: true)
        for file in files {
            _ = FileManager.default.createFile(atPath: directory + "/\(host)/\(file.name)", contents: Data(file.bytes))
        }
    }
    return directory
}

private func reportFile(_ journal: String) throws -> (name: String, bytes: [UInt8]) {
    let report = RunReport(try realJournal(journal))
    return ("\(report.run).report.json", report.json())
}

@Suite("the fleet page")
struct FleetReportTests {
    @Test func hostsAreSortedFailuresFirstThenHostsWithoutAReportThenTheCompletedOnes() throws {
        let directory = try fleetDirectory([
            "b-ok": [try reportFile("completed")], "a-ok": [try reportFile("resumed")],
            "c-failed": [try reportFile("failed-restore")],
            "d-broken": [("20261130T070000Z-000000.report.json", Array("{not json".utf8))],
            "e-empty": [],
        ])
        _ = FileManager.default.createFile(atPath: directory + "/site.retry", contents: Data())
        let fleet = try FleetReport(directory: directory)
        #expect(fleet.hosts.map(\.host) == ["c-failed", "d-broken", "e-empty", "a-ok", "b-ok"])
        #expect(fleet.hosts.map(\.outcome) == ["failed", "no-report", "no-report", "completed", "completed"])
        #expect(fleet.hosts[1].problem?.contains("is not a cwmigrate report") == true)
        #expect(fleet.hosts[2].problem?.hasPrefix("no *.report.json in") == true)
        #expect(fleet.tally == "1 failed, 2 no-report, 2 completed")
    }

    @Test func eachHostShowsItsNewestReport() throws {
        let directory = try fleetDirectory([
            "plant": [try reportFile("failed-restore"), try reportFile("failed-backup")]
        ])
        let fleet = try FleetReport(directory: directory)
        // failed-backup's run began a few seconds before failed-restore's: its id sorts first.
        #expect(fleet.hosts.first?.report?.run == RunReport(try realJournal("failed-restore")).run)
    }

    @Test func thePageHasARowWithAStripForEveryHostAndLoadsNothing() throws {
        let directory = try fleetDirectory([
            "plant-1": [try reportFile("completed")], "plant-2": [try reportFile("failed-restore")],
            "plant-3": [try reportFile("failed-backup")],
        ])
        let html = try FleetReport(directory: directory).html()
        for host in ["plant-1", "plant-2", "plant-3"] { #expect(html.contains("<b>\(host)</b>")) }
        #expect(html.components(separatedBy: "aria-label=\"Timeline\"").count - 1 == 3)
        #expect(html.contains(">39.4 s<") && html.contains(">not over<") && html.contains(">none<"))
        #expect(html.range(of: "plant-2")!.lowerBound < html.range(of: "plant-1")!.lowerBound)
        let loads = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!loads.contains("http://") && !loads.contains("https://") && !loads.contains("src="))
    }

    @Test func theJSONWordsEachHostsDowntimeAsThePageDoes() throws {
        let directory = try fleetDirectory([
            "plant-1": [try reportFile("completed")], "plant-2": [try reportFile("failed-restore")],
            "plant-3": [try reportFile("failed-backup")], "plant-4": [],
        ])
        let json = try JSONSerialization.jsonObject(with: Data(try FleetReport(directory: directory).json()))
        let hosts = try #require((json as? [String: Any])?["hosts"] as? [[String: Any]])
        let downtimes = Dictionary(uniqueKeysWithValues: hosts.map { ($0["host"] as? String ?? "?", $0["downtime"] as? String) })
        #expect(downtimes["plant-1"] == "39.4 s")
        #expect(downtimes["plant-2"] == "not over")
        #expect(downtimes["plant-3"] == "none")
        #expect(downtimes["plant-4"] == .some(nil), "a host without a report has no downtime")
    }

    @Test func aRestoreRefusedUnderAPlanGivenUpIsGreyInTheStripOfAHostThatCompleted() throws {
        let directory = try fleetDirectory(["plant": [try reportFile("replanned")]])
        let html = try FleetReport(directory: directory).html()
        #expect(html.contains("fill=\"#b8c2cf\"><title>2. restore: failed"))
        #expect(!html.contains("fill=\"#c8321e\"><title>2. restore"))
    }

    @Test func aDirectoryWithoutHostDirectoriesIsAnError() throws {
        let directory = try fleetDirectory([:])
        #expect(throws: MigrationError.self) { try FleetReport(directory: directory) }
        #expect(throws: MigrationError.self) { try FleetReport(directory: directory + "/missing") }
    }
}
