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

/// A volume mounted into a container.
public struct VolumeMount: Sendable, Codable, Equatable {
    public var volume: String
    public var destination: String
}

/// One of Connectware's core containers as Docker reports it.
public struct CoreContainer: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    /// The compose service (`postgresql`, `connectware`, …).
    public var service: String
    public var image: String
    /// The tag of a `<registry>/cybus/<name>:<tag>` image, if it is one.
    public var imageVersion: String?
    /// Docker's state word: running, exited, created, restarting, paused, dead.
    public var state: String
    public var status: String
    /// `healthy`, `unhealthy` or `starting` when the image has a health check.
    public var health: String?
    public var mounts: [VolumeMount]
    /// When Docker last started it (RFC 3339); nil when it never ran.
    public var startedAt: String?

    public init(
        id: String, name: String, service: String, image: String, imageVersion: String?, state: String,
        status: String, health: String?, mounts: [VolumeMount], startedAt: String? = nil
    ) {
        self.id = id
        self.name = name
        self.service = service
        self.image = image
        self.imageVersion = imageVersion
        self.state = state
        self.status = status
        self.health = health
        self.mounts = mounts
        self.startedAt = startedAt
    }

    public var isRunning: Bool { state == "running" }
}

/// A volume of the compose project, with the containers (of any project) that use it.
public struct ProjectVolume: Sendable, Codable, Equatable {
    /// The volume's name in Docker, e.g. `connectware_postgresql`.
    public var name: String
    /// The name in the compose file, e.g. `postgresql`.
    public var shortName: String
    public var driver: String
    /// The driver's options (`type`, `o`, `device` for a bind or NFS volume); nil when none.
    public var options: [String: String]?
    public var mountpoint: String
    public var labels: [String: String]
    /// Containers, running or stopped, that mount it.
    public var usedBy: [String]
    /// Bytes on disk as the Engine counts them; nil when it did not say.
    public var sizeBytes: Int64?
}

/// What DockerOps found on the host: the compose project of Connectware, its containers,
/// versions and volumes. Mixed versions are kept as found.
public struct Installation: Sendable, Codable, Equatable {
    public var project: String
    public var workingDirectory: String?
    public var containers: [CoreContainer]
    public var volumes: [ProjectVolume]
    /// Image tag → the services running that tag.
    public var imageVersions: [String: [String]]
    /// The display version a container's environment carries, when one does (admin-web-app's
    /// `CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION`, `DISPLAY_VERSION` in older releases, none in the oldest).
    public var displayVersion: String?
    /// The variable `displayVersion` was read from; nil when no container has one.
    public var displayVersionVariable: String?
    /// The services in the order compose starts them (each after what it `depends_on` in the
    /// project's compose file); from the containers' start times when the file cannot be read.
    /// Stopping goes backwards, so what everything depends on (PostgreSQL) stops last.
    public var startOrder: [String]
    /// Where `startOrder` came from: the compose file's path, or `start times`.
    public var startOrderSource: String
    /// The Connectware unit of systemd, when the host has one: stops and starts go through it.
    public var systemdUnit: SystemdUnit?
    public var engineVersion: String
    public var apiVersion: String

    public init(
        project: String, workingDirectory: String?, containers: [CoreContainer], volumes: [ProjectVolume],
        imageVersions: [String: [String]], displayVersion: String?, displayVersionVariable: String? = nil,
        startOrder: [String]? = nil, startOrderSource: String = "start times", systemdUnit: SystemdUnit? = nil,
        engineVersion: String,
        apiVersion: String
    ) {
        self.project = project
        self.workingDirectory = workingDirectory
        self.containers = containers
        self.volumes = volumes
        self.imageVersions = imageVersions
        self.displayVersion = displayVersion
        self.displayVersionVariable = displayVersionVariable
        self.startOrder = startOrder ?? StartOrder.byStartTimes(containers)
        self.startOrderSource = startOrderSource
        self.systemdUnit = systemdUnit
        self.engineVersion = engineVersion
        self.apiVersion = apiVersion
    }

    /// The one version every image tag (and the display version) agrees on; nil when mixed or unknown.
    public var version: Version? {
        var tags = Set(imageVersions.keys)
        if let displayVersion { tags.insert(displayVersion) }
        guard tags.count == 1, let tag = tags.first else { return nil }
        return Version.parse(tag)
    }

    /// Whether the services disagree about the version.
    public var hasMixedVersions: Bool {
        var tags = Set(imageVersions.keys)
        if let displayVersion { tags.insert(displayVersion) }
        return tags.count > 1
    }

    public func volume(named name: String) -> ProjectVolume? {
        volumes.first { $0.name == name || $0.shortName == name }
    }
}

/// The label every core container of Connectware carries.
public let connectwareCoreLabel = "io.cybus.connectware=core"

enum ComposeLabel {
    static let project = "com.docker.compose.project"
    static let workingDirectory = "com.docker.compose.project.working_dir"
    static let service = "com.docker.compose.service"
    static let volume = "com.docker.compose.volume"
    static let configFiles = "com.docker.compose.project.config_files"
}

/// The variables that carry Connectware's display version, newest name first.
public let displayVersionVariables = ["CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION", "DISPLAY_VERSION"]

// MARK: - The Engine's JSON

struct ContainerSummary: Decodable {
    struct Mount: Decodable {
        var type: String?
        var name: String?
        var source: String?
        var destination: String?
        enum CodingKeys: String, CodingKey {
            case type = "Type"
            case name = "Name"
            case source = "Source"
            case destination = "Destination"
        }
    }
    var id: String
    var names: [String]?
    var image: String?
    var state: String?
    var status: String?
    var labels: [String: String]?
    var mounts: [Mount]?
    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case names = "Names"
        case image = "Image"
        case state = "State"
        case status = "Status"
        case labels = "Labels"
        case mounts = "Mounts"
    }

    var displayName: String { names?.first.map { String($0.drop { $0 == "/" }) } ?? String(id.prefix(12)) }
}

struct ContainerDetails: Decodable {
    struct Config: Decodable {
        var image: String?
        var env: [String]?
        enum CodingKeys: String, CodingKey {
            case image = "Image"
            case env = "Env"
        }
    }
    struct State: Decodable {
        struct Health: Decodable {
            var status: String?
            enum CodingKeys: String, CodingKey { case status = "Status" }
        }
        var status: String?
        var running: Bool?
        var health: Health?
        var startedAt: String?
        enum CodingKeys: String, CodingKey {
            case status = "Status"
            case running = "Running"
            case health = "Health"
            case startedAt = "StartedAt"
        }
    }
    var config: Config?
    var state: State?
    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case state = "State"
    }
}

struct VolumeList: Decodable {
    struct Volume: Decodable {
        var name: String
        var driver: String?
        var mountpoint: String?
        var labels: [String: String]?
        var options: [String: String]?
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case driver = "Driver"
            case mountpoint = "Mountpoint"
            case labels = "Labels"
            case options = "Options"
        }
    }
    var volumes: [Volume]?
    enum CodingKeys: String, CodingKey { case volumes = "Volumes" }
}

struct DiskUsage: Decodable {
    struct Volume: Decodable {
        struct Usage: Decodable {
            var size: Int64?
            enum CodingKeys: String, CodingKey { case size = "Size" }
        }
        var name: String
        var usageData: Usage?
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case usageData = "UsageData"
        }
    }
    var volumes: [Volume]?
    enum CodingKeys: String, CodingKey { case volumes = "Volumes" }
}

/// `<registry>/cybus/<name>:<tag>` → tag, whatever the registry (`registry.cybus.io`, a mirror,
/// `127.0.0.1:5000`) or a Docker Hub `cybus/<name>:<tag>`; anything else → nil.
func connectwareImageTag(_ image: String) -> String? {
    guard let reference = ImageReference(image), reference.connectwareImage != nil else { return nil }
    return reference.tag
}
