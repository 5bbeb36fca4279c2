#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import HTTP

/// The images of the running version, saved before an install that deletes them (the
/// vendor's installer prunes every other version's images), so that a rollback can bring
/// that version back on a host that cannot pull it again.
extension ConnectwareHost {
    /// The compose file's Connectware images at `version` (`<registry>/cybus/<name>:<version>`).
    public func images(of version: String, directory: String) -> [String] {
        let text = (try? String(contentsOfFile: directory + "/docker-compose.yml", encoding: .utf8)) ?? ""
        return Array(Set(Self.composeImages(in: text).map { "\($0.repository):\(version)" })).sorted()
    }

    /// The bytes the images take as the Engine counts them (`Size` of each distinct image);
    /// nil when one of them is not on this host.
    public func imageBytes(_ references: [String]) -> Int64? {
        struct Image: Decodable {
            var id: String
            var size: Int64?
            enum CodingKeys: String, CodingKey { case id = "Id", size = "Size" }
        }
        var sizes: [String: Int64] = [:]
        for reference in references {
            guard let image = try? engine.decode(Image.self, .get, "/images/\(reference)/json") else { return nil }
            sizes[image.id] = image.size ?? 0
        }
        return sizes.values.reduce(0, +)
    }

    /// Saves the images with their names (`GET /images/get`, as `docker save`) to `path`, written
    /// whole or not at all (0600).
    public func saveImages(_ references: [String], to path: String) throws(DockerOpsError) {
        let missing = references.filter { !imageExists($0) }
        guard missing.isEmpty else {
            throw .engine(
                call: "GET /images/get", status: 404, message: "not on this host: " + missing.joined(separator: ", "))
        }
        try engine.download(
            "/images/get", queryItems: references.map { URLQueryItem(name: "names", value: $0) }, to: path,
            deadline: engine.deadlines.imageLoad)
    }

    /// Loads an image archive (`POST /images/load`, as `docker load`) and checks that it held
    /// every one of `expected`.
    public func loadImages(from archive: String, expecting expected: [String]) throws(DockerOpsError) {
        let answer = try engine.upload(
            "/images/load", query: ["quiet": "1"], file: archive, contentType: "application/x-tar",
            deadline: engine.deadlines.imageLoad)
        let text = String(decoding: answer, as: UTF8.self)
        if text.contains("\"error\"") {
            throw .engine(call: "POST /images/load", status: 200, message: text)
        }
        let still = expected.filter { !imageExists($0) }
        if !still.isEmpty {
            throw .engine(
                call: "POST /images/load", status: 200,
                message: "\(archive) was loaded but does not hold \(still.joined(separator: ", "))")
        }
    }

    /// Every tag starting with `prefix` (`cwmigrate-keep/`), with its image's ID, size and every
    /// tag that image has (`GET /images/json`, as `docker images`).
    public func imageTags(prefix: String) throws(DockerOpsError) -> [ImageTag] {
        struct Image: Decodable {
            var id: String
            var repoTags: [String]?
            var size: Int64?
            enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags", size = "Size" }
        }
        let images = try engine.decode([Image].self, .get, "/images/json")
        return images.flatMap { image in
            let tags = (image.repoTags ?? []).filter { $0 != "<none>:<none>" }
            return tags.filter { $0.hasPrefix(prefix) }.map {
                ImageTag(reference: $0, imageID: image.id, bytes: image.size ?? 0, tagsOfImage: tags.sorted())
            }
        }.sorted { $0.reference < $1.reference }
    }
}

/// One tag of an image on the host, with what the image is and holds.
public struct ImageTag: Sendable, Equatable {
    public var reference: String
    public var imageID: String
    /// The image's size as the Engine counts it (`Size`).
    public var bytes: Int64
    /// Every tag of the image, this one too.
    public var tagsOfImage: [String]

    public init(reference: String, imageID: String, bytes: Int64, tagsOfImage: [String]) {
        self.reference = reference
        self.imageID = imageID
        self.bytes = bytes
        self.tagsOfImage = tagsOfImage
    }
}
