#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Planner

/// The Docker host Connectware runs on, reached through the Engine API: discovers the
/// installation, stops and starts it, snapshots, restores and removes its volumes, and
/// installs a given version. The interlocks that protect data live here, not in the CLI.
public final class ConnectwareHost {
    public let engine: Engine
    /// The environment given to `docker compose` and the installer (DOCKER_HOST, DOCKER_COMPOSE…).
    public let environment: [String: String]
    /// Where tars moved through a helper container are staged: a run's own directory. When nil,
    /// beside the snapshot the call writes or reads.
    public var stagingDirectory: String?

    public init(
        host: DockerHost? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DockerOpsError) {
        let resolved: DockerHost
        if let host { resolved = host } else { resolved = try DockerHost(environment: environment) }
        let host = resolved
        engine = try Engine(host: host)
        var environment = environment
        environment["DOCKER_HOST"] = host.description
        self.environment = environment
    }

    // MARK: - Discovery

    /// Finds Connectware's compose project from its labelled containers (running or not).
    /// With `project` given, an installation whose containers are all removed is still found
    /// by its volumes.
    public func discover(project wantedProject: String? = nil, includeSizes: Bool = false) throws(DockerOpsError)
        -> Installation
    {
        let summaries = try engine.decode(
            [ContainerSummary].self, .get, "/containers/json",
            query: ["all": "1", "filters": Engine.filters(["label": [connectwareCoreLabel]])])
        var byProject: [String: [ContainerSummary]] = [:]
        for summary in summaries {
            byProject[summary.labels?[ComposeLabel.project] ?? "", default: []].append(summary)
        }
        let project: String
        if let wantedProject {
            project = wantedProject
        } else if byProject.count == 1, let only = byProject.keys.first, !only.isEmpty {
            project = only
        } else if byProject.isEmpty {
            throw .noInstallation(label: connectwareCoreLabel)
        } else {
            throw .severalProjects(byProject.keys.sorted().map { $0.isEmpty ? "(no compose project)" : $0 })
        }

        var containers: [CoreContainer] = []
        var workingDirectory: String?
        var configFiles: String?
        // Variable index (newest name first) → the value found under it.
        var displayVersions: [Int: String] = [:]
        for summary in byProject[project] ?? [] {
            let details = try engine.decode(ContainerDetails.self, .get, "/containers/\(summary.id)/json")
            let labels = summary.labels ?? [:]
            let service = labels[ComposeLabel.service] ?? summary.displayName
            workingDirectory = workingDirectory ?? labels[ComposeLabel.workingDirectory]
            configFiles = configFiles ?? labels[ComposeLabel.configFiles]
            let image = details.config?.image ?? summary.image ?? ""
            for entry in details.config?.env ?? [] {
                for (index, variable) in displayVersionVariables.enumerated() where entry.hasPrefix(variable + "=") {
                    let value = String(entry.dropFirst(variable.count + 1))
                    if !value.isEmpty { displayVersions[index] = value }
                }
            }
            containers.append(
                CoreContainer(
                    id: summary.id, name: summary.displayName, service: service, image: image,
                    imageVersion: connectwareImageTag(image),
                    state: details.state?.status ?? summary.state ?? "unknown",
                    status: summary.status ?? "", health: details.state?.health?.status,
                    mounts: (summary.mounts ?? []).compactMap { mount in
                        guard mount.type == "volume", let name = mount.name else { return nil }
                        return VolumeMount(volume: name, destination: mount.destination ?? "")
                    },
                    startedAt: details.state?.startedAt))
        }
        containers.sort { ($0.service, $0.name) < ($1.service, $1.name) }
        var imageVersions: [String: [String]] = [:]
        for container in containers {
            if let tag = container.imageVersion { imageVersions[tag, default: []].append(container.service) }
        }
        let display = displayVersions.min { $0.key < $1.key }
        let composeFile = StartOrder.composeFile(workingDirectory: workingDirectory, configFiles: configFiles)
        let order = composeFile.flatMap { path in
            FileManager.default.contents(atPath: path).flatMap {
                StartOrder.fromComposeFile(String(decoding: $0, as: UTF8.self))
            }
        }
        return Installation(
            project: project, workingDirectory: workingDirectory, containers: containers,
            volumes: try projectVolumes(project, includeSizes: includeSizes), imageVersions: imageVersions,
            displayVersion: display?.value, displayVersionVariable: display.map { displayVersionVariables[$0.key] },
            startOrder: order, startOrderSource: order == nil ? "start times" : composeFile ?? "start times",
            systemdUnit: systemdUnit(), engineVersion: engine.engineVersion, apiVersion: engine.apiVersion)
    }

    /// The project's volumes: labelled by compose, or named `<project>_<name>`.
    func projectVolumes(_ project: String, includeSizes: Bool = false) throws(DockerOpsError) -> [ProjectVolume] {
        let list = try engine.decode(VolumeList.self, .get, "/volumes")
        let users = try volumeUsers()
        var sizes: [String: Int64] = [:]
        if includeSizes {
            let usage = try engine.decode(DiskUsage.self, .get, "/system/df", deadline: engine.deadlines.diskUsage)
            for volume in usage.volumes ?? [] {
                if let size = volume.usageData?.size, size >= 0 { sizes[volume.name] = size }
            }
            // The Engine does not size a volume with driver options. A local bind (`o=bind`) has
            // its files in its `device` directory on this host: summed there, as root reads them.
            for volume in list.volumes ?? [] where sizes[volume.name] == nil && volume.driver ?? "local" == "local" {
                let options = volume.options ?? [:]
                guard (options["o"] ?? "").split(separator: ",").contains("bind"), let device = options["device"],
                    access(device, R_OK | X_OK) == 0
                else { continue }
                var contents = VolumeContents()
                Self.walk(Array(device.utf8), shown: "", into: &contents)
                sizes[volume.name] = contents.bytes
            }
        }
        let prefix = project + "_"
        return (list.volumes ?? []).compactMap { volume -> ProjectVolume? in
            let labels = volume.labels ?? [:]
            let labelled = labels[ComposeLabel.project] == project
            guard labelled || volume.name.hasPrefix(prefix) else { return nil }
            let shortName =
                labels[ComposeLabel.volume]
                ?? (volume.name.hasPrefix(prefix) ? String(volume.name.dropFirst(prefix.count)) : volume.name)
            return ProjectVolume(
                name: volume.name, shortName: shortName, driver: volume.driver ?? "local",
                options: volume.options.flatMap { $0.isEmpty ? nil : $0 }, mountpoint: volume.mountpoint ?? "",
                labels: labels, usedBy: users[volume.name] ?? [],
                sizeBytes: sizes[volume.name])
        }.sorted { $0.name < $1.name }
    }

    /// Volume name → every container (any project, running or not) that mounts it.
    func volumeUsers() throws(DockerOpsError) -> [String: [String]] {
        let all = try engine.decode([ContainerSummary].self, .get, "/containers/json", query: ["all": "1"])
        var users: [String: [String]] = [:]
        for container in all {
            for mount in container.mounts ?? [] where mount.type == "volume" {
                if let name = mount.name { users[name, default: []].append(container.displayName) }
            }
        }
        return users.mapValues { $0.sorted() }
    }

    /// One volume by its Docker name.
    func volume(_ name: String) throws(DockerOpsError) -> ProjectVolume? {
        let list = try engine.decode(VolumeList.self, .get, "/volumes")
        guard let volume = list.volumes?.first(where: { $0.name == name }) else { return nil }
        let users = try volumeUsers()
        let labels = volume.labels ?? [:]
        return ProjectVolume(
            name: volume.name, shortName: labels[ComposeLabel.volume] ?? volume.name, driver: volume.driver ?? "local",
            options: volume.options.flatMap { $0.isEmpty ? nil : $0 }, mountpoint: volume.mountpoint ?? "",
            labels: labels, usedBy: users[volume.name] ?? [], sizeBytes: nil)
    }

    // MARK: - Stopping and starting

    /// Stops every core container of the installation, dependants first and PostgreSQL last,
    /// each with `timeout` seconds to exit before it is killed. Returns the services in the
    /// order they were stopped.
    /// Where the Connectware unit of systemd exists, `systemctl stop` goes first (its
    /// `ExecStop`, `compose down`, also removes the containers); whatever still runs after it
    /// is stopped here.
    @discardableResult
    public func stop(_ installation: Installation, timeout: Int = 30) throws(DockerOpsError) -> [String] {
        var installation = installation
        if let unit = systemdUnit(), installation.containers.contains(where: \.isRunning) {
            try systemctl("stop", unit)
            let services = Self.stopOrder(installation).map(\.service)
            installation = try discover(project: installation.project)
            guard !installation.containers.isEmpty else { return services }
        }
        var stopped: [String] = []
        for container in Self.stopOrder(installation) {
            if container.isRunning || container.state == "restarting" || container.state == "paused" {
                try engine.send(
                    .post, "/containers/\(container.id)/stop", query: ["t": String(timeout)],
                    deadline: .seconds(timeout) + engine.deadlines.stopMargin)
                let state = try engine.decode(ContainerDetails.self, .get, "/containers/\(container.id)/json")
                if state.state?.running == true {
                    do {
                        try engine.send(.post, "/containers/\(container.id)/kill")
                    } catch .engine(_, 409, _) {
                        // Not running any more: it exited between the two calls.
                    }
                    let again = try engine.decode(ContainerDetails.self, .get, "/containers/\(container.id)/json")
                    if again.state?.running == true { throw .containerDidNotStop(name: container.name) }
                }
            }
            stopped.append(container.service)
        }
        return stopped
    }

    /// Removes the core containers (never their volumes); they must be stopped first. They
    /// are removed at the same time, as `docker rm A B C` does: on a storage driver that
    /// copies each container's files (vfs) every removal is a tree deleted by the daemon, and
    /// one after another they added up to most of a second of downtime. On a failure the
    /// first error in stop order is thrown, after every removal was tried.
    @discardableResult
    public func removeContainers(_ installation: Installation) throws(DockerOpsError) -> [String] {
        let containers = Self.stopOrder(installation)
        let engines = containers.indices.map { $0 == 0 ? engine : engine.sibling() }
        let outcomes = Self.concurrently(containers.count) { (i: Int) throws(DockerOpsError) in
            do throws(DockerOpsError) {
                try engines[i].send(.delete, "/containers/\(containers[i].id)", query: ["v": "0"])
            } catch {
                // 404: already gone.
                guard case .engine(_, 404, _) = error else { throw error }
            }
        }
        for outcome in outcomes { if case .failure(let error) = outcome { throw error } }
        return containers.map(\.name)
    }

    /// Removes, per service, the containers that do not run when another container of the
    /// same service exists: what a compose run killed half-way through a recreate leaves
    /// behind (the old container renamed, or a new one never started). Returns their names.
    @discardableResult
    public func removeStaleDuplicates(_ installation: Installation) throws(DockerOpsError) -> [String] {
        var removed: [String] = []
        let byService = Dictionary(grouping: installation.containers, by: \.service)
        for (_, containers) in byService where containers.count > 1 {
            let canonical = [
                installation.project + "_" + containers[0].service + "_1",
                installation.project + "-" + containers[0].service + "-1",
            ]
            let keep =
                containers.first(where: \.isRunning) ?? containers.first { canonical.contains($0.name) }
                ?? containers.first
            for container in containers where container.id != keep?.id && !container.isRunning {
                do {
                    try engine.send(.delete, "/containers/\(container.id)", query: ["v": "0", "force": "1"])
                } catch .engine(_, 404, _) {
                    // Gone already.
                }
                removed.append(container.name)
            }
        }
        return removed
    }

    /// Starts, through the Engine API and in the vendor's start order, every core container
    /// that does not run; returns their names. Compose is not asked: after a compose run
    /// that was killed it may start a stale container and leave the right one created.
    @discardableResult
    public func startStopped(_ installation: Installation) throws(DockerOpsError) -> [String] {
        var started: [String] = []
        for container in Self.stopOrder(installation).reversed() where !container.isRunning {
            do {
                try engine.send(.post, "/containers/\(container.id)/start")
            } catch .engine(_, 304, _) {
                // Already running.
            }
            started.append(container.name)
        }
        return started
    }

    /// The containers in the order they stop: backwards through the installation's start
    /// order, so PostgreSQL, which everything depends on, stops last. Services the start
    /// order does not name stop first.
    static func stopOrder(_ installation: Installation) -> [CoreContainer] {
        let order = installation.startOrder
        return installation.containers.enumerated().sorted { a, b in
            let rankA = order.firstIndex(of: a.element.service) ?? order.count
            let rankB = order.firstIndex(of: b.element.service) ?? order.count
            return rankA != rankB ? rankA > rankB : a.offset < b.offset
        }.map(\.element)
    }

    /// `docker compose -p PROJECT up -d` in the project's directory; `systemctl start` of the
    /// unit where the Connectware unit of systemd exists.
    public func start(project: String, directory: String) throws(DockerOpsError) {
        if let unit = systemdUnit() {
            try systemctl("start", unit)
            return
        }
        let compose = try composeCommand()
        _ = try runProgram(compose + ["-p", project, "up", "-d"], in: directory)
    }

    /// The compose command: DOCKER_COMPOSE if set, else `docker compose` where the compose
    /// plugin is installed, else `docker-compose` on PATH. Found by looking at files, not by
    /// running `version`: the Python docker-compose takes seconds to start, and every second
    /// here is downtime.
    public func composeCommand() throws(DockerOpsError) -> [String] {
        if let chosen = environment["DOCKER_COMPOSE"], !chosen.isEmpty {
            return chosen.split(separator: " ").map(String.init)
        }
        let path = (environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .split(separator: ":").map(String.init)
        func onPath(_ name: String) -> Bool { path.contains { access($0 + "/" + name, X_OK) == 0 } }
        var pluginDirectories = [
            "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
            "/usr/libexec/docker/cli-plugins",
        ]
        if let config = environment["DOCKER_CONFIG"] {
            pluginDirectories.insert(config + "/cli-plugins", at: 0)
        } else if let home = environment["HOME"] {
            pluginDirectories.insert(home + "/.docker/cli-plugins", at: 0)
        }
        if onPath("docker"), pluginDirectories.contains(where: { access($0 + "/docker-compose", X_OK) == 0 }) {
            return ["docker", "compose"]
        }
        if onPath("docker-compose") { return ["docker-compose"] }
        throw .composeUnavailable(tried: ["docker compose", "docker-compose"])
    }

    /// Waits until every core container runs (and is healthy where it has a health check)
    /// and, when given, `maintenanceAnswers` says the maintenance API answers. The API is
    /// asked first on each poll (one request, answered by the ingress or refused at once while
    /// Connectware starts) and the containers looked at only once it answers, so a short
    /// `interval` costs the Engine nothing while Connectware is still starting.
    /// How often a run asks whether Connectware is up: every wait that ends the downtime loses
    /// half of it on average, and a poll while Connectware starts is one refused or 502 request.
    public static let healthPoll = 0.1

    @discardableResult
    public func waitUntilHealthy(
        project: String? = nil, within seconds: Int, pollEvery interval: Double = 1,
        maintenanceAnswers: (() -> Bool)? = nil
    ) throws(DockerOpsError) -> Installation {
        let start = Date()
        var last: [String] = []
        func states() -> Installation? {
            guard let installation = try? discover(project: project) else {
                last = ["no core containers"]
                return nil
            }
            let unhealthy = installation.containers.filter {
                !$0.isRunning || ($0.health ?? "healthy") != "healthy"
            }
            last = unhealthy.map { "\($0.service) \($0.state)" + ($0.health.map { " (\($0))" } ?? "") }
            if installation.containers.isEmpty { last = ["no core containers"] }
            return unhealthy.isEmpty && !installation.containers.isEmpty ? installation : nil
        }
        while true {
            if maintenanceAnswers?() ?? true {
                if let installation = states() { return installation }
            } else {
                last = ["the maintenance API does not answer yet"]
            }
            if Date().timeIntervalSince(start) >= Double(seconds) {
                // The API never answered: what the containers do tells the operator more, unless
                // every one of them runs, and then the API is what is missing.
                let apiSilent = ["the maintenance API does not answer yet"]
                if last == apiSilent, states() != nil { last = apiSilent }
                throw .notHealthy(afterSeconds: seconds, states: last)
            }
            pause(.milliseconds(Int64(interval * 1000)))
        }
    }
}

extension ConnectwareHost {
    /// Whether a volume of this Docker name exists.
    public func volumeExists(_ name: String) throws(DockerOpsError) -> Bool { try volume(name) != nil }

    /// A volume by its Docker name, or by its compose name within `project` (default: the
    /// discovered installation's project).
    public func findVolume(_ name: String, project: String? = nil) throws(DockerOpsError) -> ProjectVolume {
        if let exact = try volume(name) {
            if let project, let short = exact.labels[ComposeLabel.volume], exact.labels[ComposeLabel.project] == project
            {
                return ProjectVolume(
                    name: exact.name, shortName: short, driver: exact.driver, options: exact.options,
                    mountpoint: exact.mountpoint,
                    labels: exact.labels, usedBy: exact.usedBy, sizeBytes: nil)
            }
            return exact
        }
        let projectName: String
        if let project { projectName = project } else { projectName = try discover().project }
        guard let found = try projectVolumes(projectName).first(where: { $0.shortName == name }) else {
            throw .noSuchVolume(name)
        }
        return found
    }
}
