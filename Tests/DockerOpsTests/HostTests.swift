import DockerOps
import Foundation
import TestSupport
import Testing

@Suite(.serialized)
struct HostTests {
    @Test func discoveryFindsTheLabsProjectDirectoryAndVersion() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let installation = try lab.host().discover()
            #expect(installation.project == lab.project)
            #expect(installation.workingDirectory == lab.projectDirectory)
            #expect(installation.version?.description == (try lab.composeVersion()))
            #expect(installation.hasMixedVersions == false)
            #expect(installation.displayVersion == (try lab.composeVersion()))
            let services = Set(installation.containers.map(\.service))
            #expect(services.isSuperset(of: ["postgresql", "system-control-server", "service-manager", "connectware"]))
            #expect(installation.containers.allSatisfy { $0.isRunning })
            let postgresql = try #require(installation.volume(named: "postgresql"))
            #expect(postgresql.name == "\(lab.project)_postgresql")
            #expect(postgresql.mountpoint == (try lab.mountpoint(postgresql.name)))
            #expect(postgresql.usedBy.count == 1)
            #expect(installation.volume(named: "certs") != nil)
        }
    }

    @Test func stopStopsDependantsFirstAndPostgreSQLLastThenComposeStartsThemAgain() async throws {
        let lab = try Lab.require()
        try await lab.exclusively {
            let host = try lab.host()
            let certs = try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs"))
            let before = try host.discover()
            let order = try host.stop(before, timeout: 10)
            let stopped = try host.discover()
            #expect(order.last == "postgresql")
            #expect(order.count == before.containers.count)
            #expect(order.firstIndex(of: "system-control-server")! > order.firstIndex(of: "service-manager")!)
            #expect(stopped.containers.allSatisfy { !$0.isRunning })
            #expect {
                try host.waitUntilHealthy(project: lab.project, within: 1, pollEvery: 0.2)
            } throws: { error in
                guard case .notHealthy(_, let states) = error as? DockerOpsError else { return false }
                return states.contains { $0.hasPrefix("postgresql ") }
            }
            try lab.startAgain(host)
            #expect(try host.discover().containers.allSatisfy { $0.isRunning })
            #expect(try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs")) == certs)
        }
    }

    @Test func dockerComposeIsHonouredAndAFailingComposeIsReportedWithItsCommand() throws {
        let lab = try Lab.require()
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_COMPOSE"] = "docker-compose"
        #expect(try ConnectwareHost(environment: environment).composeCommand() == ["docker-compose"])
        environment["DOCKER_COMPOSE"] = "false compose"
        let failing = try ConnectwareHost(environment: environment)
        #expect {
            try failing.start(project: lab.project, directory: lab.projectDirectory)
        } throws: { error in
            guard case .programFailed(let command, let status, _) = error as? DockerOpsError else { return false }
            return command == "false compose -p \(lab.project) up -d" && status == 1
        }
    }

    @Test func mixedVersionsAreReportedNotGuessedAway() {
        func container(_ service: String, _ tag: String) -> CoreContainer {
            CoreContainer(
                id: service, name: service, service: service, image: "registry.cybus.io/cybus/\(service):\(tag)",
                imageVersion: tag, state: "running", status: "Up", health: nil, mounts: [])
        }
        var installation = Installation(
            project: "connectware", workingDirectory: "/opt/connectware",
            containers: [container("postgresql", "1.8.1"), container("admin-web-app", "1.8.1")],
            volumes: [], imageVersions: ["1.8.1": ["admin-web-app", "postgresql"]], displayVersion: "1.8.1",
            engineVersion: "20.10", apiVersion: "1.41")
        #expect(installation.version?.description == "1.8.1")
        #expect(installation.hasMixedVersions == false)
        installation.imageVersions = ["1.8.1": ["postgresql"], "1.7.3": ["admin-web-app"]]
        #expect(installation.version == nil)
        #expect(installation.hasMixedVersions)
        installation.imageVersions = ["1.8.1": ["admin-web-app", "postgresql"]]
        installation.displayVersion = "1.8.0"
        #expect(installation.version == nil)
        #expect(installation.hasMixedVersions)
    }

    @Test func aTCPDockerHostIsRefusedAsNotSupportedYet() {
        #expect(throws: DockerOpsError.unsupportedHost("tcp://127.0.0.1:2375")) {
            try DockerHost(environment: ["DOCKER_HOST": "tcp://127.0.0.1:2375"])
        }
        #expect(throws: DockerOpsError.unsupportedHost("ssh://admin@host")) {
            try DockerHost(environment: ["DOCKER_HOST": "ssh://admin@host"])
        }
        #expect((try? DockerHost(environment: [:]))?.socketPath == "/var/run/docker.sock")
    }

    @Test func aSocketWithoutADaemonIsReportedAsUnreachable() throws {
        let directory = try TestSupport.temporaryDirectory()
        let socket = directory.appendingPathComponent("none.sock").path
        #expect {
            try ConnectwareHost(host: DockerHost(socketPath: socket), environment: [:])
        } throws: { error in
            guard case .unreachable(let path, _) = error as? DockerOpsError else { return false }
            return path == socket
        }
    }
}
