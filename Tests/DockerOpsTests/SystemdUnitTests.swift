import DockerOps
import Foundation
import TestSupport
import Testing

/// The Connectware unit of systemd as the vendor's installer writes it, read from its file.
struct SystemdUnitTests {
    @Test func theUnitsSettingsAreReadAsSystemdReadsThem() {
        let unit = SystemdUnit(
            path: "/etc/systemd/system/connectware.service",
            text: """
                [Unit]
                Description=Cybus Connectware
                # ExecStart=/bin/false
                [Service]
                Type=oneshot
                EnvironmentFile=-/opt/connectware/.env
                ExecStart = /usr/bin/docker compose -f /opt/connectware/docker-compose.yml up -d
                ExecStop=/usr/bin/docker compose -f /opt/connectware/docker-compose.yml down
                """)
        #expect(unit.name == "connectware")
        #expect(unit.type == "oneshot")
        #expect(unit.environmentFile == "/opt/connectware/.env")
        #expect(unit.execStart == "/usr/bin/docker compose -f /opt/connectware/docker-compose.yml up -d")
        #expect(unit.execStop == "/usr/bin/docker compose -f /opt/connectware/docker-compose.yml down")
        #expect(unit.workingDirectory == nil)
    }

    @Test func theUnitPathAndSystemctlComeFromTheEnvironment() throws {
        let directory = try TestSupport.temporaryDirectory("cwmigrate-unit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path + "/connectware.service"
        let environment = [
            "CWMIGRATE_SYSTEMD_UNIT": path, "CWMIGRATE_SYSTEMCTL": "/usr/local/bin/systemctl-standin --quiet",
        ]
        #expect(SystemdSettings.unitPath(environment) == path)
        #expect(SystemdSettings.systemctl(environment) == ["/usr/local/bin/systemctl-standin", "--quiet"])
        #expect(SystemdSettings.unit(at: path) == nil)
        try "[Service]\nType=oneshot\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(SystemdSettings.unit(at: path)?.type == "oneshot")
        #expect(SystemdSettings.unitPath([:]) == "/etc/systemd/system/connectware.service")
        #expect(SystemdSettings.systemctl([:]) == ["systemctl"])
    }
}
