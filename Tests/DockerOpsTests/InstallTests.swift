import DockerOps
import Foundation
import Planner
import TestSupport
import Testing

/// Both install strategies move the lab from one version to another and back, with the
/// data volumes intact.
@Suite(.serialized)
struct InstallTests {
    /// The version a migration would install: the newest the lab builds below the running
    /// one, else the oldest other one.
    func otherVersion(than running: String, _ lab: Lab) throws -> String {
        let versions = try lab.run(["versions"]).stdout.split(separator: "\n")
            .compactMap { $0.hasPrefix("version ") ? Version.parse($0.dropFirst(8)) : nil }.sorted()
        let current = try #require(Version.parse(running))
        let older = versions.last { $0 < current }
        return try #require(older ?? versions.first { $0 != current }).description
    }

    func request(_ version: String, _ strategy: InstallStrategy, _ lab: Lab, archive: String? = nil) -> InstallRequest {
        InstallRequest(
            version: version, strategy: strategy, directory: lab.projectDirectory, project: lab.project,
            installer: "\(lab.directory)/installers/\(version)/connectware-online-installer.sh", imageArchive: archive)
    }

    @Test func theInstallerStrategyMovesTheLabToAnotherVersionAndBackWithTheDataIntact() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            try lab.run(["seed"])
            let before = try lab.run(["check"]).stdout
            let host = try lab.host()
            let running = try #require(try host.discover().version?.description)
            let target = try otherVersion(than: running, lab)
            let certs = try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs"))

            let check = try host.checkInstall(request(target, .installer, lab))
            #expect(check.warnings.contains { $0.contains("deletes the images of every other Connectware version") })

            // A wrapper records the installer's arguments: the license key must not be among them.
            let envFile = lab.projectDirectory + "/.env"
            let originalKey = try #require(
                try String(contentsOfFile: envFile, encoding: .utf8).split(separator: "\n")
                    .first { $0.hasPrefix("CYBUS_REGISTRY_PASS=") }?.dropFirst("CYBUS_REGISTRY_PASS=".count))
            let work = try TestSupport.temporaryDirectory("cwmigrate-installer")
            defer { try? FileManager.default.removeItem(at: work) }
            let wrapper = work.appendingPathComponent("connectware-online-installer.sh").path
            let real = "\(lab.directory)/installers/\(target)/connectware-online-installer.sh"
            try TestSupport.shell(
                "printf '#!/bin/sh\\necho \"$*\" > %s/argv\\nexec %s \"$@\"\\n' '\(work.path)' '\(real)' > '\(wrapper)'"
                    + " && chmod 755 '\(wrapper)'")
            // The key is written to .env, where the installer reads it to log in to the lab's
            // registry (which knows only the lab's key): taken out of .env first, it comes back.
            try TestSupport.shell("sed -i '/^CYBUS_REGISTRY_PASS=/d' '\(envFile)'")
            var viaWrapper = request(target, .installer, lab)
            viaWrapper.installer = wrapper
            viaWrapper.licenseKey = String(originalKey)
            try host.install(viaWrapper)
            let argv = try String(contentsOfFile: work.path + "/argv", encoding: .utf8)
            #expect(argv == "-s -d \(lab.projectDirectory)\n")
            #expect(try String(contentsOfFile: envFile, encoding: .utf8).contains("CYBUS_REGISTRY_PASS=\(originalKey)\n"))
            #expect(try TestSupport.shell("stat -c %a '\(envFile)'").stdout == "600\n")
            try lab.startAgain(host)
            #expect(try host.discover().version?.description == target)
            #expect(try lab.run(["check"]).stdout == before)

            var back = request(running, .installer, lab)
            back.licenseKey = String(originalKey)
            try host.install(back)
            try lab.startAgain(host)
            #expect(try host.discover().version?.description == running)
            #expect(try lab.run(["check"]).stdout == before)
            #expect(try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs")) == certs)
        }
    }

    @Test func theOfflineImagesStrategyLoadsTheSavedImagesAndMovesTheLabAndBack() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            try lab.run(["seed"])
            let before = try lab.run(["check"]).stdout
            let host = try lab.host()
            let running = try #require(try host.discover().version?.description)
            let target = try otherVersion(than: running, lab)
            let certs = try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs"))

            // The installer's -P writes connectware-<version>.tar; then the images leave the host.
            let work = try TestSupport.temporaryDirectory("cwmigrate-offline")
            defer { try? FileManager.default.removeItem(at: work) }
            try TestSupport.shell(
                "cd '\(work.path)' && '\(lab.directory)/installers/\(target)/connectware-online-installer.sh' -s -P >/dev/null"
            )
            let archive = work.appendingPathComponent("connectware-\(target).tar").path
            try TestSupport.shell(
                "docker images --format '{{.Repository}}:{{.Tag}}' | grep ':\(target)$' | xargs -r docker rmi >/dev/null"
            )
            #expect(throws: DockerOpsError.self) {
                try host.checkInstall(request(target, .offlineImages, lab, archive: work.path + "/absent.tar"))
            }
            let check = try host.checkInstall(request(target, .offlineImages, lab, archive: archive))
            #expect(!check.imagesMissing.isEmpty)

            try host.install(request(target, .offlineImages, lab, archive: archive))
            try lab.startAgain(host)
            let moved = try host.discover()
            #expect(moved.version?.description == target)
            #expect(moved.containers.allSatisfy { $0.imageVersion == target })
            #expect(try lab.run(["check"]).stdout == before)

            try host.install(request(running, .offlineImages, lab))
            try lab.startAgain(host)
            #expect(try host.discover().version?.description == running)
            #expect(try lab.run(["check"]).stdout == before)
            #expect(try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs")) == certs)
        }
    }

    /// The services of the running installation, by their compose label, with their image tags.
    func services(_ host: ConnectwareHost) throws -> [String: String] {
        Dictionary(try host.discover().containers.map { ($0.service, $0.imageVersion ?? "") }) { first, _ in first }
    }

    @Test func anOfflineDowngradeIntoAnOlderShapeStartsItsExtraServiceFromTheInstallersComposeFile() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            try lab.run(["seed"])
            let before = try lab.run(["check"]).stdout
            let host = try lab.host()
            let running = try #require(try host.discover().version?.description)
            try #require(running == "1.8.0", "the lab runs 1.8.0 between tests")
            // 1.7.3 has doc-server, which 1.8.0 lacks (scripts/lab.d/README.md, "Compose shapes").
            let older = "1.7.3"
            let tags = "docker images --format '{{.Repository}}:{{.Tag}}' | grep ':\(older)$'"
            let work = try TestSupport.temporaryDirectory("cwmigrate-offline-shape")
            defer {
                try? FileManager.default.removeItem(at: work)
                // The lab's images as they were: the older version's tags go again.
                _ = try? TestSupport.shell("\(tags) | xargs -r docker rmi >/dev/null")
            }
            try TestSupport.shell(
                "cd '\(work.path)' && '\(lab.directory)/installers/\(older)/connectware-online-installer.sh' -s -P >/dev/null")
            try TestSupport.shell("\(tags) | xargs -r docker rmi >/dev/null")
            let archive = work.appendingPathComponent("connectware-\(older).tar").path

            let down = request(older, .offlineImages, lab, archive: archive)
            #expect(try host.checkInstall(down).imagesMissing.contains { $0.hasSuffix("/cybus/doc-server:\(older)") })
            try host.install(down)
            try lab.startAgain(host)
            let moved = try services(host)
            #expect(moved["doc-server"] == older, "\(moved)")
            #expect(moved.values.allSatisfy { $0 == older }, "\(moved)")
            #expect(try host.discover().containers.allSatisfy { $0.state == "running" })
            #expect(try lab.run(["check"]).stdout == before)

            // Back up: 1.8.0's own compose file again (its installer's), without doc-server.
            try host.install(request(running, .offlineImages, lab))
            try lab.startAgain(host)
            let back = try services(host)
            #expect(back["doc-server"] == nil, "\(back)")
            #expect(back.values.allSatisfy { $0 == running }, "\(back)")
            #expect(try lab.run(["check"]).stdout == before)
        }
    }
}
