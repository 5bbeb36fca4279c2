import ArchiveInspect
import Foundation

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
struct HelperContainer {
    static let path = "/cwmigrate-volume"
    static let label = "io.cybus.cwmigrate"

    let id: String
    let engine: Engine

    /// Prefers a Connectware image (it is on every Connectware host); never pulls.
    static func create(for volume: String, readOnly: Bool, engine: Engine) throws(DockerOpsError) -> HelperContainer {
        struct Image: Decodable {
            var id: String
            var repoTags: [String]?
            enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags" }
        }
        let images = try engine.decode([Image].self, .get, "/images/json")
        let tagged = images.flatMap { $0.repoTags ?? [] }.filter { $0 != "<none>:<none>" }
        guard
            let image = tagged.first(where: { connectwareImageTag($0) != nil }) ?? tagged.first ?? images.first?.id
        else { throw .noHelperImage(volume: volume) }
        let request: [String: Any] = [
            "Image": image, "Cmd": ["/cwmigrate-never-started"], "Entrypoint": [String](),
            "Labels": [label: "volume-access"], "NetworkDisabled": true,
            "HostConfig": [
                "NetworkMode": "none",
                "Mounts": [
                    [
                        "Type": "volume", "Source": volume, "Target": path, "ReadOnly": readOnly,
                        "VolumeOptions": ["NoCopy": true],
                    ]
                ],
            ],
        ]
        let answer = try engine.send(
            .post, "/containers/create", query: ["name": "cwmigrate-volume-\(UUID().uuidString.prefix(8).lowercased())"],
            json: request)
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any],
            let id = object["Id"] as? String
        else { throw .unexpectedAnswer(call: "POST /containers/create", message: "no Id") }
        return HelperContainer(id: id, engine: engine)
    }

    /// The volume as an uncompressed tar whose entries start with `cwmigrate-volume/`.
    func download(to file: String) throws(DockerOpsError) {
        try engine.download("/containers/\(id)/archive", query: ["path": Self.path], to: file)
    }

    /// Extracts an uncompressed tar whose entries start with `cwmigrate-volume/` into the volume.
    func upload(_ file: String) throws(DockerOpsError) {
        try engine.send(file: file, .put, "/containers/\(id)/archive", query: ["path": "/"])
    }

    func remove() {
        _ = try? engine.send(.delete, "/containers/\(id)", query: ["force": "1", "v": "0"])
    }
}

/// A file under the system's temporary directory, for a tar on its way to or from the Engine.
func temporaryTar(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("cwmigrate-\(label)-\(UUID().uuidString.prefix(8)).tar")
        .path
}
