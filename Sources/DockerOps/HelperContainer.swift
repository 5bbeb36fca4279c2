import ArchiveInspect
import Vocabulary
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

/// How DockerOps reaches a volume's files.
public enum VolumeAccess: String, Sendable, Codable, CaseIterable {
    /// The mount point when this process can read (or write) it, else a helper container.
    case automatic
    /// The volume's directory on the Docker host (as root).
    case mountpoint
    /// A short-lived container, created (never started) from an image already on the host,
    /// with the volume mounted; files move through the Engine's archive endpoint.
    case helperContainer = "helper-container"
}

/// A created, never started container with one volume mounted at `path`; removed by `remove()`.
/// It carries the creating process's id and start time as labels, so a helper orphaned by a
/// killed cwmigrate is told from one a live cwmigrate uses (`removeOrphanedHelpers`).
struct HelperContainer {
    static let path = "/cwmigrate-volume"
    static let label = "io.cybus.cwmigrate"
    static let ownerLabel = "io.cybus.cwmigrate.owner"

    let id: String
    let engine: Engine

    /// The image a helper is made from: a Connectware image (it is on every Connectware host),
    /// else any image on the host; nil when there is none. Never pulls.
    static func image(engine: Engine) throws(DockerOpsError) -> String? {
        struct Image: Decodable {
            var id: String
            var repoTags: [String]?
            enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags" }
        }
        let images = try engine.decode([Image].self, .get, "/images/json")
        let tagged = images.flatMap { $0.repoTags ?? [] }.filter { $0 != "<none>:<none>" }
        return tagged.first(where: { connectwareImageTag($0) != nil }) ?? tagged.first ?? images.first?.id
    }

    static func create(for volume: String, readOnly: Bool, engine: Engine) throws(DockerOpsError) -> HelperContainer {
        guard let image = try image(engine: engine) else { throw .noHelperImage(volume: volume) }
        let request: JSONValue = [
            "Image": .string(image), "Cmd": ["/cwmigrate-never-started"], "Entrypoint": [],
            "Labels": .object([label: "volume-access", ownerLabel: .string(ProcessIdentity.current.label)]),
            "NetworkDisabled": true,
            "HostConfig": [
                "NetworkMode": "none",
                "Mounts": [
                    [
                        "Type": "volume", "Source": .string(volume), "Target": .string(path), "ReadOnly": .bool(readOnly),
                        "VolumeOptions": ["NoCopy": true],
                    ]
                ],
            ],
        ]
        let answer = try engine.send(
            .post, "/containers/create", query: ["name": "cwmigrate-volume-\(UUID().uuidString.prefix(8).lowercased())"],
            json: request)
        guard let id = (try? JSONValue(parsing: answer))?["Id"]?.string
        else { throw .unexpectedAnswer(call: "POST /containers/create", message: "no Id") }
        return HelperContainer(id: id, engine: engine)
    }

    /// The volume as an uncompressed tar whose entries start with `cwmigrate-volume/`.
    func download(to file: String) throws(DockerOpsError) {
        try engine.download(
            "/containers/\(id)/archive", query: ["path": Self.path], to: file, deadline: engine.deadlines.volumeArchive)
    }

    /// Extracts an uncompressed tar whose entries start with `cwmigrate-volume/` into the volume.
    func upload(_ file: String) throws(DockerOpsError) {
        try engine.send(
            file: file, .put, "/containers/\(id)/archive", query: ["path": "/"], deadline: engine.deadlines.volumeArchive)
    }

    /// Whether the volume holds `path` (relative to its root), asked without copying anything.
    func holds(_ path: String) throws(DockerOpsError) -> Bool {
        do {
            try engine.send(.head, "/containers/\(id)/archive", query: ["path": Self.path + "/" + path])
            return true
        } catch .engine(_, 404, _) {
            return false
        }
    }

    func remove() {
        _ = try? engine.send(.delete, "/containers/\(id)", query: ["force": "1", "v": "0"])
    }
}

/// Where a tar on its way to or from the Engine is staged: `directory` when given (a run's own
/// `staging` directory), else the directory of the file the call names (the snapshot being
/// written or read), never the system's temporary directory. Its name carries the owner
/// (`cwmigrate-LABEL-PID.START-XXXXXXXX.tar`), so a file left by a killed cwmigrate is
/// found by `removeStagedLeftovers`, which runs here first.
func stagedTar(_ label: String, in directory: String?, beside file: String) -> String {
    let directory = directory ?? (deletingLastPathComponent(file).isEmpty ? "." : deletingLastPathComponent(file))
    _ = removeStagedLeftovers(in: directory)
    return directory + "/cwmigrate-\(label)-\(ProcessIdentity.current.label)-\(UUID().uuidString.prefix(8).lowercased()).tar"
}

/// Removes the staged tars in `directory` (and their temporary and partial names) whose owner
/// no longer runs; returns their paths.
func removeStagedLeftovers(in directory: String) -> [String] {
    var removed: [String] = []
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names {
        guard let owner = stagedTarOwner(name), !owner.isAlive else { continue }
        let path = directory + "/" + name
        if unlink(path) == 0 { removed.append(path) }
    }
    return removed
}

/// The owner a staged tar's name carries, or nil when the name is not exactly one `stagedTar`
/// makes (or its temporary or partial name): the directory may be an operator's own, and a
/// file of theirs that merely starts with "cwmigrate-" (a snapshot named by hand) is never touched.
func stagedTarOwner(_ name: String) -> ProcessIdentity? {
    let parts = (name.hasPrefix(".") ? name.dropFirst() : name[...]).split(
        separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "cwmigrate", stagedTarLabels.contains(String(parts[1])) else { return nil }
    let unique = parts[3].prefix(8)
    guard unique.count == 8, unique.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
        parts[3].dropFirst(8).hasPrefix(".tar")
    else { return nil }
    return ProcessIdentity(label: parts[2])
}

/// The labels `stagedTar` is called with; a name with any other is not a staged tar.
let stagedTarLabels: Set<String> = ["snapshot", "check", "current", "restore"]

/// A process as it can be told apart over time: its id and its start time in clock ticks
/// after boot (field 22 of /proc/PID/stat), so a reused pid is not taken for the owner.
struct ProcessIdentity: Equatable {
    let pid: Int32
    let startTicks: UInt64

    static let current = ProcessIdentity(pid: getpid(), startTicks: startTicks(of: getpid()) ?? 0)

    /// `PID.START`, as labels and file names carry it.
    var label: String { "\(pid).\(startTicks)" }

    init(pid: Int32, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }

    init?(label: some StringProtocol) {
        let parts = label.split(separator: ".")
        guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { return nil }
        self.init(pid: pid, startTicks: start)
    }

    /// Whether this very process still runs (same pid and same start time).
    var isAlive: Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return Self.startTicks(of: pid) == startTicks
    }

    static func startTicks(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name in parentheses: field 3 (state) onwards; the start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

extension ConnectwareHost {
    /// Removes what a killed cwmigrate left behind on this host: helper containers (which
    /// count as users of their volume, so removal and rollback would fail with "in use")
    /// and staged tars in `stagingDirectory` (and in the system's temporary directory, where
    /// cwmigrate before 2026-11-30 staged them), each only when its owner no longer runs.
    /// A helper without an owner label (made by an older cwmigrate) lives for one call, so
    /// one still there is an orphan too. Returns what was removed, for the operator.
    @discardableResult
    public func removeOrphanedHelpers() throws(DockerOpsError) -> [String] {
        struct Container: Decodable {
            var id: String
            var names: [String]?
            var labels: [String: String]?
            enum CodingKeys: String, CodingKey { case id = "Id", names = "Names", labels = "Labels" }
        }
        var removed: [String] = []
        let filters = #"{"label":["\#(HelperContainer.label)"]}"#
        let helpers = try engine.decode([Container].self, .get, "/containers/json", query: ["all": "1", "filters": filters])
        for helper in helpers {
            if let owner = helper.labels?[HelperContainer.ownerLabel].flatMap({ ProcessIdentity(label: $0) }),
                owner.isAlive
            {
                continue
            }
            try engine.send(.delete, "/containers/\(helper.id)", query: ["force": "1", "v": "0"])
            let name = helper.names?.first.map { String($0.drop { $0 == "/" }) } ?? String(helper.id.prefix(12))
            removed.append("helper container \(name)")
        }
        let directories = [stagingDirectory, FileManager.default.temporaryDirectory.path].compactMap { $0 }
        for directory in directories {
            removed += removeStagedLeftovers(in: directory).map { "staged file \($0)" }
        }
        return removed
    }
}
