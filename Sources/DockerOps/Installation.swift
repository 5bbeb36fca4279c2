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
    /// The tag of a `registry.cybus.io/cybus/<name>:<tag>` image, if it is one.
    public var imageVersion: String?
    /// Docker's state word: running, exited, created, restarting, paused, dead.
    public var state: String
    public var status: String
    /// `healthy`, `unhealthy` or `starting` when the image has a health check.
    public var health: String?
    public var mounts: [VolumeMount]

    public init(
        id: String, name: String, service: String, image: String, imageVersion: String?, state: String,
        status: String, health: String?, mounts: [VolumeMount]
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
    /// `CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION` of admin-web-app, when present.
    public var displayVersion: String?
    public var engineVersion: String
    public var apiVersion: String

    public init(
        project: String, workingDirectory: String?, containers: [CoreContainer], volumes: [ProjectVolume],
        imageVersions: [String: [String]], displayVersion: String?, engineVersion: String, apiVersion: String
    ) {
        self.project = project
        self.workingDirectory = workingDirectory
        self.containers = containers
        self.volumes = volumes
        self.imageVersions = imageVersions
        self.displayVersion = displayVersion
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
}

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

/// `registry.cybus.io/cybus/<name>:<tag>` → tag; anything else → nil.
func connectwareImageTag(_ image: String) -> String? {
    var reference = Substring(image)
    if let at = reference.firstIndex(of: "@") { reference = reference[..<at] }
    guard reference.hasPrefix("registry.cybus.io/cybus/") else { return nil }
    guard let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") else { return nil }
    let tag = reference[reference.index(after: colon)...]
    return tag.isEmpty ? nil : String(tag)
}
