import Foundation
import Testing

@testable import DockerOps

/// Compose files differ between Connectware versions: the stop order comes from the file
/// the installation was made from, never from a list of the vendor's services.
struct ShapeTests {
    func container(_ service: String, startedAt: String?) -> CoreContainer {
        CoreContainer(
            id: service, name: "connectware_\(service)_1", service: service,
            image: "registry.cybus.io/cybus/\(service):1.0.91", imageVersion: "1.0.91", state: "exited", status: "",
            health: nil, mounts: [], startedAt: startedAt)
    }

    @Test func servicesStartAfterWhatTheyDependOnInTheComposeFile() throws {
        let text = """
            version: "2.0"
            services:
              doc-server:
                image: registry.cybus.io/cybus/doc-server:1.0.91
              service-manager:
                depends_on:
                  - system-control-server
              postgresql:
                image: registry.cybus.io/cybus/postgresql:1.0.91
              system-control-server:
                depends_on: [postgresql]
              connectware:
                depends_on:
                  system-control-server:
                    condition: service_started
              broker:
                volumes:
                  - brokerEtc:/vernemq/etc
            volumes:
              brokerEtc:
            """
        let order = try #require(StartOrder.fromComposeFile(text))
        #expect(
            order == ["postgresql", "system-control-server", "broker", "connectware", "doc-server", "service-manager"])
    }

    @Test func aDependencyCycleOrAnUnknownServiceStillOrdersEveryService() throws {
        let text = """
            services:
              a:
                depends_on: [b, missing]
              b:
                depends_on: [a]
              c: {}
            """
        #expect(StartOrder.fromComposeFile(text) == ["a", "b", "c"])
        #expect(StartOrder.fromComposeFile("version: '2.0'\n") == nil)
    }

    @Test func theStopOrderFollowsTheInstallationAndStopsUnknownServicesFirst() {
        let containers = ["admin-web-app", "broker", "doc-server", "postgresql", "system-control-server"].map {
            container($0, startedAt: nil)
        }
        let installation = Installation(
            project: "connectware", workingDirectory: "/opt/connectware", containers: containers, volumes: [],
            imageVersions: [:], displayVersion: nil,
            startOrder: ["postgresql", "system-control-server", "doc-server", "admin-web-app"],
            startOrderSource: "/opt/connectware/docker-compose.yml", engineVersion: "20.10", apiVersion: "1.41")
        #expect(
            ConnectwareHost.stopOrder(installation).map(\.service)
                == ["broker", "admin-web-app", "doc-server", "system-control-server", "postgresql"])
    }

    @Test func withoutAComposeFileTheStartTimesGiveTheOrder() {
        let containers = [
            container("admin-web-app", startedAt: "2026-11-30T10:00:03.5Z"),
            container("postgresql", startedAt: "2026-11-30T10:00:01.1Z"),
            container("system-control-server", startedAt: "2026-11-30T10:00:02.0Z"),
        ]
        let installation = Installation(
            project: "connectware", workingDirectory: nil, containers: containers, volumes: [], imageVersions: [:],
            displayVersion: nil, engineVersion: "20.10", apiVersion: "1.41")
        #expect(installation.startOrder == ["postgresql", "system-control-server", "admin-web-app"])
        #expect(installation.startOrderSource == "start times")
        #expect(
            StartOrder.composeFile(workingDirectory: "/opt/connectware", configFiles: "docker-compose.yml")
                == "/opt/connectware/docker-compose.yml")
        #expect(
            StartOrder.composeFile(workingDirectory: "/x", configFiles: "/y/compose.yml,/y/b.yml") == "/y/compose.yml")
    }

    @Test func theComposeFileAnInstallerCarriesIsReadFromItsHereDocumentInEitherForm() throws {
        let directory = NSTemporaryDirectory() + "/cwmigrate-installer-compose-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compose = "version: \"2.0\"\nservices:\n  doc-server:\n    image: registry.cybus.io/cybus/doc-server:1.7.3\n"
        let forms = [
            "#!/bin/bash\nread -r -d '' DOCKER_COMPOSE_FILE_CONTENT <<'EOF' || true\n\(compose)EOF\necho done\n",
            "#!/bin/bash\nDOCKER_COMPOSE_FILE_CONTENT=$(cat <<-END\n\(compose.split(separator: "\n").map { "\t" + $0 }.joined(separator: "\n"))\n\tEND\n)\n",
        ]
        for (index, form) in forms.enumerated() {
            let path = directory + "/installer-\(index).sh"
            try form.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(ConnectwareHost.installerComposeFile(path) == compose, "form \(index)")
        }
        let without = directory + "/fetches.sh"
        try "#!/bin/bash\ncurl -o docker-compose.yml https://example.invalid/compose\n".write(
            toFile: without, atomically: true, encoding: .utf8)
        #expect(ConnectwareHost.installerComposeFile(without) == nil)
        #expect(ConnectwareHost.installerComposeFile(directory + "/absent.sh") == nil)
    }
}
