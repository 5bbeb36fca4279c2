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
import HTTP
import Planner
import SafeFiles

/// How to install one Connectware version into a compose project.
public struct InstallRequest: Sendable {
    public var version: String
    public var strategy: InstallStrategy
    /// The compose project's directory (`/opt/connectware`).
    public var directory: String
    public var project: String
    /// `installer`: the version's `connectware-online-installer.sh`.
    public var installer: String?
    /// `offline-images`: `connectware-<version>.tar` saved with the installer's `-P`.
    public var imageArchive: String?
    /// Written to `DIR/.env` as `CYBUS_REGISTRY_PASS`, where the installer reads it; never in argv.
    public var licenseKey: String?

    public init(
        version: String, strategy: InstallStrategy, directory: String, project: String, installer: String? = nil,
        imageArchive: String? = nil, licenseKey: String? = nil
    ) {
        self.version = version
        self.strategy = strategy
        self.directory = directory
        self.project = project
        self.installer = installer
        self.imageArchive = imageArchive
        self.licenseKey = licenseKey
    }
}

/// The room the images an install obtains take in the Docker data root, and how it is known.
public struct ImageSpace: Sendable, Equatable {
    public var bytes: Int64 = 0
    /// One line per image or archive: its size and where that size comes from.
    public var sources: [String] = []
    /// Images whose size nothing on this host tells.
    public var unknown: [String] = []

    public init() {}
}

/// Whether an install can go ahead, and what the operator should know before it does.
public struct InstallCheck: Sendable, Equatable {
    /// Images of the wanted version already on the host.
    public var imagesPresent: [String]
    /// Images that must come from the archive (offline) or the registry (installer).
    public var imagesMissing: [String]
    public var warnings: [String]
}

extension ConnectwareHost {
    /// The Connectware images the compose file names, as `<registry>/cybus/<name>`.
    static func composeImages(in text: String) -> [(repository: String, tag: String)] {
        text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingBlanks
            guard trimmed.hasPrefix("image:") else { return nil }
            let image = trimmed.dropFirst("image:".count).trimming { " \"'".contains($0) }
            guard let tag = connectwareImageTag(image) else { return nil }
            return (String(image.dropLast(tag.count + 1)), tag)
        }
    }

    /// The compose file with every Connectware image tag, and every value equal to one of
    /// the old tags (such as `CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION`), set to `version`.
    static func retargetCompose(_ text: String, to version: String) -> String {
        let oldTags = Set(composeImages(in: text).map(\.tag))
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(line)
            let trimmed = line.trimmingBlanks
            if trimmed.hasPrefix("image:"),
                let old = connectwareImageTag(trimmed.dropFirst(6).trimming { " \"'".contains($0) })
            {
                if let range = line.ranges(of: ":" + old).last {
                    line.replaceSubrange(range, with: ":" + version)
                }
            } else {
                for old in oldTags {
                    for form in [": \"\(old)\"", ": '\(old)'", ": \(old)", "=\(old)"] where trimmed.hasSuffix(form) {
                        line = String(line.dropLast(form.count)) + form.replacing(old, with: version)
                    }
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The images the vendor's installer at `installer` pulls for `version`: the `image:` lines
    /// with that tag in the compose file the script carries (`DOCKER_COMPOSE_FILE_CONTENT`),
    /// so an older version's own services (`doc-server`, `broker`) count and a newer-only one
    /// does not. Nil when the script cannot be read or names no such image (an installer
    /// that fetches its compose file).
    public static func installerImages(_ installer: String, version: String) -> [String]? {
        guard let text = try? String(contentsOfFile: installer, encoding: .utf8) else { return nil }
        let images = Set(composeImages(in: text).filter { $0.tag == version }.map { "\($0.repository):\($0.tag)" })
        return images.isEmpty ? nil : images.sorted()
    }

    /// The compose file the vendor's installer carries: the here-document it assigns to
    /// `DOCKER_COMPOSE_FILE_CONTENT` (`read -d '' … <<'EOF'`, or `$(cat <<EOF …)`). Nil when the
    /// script cannot be read or carries none.
    public static func installerComposeFile(_ installer: String) -> String? {
        guard let text = try? String(contentsOfFile: installer, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("DOCKER_COMPOSE_FILE_CONTENT") && $0.contains("<<") }),
            let marker = lines[start].ranges(of: "<<").first
        else { return nil }
        var rest = lines[start][marker.upperBound...]
        let stripsTabs = rest.first == "-"
        if stripsTabs { rest = rest.dropFirst() }
        let delimiter = String(rest.drop { $0 == " " }.prefix { !" )\t;|&".contains($0) }.filter { $0 != "'" && $0 != "\"" })
        guard !delimiter.isEmpty else { return nil }
        var body: [Substring] = []
        for line in lines[(start + 1)...] {
            let content = stripsTabs ? line.drop { $0 == "\t" } : line
            if content == delimiter { return body.joined(separator: "\n") + "\n" }
            body.append(content)
        }
        return nil
    }

    /// The compose file of `request.version` an install without the vendor's installer writes,
    /// and where it comes from, by the best source there is: the version's installer (its own
    /// services and volumes: an older shape's `doc-server`, `brokerEtc`); else the compose file
    /// that version had here before an earlier install replaced it (`.before-…-from-VERSION`);
    /// else the current one with its tags set to the version (same services).
    func composeFile(for request: InstallRequest, current text: String) -> (text: String, source: String) {
        if let installer = request.installer, let embedded = Self.installerComposeFile(installer),
            Self.composeImages(in: embedded).contains(where: { $0.tag == request.version })
        {
            return (embedded, installer)
        }
        let suffix = "-from-\(request.version)"
        if let names = try? FileManager.default.contentsOfDirectory(atPath: request.directory) {
            for name in names.sorted() where name.hasPrefix("docker-compose.yml.before-") && name.hasSuffix(suffix) {
                let path = request.directory + "/" + name
                if let earlier = try? String(contentsOfFile: path, encoding: .utf8),
                    Self.composeImages(in: earlier).contains(where: { $0.tag == request.version })
                {
                    return (earlier, path)
                }
            }
        }
        return (Self.retargetCompose(text, to: request.version), request.directory + "/docker-compose.yml")
    }

    /// The names of the version's images: the ones its installer pulls (`installerImages`),
    /// also for an offline install, whose compose file then comes from the installer; else the
    /// images of the compose file an offline install writes (`composeFile(for:current:)`).
    public func wantedImages(_ request: InstallRequest) -> [String] {
        if let installer = request.installer, let images = Self.installerImages(installer, version: request.version) {
            return images
        }
        let composeFile = request.directory + "/docker-compose.yml"
        let text = (try? String(contentsOfFile: composeFile, encoding: .utf8)) ?? ""
        let written = request.strategy == .offlineImages ? self.composeFile(for: request, current: text).text : text
        return Array(Set(Self.composeImages(in: written).map { "\($0.repository):\(request.version)" })).sorted()
    }

    public func imageExists(_ reference: String) -> Bool {
        // The Engine's router takes a reference with slashes in the path as it is.
        (try? engine.send(.get, "/images/\(reference)/json")) != nil
    }

    /// Images tagged `<registry>/cybus/…` with another version than `version`.
    func otherVersionImages(than version: String) throws(DockerOpsError) -> [String] {
        struct Image: Decodable {
            var repoTags: [String]?
            enum CodingKeys: String, CodingKey { case repoTags = "RepoTags" }
        }
        let images = try engine.decode([Image].self, .get, "/images/json")
        return images.flatMap { $0.repoTags ?? [] }
            .filter { connectwareImageTag($0).map { $0 != version } ?? false }.sorted()
    }

    /// The bytes the images an install must obtain take in the Docker data root, by the best
    /// source there is: the image archive's size (offline: `docker save` writes the layers
    /// uncompressed, as a load stores them), else the size of the same repository under
    /// another tag on this host (a pull of another version of that image). An image whose
    /// size none of them tells is listed in `unknown`. Images already present need nothing.
    public func imageSpace(_ request: InstallRequest) throws(DockerOpsError) -> ImageSpace {
        struct Image: Decodable {
            var repoTags: [String]?
            var size: Int64?
            enum CodingKeys: String, CodingKey { case repoTags = "RepoTags", size = "Size" }
        }
        let missing = wantedImages(request).filter { !imageExists($0) }
        var space = ImageSpace()
        guard !missing.isEmpty else { return space }
        if request.strategy == .offlineImages {
            let archive = request.imageArchive ?? request.directory + "/connectware-\(request.version).tar"
            var info = stat()
            if stat(archive, &info) == 0 {
                space.bytes = Int64(info.st_size)
                space.sources.append("\(missing.count) images from \(archive) (\(formatBytes(space.bytes)))")
            } else {
                space.unknown = missing
            }
            return space
        }
        let images = try engine.decode([Image].self, .get, "/images/json")
        for wanted in missing {
            let repository = String(wanted[..<(wanted.lastIndex(of: ":") ?? wanted.endIndex)])
            let sibling = images.compactMap { image -> (String, Int64)? in
                guard let size = image.size,
                    let tag = image.repoTags?.first(where: { $0.hasPrefix(repository + ":") })
                else { return nil }
                return (tag, size)
            }.max { $0.1 < $1.1 }
            if let (tag, size) = sibling {
                space.bytes += size
                space.sources.append("\(wanted) (\(formatBytes(size)), as \(tag) here)")
            } else {
                space.unknown.append(wanted)
            }
        }
        return space
    }

    /// Pulls `reference` (`POST /images/create`, as `docker pull`) with the registry's
    /// credentials in `X-Registry-Auth` (never in a URL or argv). The Engine answers 200 and
    /// streams progress; a failure arrives as an `error` line in that stream.
    public func pullImage(_ reference: String, user: String, password: String) throws(DockerOpsError) {
        guard let parsed = ImageReference(reference), let tag = parsed.tag else {
            throw .engine(call: "POST /images/create", status: 400, message: "not an image reference with a tag: \(reference)")
        }
        let auth = JSONValue.object([
            "username": .string(user), "password": .string(password), "serveraddress": .string(parsed.registry),
        ])
        let encoded = Data(auth.bytes).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_")
        let name = String(reference[..<(reference.lastIndex(of: ":") ?? reference.endIndex)])
        let answer = try engine.send(
            .post, "/images/create", query: ["fromImage": name, "tag": tag],
            headers: [HTTPHeader("X-Registry-Auth", encoded)], deadline: engine.deadlines.imageLoad)
        for line in answer.split(separator: 0x0A) {
            if let error = (try? JSONValue(parsing: Array(line)))?["error"]?.string {
                throw .engine(call: "POST /images/create \(reference)", status: 200, message: error)
            }
        }
        guard imageExists(reference) else {
            throw .engine(call: "POST /images/create", status: 200, message: "\(reference) is not on this host after the pull")
        }
    }

    /// Tags the image `source` also as `target` (`POST /images/{name}/tag`, as `docker tag`).
    public func tagImage(_ source: String, as target: String) throws(DockerOpsError) {
        guard let colon = target.lastIndex(of: ":"), !target[colon...].contains("/") else {
            throw .engine(call: "POST /images/tag", status: 400, message: "not an image reference with a tag: \(target)")
        }
        try engine.send(
            .post, "/images/\(source)/tag",
            query: ["repo": String(target[..<colon]), "tag": String(target[target.index(after: colon)...])])
    }

    /// Removes the tag `reference` (`DELETE /images/{name}`, as `docker rmi`): the image stays
    /// while another tag names it. A tag that is not there is no error.
    public func untagImage(_ reference: String) throws(DockerOpsError) {
        guard imageExists(reference) else { return }
        try engine.send(.delete, "/images/\(reference)")
    }

    /// Where the Docker Engine keeps images and volumes (`/info` → `DockerRootDir`).
    public func dataRoot() throws(DockerOpsError) -> String {
        struct Info: Decodable {
            var root: String?
            enum CodingKeys: String, CodingKey { case root = "DockerRootDir" }
        }
        guard let root = try engine.decode(Info.self, .get, "/info").root, !root.isEmpty else {
            throw .unexpectedAnswer(call: "GET /info", message: "no DockerRootDir")
        }
        return root
    }

    /// Checks, before anything is stopped or removed, that the install can succeed.
    public func checkInstall(_ request: InstallRequest) throws(DockerOpsError) -> InstallCheck {
        let wanted = wantedImages(request)
        let present = wanted.filter(imageExists)
        let missing = wanted.filter { !present.contains($0) }
        var warnings: [String] = []
        switch request.strategy {
        case .installer:
            guard let installer = request.installer, access(installer, X_OK) == 0 else {
                throw .installerMissing(version: request.version, path: request.installer ?? "(not given)")
            }
            let others = try otherVersionImages(than: request.version)
            if !others.isEmpty {
                warnings.append(
                    "the vendor's installer deletes the images of every other Connectware version: "
                        + others.joined(separator: ", "))
            }
        case .offlineImages:
            if wanted.isEmpty {
                throw .imagesMissing(
                    version: request.version,
                    images: ["(no <registry>/cybus/<image> image in \(request.directory)/docker-compose.yml)"],
                    archive: request.imageArchive ?? "(not given)")
            }
            if !missing.isEmpty {
                let archive = request.imageArchive ?? request.directory + "/connectware-\(request.version).tar"
                guard access(archive, R_OK) == 0 else {
                    throw .imagesMissing(version: request.version, images: missing, archive: archive)
                }
            }
        }
        return InstallCheck(imagesPresent: present, imagesMissing: missing, warnings: warnings)
    }

    /// Installs `request.version` and starts it; the volumes are left as they are.
    public func install(_ request: InstallRequest) throws(DockerOpsError) {
        _ = try checkInstall(request)
        switch request.strategy {
        case .installer:
            if let key = request.licenseKey { try setEnvValue("CYBUS_REGISTRY_PASS", key, in: request.directory) }
            // The key is read from DIR/.env; its value never reaches argv, and is cut from shown output.
            try runProgram(
                [request.installer ?? "", "-s", "-d", request.directory], in: request.directory,
                redacting: request.licenseKey)
            // Where the unit exists the vendor's installer acts as if given -S: it runs
            // `systemctl restart connectware` itself, and Connectware is starting already.
            if systemdUnit() != nil { return }
        case .offlineImages:
            let missing = wantedImages(request).filter { !imageExists($0) }
            if !missing.isEmpty {
                let archive = request.imageArchive ?? request.directory + "/connectware-\(request.version).tar"
                try loadImages(from: archive, expecting: missing)
            }
            // Only with the images in place do the running containers go, like the installer does it.
            if let current = try? discover(project: request.project) {
                try stop(current)
                try removeContainers(current)
            }
            let composeFile = request.directory + "/docker-compose.yml"
            guard let text = try? String(contentsOfFile: composeFile, encoding: .utf8) else {
                throw .programFailed(command: "reading \(composeFile)", status: 1, output: "cannot read it")
            }
            let old = Self.composeImages(in: text).first?.tag ?? "previous"
            let keep = composeFile + ".before-\(request.version)-from-\(old)"
            var info = stat()
            let mode = stat(composeFile, &info) == 0 ? info.st_mode & 0o777 : 0o644
            do {
                if access(keep, F_OK) != 0 {
                    try OutputFile.write(Array(text.utf8), to: keep, mode: mode, replacing: false)
                }
                try OutputFile.write(
                    Array(self.composeFile(for: request, current: text).text.utf8), to: composeFile, mode: mode,
                    replacing: true)
            } catch {
                throw .programFailed(command: "writing \(error.path)", status: 1, output: error.reason)
            }
        }
        try start(project: request.project, directory: request.directory)
    }

    /// Sets one `KEY=value` in `DIR/.env`, keeping the other lines; the file stays 0600.
    func setEnvValue(_ key: String, _ value: String, in directory: String) throws(DockerOpsError) {
        let path = directory + "/.env"
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines.removeAll { $0.hasPrefix(key + "=") }
        lines.append("\(key)=\(value)")
        do {
            try OutputFile.write(
                Array((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o600, replacing: true)
        } catch {
            throw .programFailed(command: "writing \(path)", status: 1, output: error.reason)
        }
    }
}
