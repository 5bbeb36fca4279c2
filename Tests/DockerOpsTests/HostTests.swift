import DockerOps
import Foundation
import TestSupport
import Testing

@Suite(.serialized)
struct HostTests {
    @Test func discoveryFindsTheLabsProjectDirectoryAndVersion() throws {
        let lab = try Lab.require()
        try lab.exclusively {
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

    @Test func stopStopsDependantsFirstAndPostgreSQLLastThenComposeStartsThemAgain() throws {
        let lab = try Lab.require()
        try lab.exclusively {
            let host = try lab.host()
            let certs = try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs"))
            let before = try host.discover()
            let order = try host.stop(before, timeout: 10)
            let stopped = try host.discover()
            #expect(order.last == "postgresql")
            #expect(order.count == before.containers.count)
            #expect(order.firstIndex(of: "system-control-server")! > order.firstIndex(of: "service-manager")!)
            #expect(stopped.containers.allSatisfy { !$0.isRunning })
            try lab.startAgain(host)
            #expect(try host.discover().containers.allSatisfy { $0.isRunning })
            #expect(try Lab.treeDigest(lab.mountpoint("\(lab.project)_certs")) == certs)
        }
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
