#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import HTTP

/// An image reference split as Docker splits it: `[registry/]repository[:tag][@digest]`.
/// The first path part is a registry host when it has a `.` or a `:` or is `localhost`
/// (`registry.cybus.io`, `127.0.0.1:5000`, `mirror.plant.example`); else the image is Docker Hub's.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    /// The registry host with its port, e.g. `registry.cybus.io`; `docker.io` for Docker Hub.
    public var registry: String
    /// The repository inside the registry, e.g. `cybus/postgresql`.
    public var repository: String
    public var tag: String?

    public init?(_ text: String) {
        var reference = Substring(text)
        if let at = reference.firstIndex(of: "@") { reference = reference[..<at] }
        var tag: String?
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            tag = String(reference[reference.index(after: colon)...])
            reference = reference[..<colon]
        }
        guard !reference.isEmpty, tag?.isEmpty != true else { return nil }
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = String(parts[0])
            repository = parts.dropFirst().joined(separator: "/")
        } else {
            registry = "docker.io"
            repository = parts.count == 1 ? "library/" + reference : String(reference)
        }
        guard !repository.isEmpty, !repository.split(separator: "/", omittingEmptySubsequences: false).contains("")
        else { return nil }
        self.tag = tag
    }

    /// The image's name in Connectware's namespace (`postgresql` of `…/cybus/postgresql`), or nil.
    public var connectwareImage: String? {
        let parts = repository.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "cybus" else { return nil }
        return String(parts[parts.count - 1])
    }

    public var description: String { "\(registry)/\(repository)" + (tag.map { ":" + $0 } ?? "") }
}

/// Why a registry did not confirm that the images a run pulls are there.
public enum RegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreachable(registry: String, message: String)
    case credentialsRefused(registry: String, user: String, status: Int)
    /// The registry answered, but has no such tag (`available`: the tags it has, up to a few).
    case tagMissing(image: String, tag: String, available: [String])
    case unexpectedAnswer(url: String, status: Int, message: String)

    public var description: String {
        switch self {
        case .unreachable(let registry, let message):
            "the registry \(registry) cannot be reached: \(message)"
        case .credentialsRefused(let registry, let user, let status):
            "the registry \(registry) refused the credentials of user \(user) (HTTP \(status)): "
                + "check CYBUS_REGISTRY_USER and CYBUS_REGISTRY_PASS (the license key) in the installation's .env"
        case .tagMissing(let image, let tag, let available):
            "the registry has no \(image):\(tag)"
                + (available.isEmpty ? "" : " (it has \(available.joined(separator: ", ")))")
        case .unexpectedAnswer(let url, let status, let message):
            "unexpected answer \(status) from \(url): \(message)"
        }
    }
}

/// The Registry HTTP API v2 as an install's pull meets it: `GET /v2/<name>/tags/list` with
/// Basic auth, or with a bearer token from the realm a `WWW-Authenticate: Bearer` answer names
/// (the token service gets the same Basic credentials), as `docker login` and `docker pull` do.
/// Registries on a loopback address are spoken to in plain HTTP (the Docker Engine treats
/// 127.0.0.0/8 as insecure by default); every other over HTTPS.
public final class RegistryClient {
    public let registry: String
    let user: String
    let password: String
    private let client: HTTPClient
    private var token: String?

    public init(registry: String, user: String, password: String, options: TransportOptions = TransportOptions()) {
        self.registry = registry
        self.user = user
        self.password = password
        var options = options
        options.retry = .never
        options.connectTimeout = .seconds(10)
        client = HTTPClient(options: options)
    }

    /// `http://` for a registry on the loopback, else `https://`.
    public var baseURL: String {
        let host = registry.split(separator: ":").first.map(String.init) ?? registry
        let loopback = host == "localhost" || host.hasPrefix("127.") || registry.hasPrefix("[::1]")
        return (loopback ? "http://" : "https://") + (registry == "docker.io" ? "registry-1.docker.io" : registry)
    }

    /// The tags of `repository` (e.g. `cybus/postgresql`); an unknown repository has none.
    public func tags(of repository: String) throws(RegistryError) -> [String] {
        let url = baseURL + "/v2/\(repository)/tags/list?n=10000"
        let response = try get(url, scope: "repository:\(repository):pull")
        if response.status == 404 { return [] }
        guard response.status == 200 else {
            throw .unexpectedAnswer(
                url: url, status: response.status, message: String(decoding: response.body.prefix(300), as: UTF8.self))
        }
        struct Tags: Decodable { var tags: [String]? }
        guard let found = try? JSONDecoder().decode(Tags.self, from: Data(response.body)) else {
            throw .unexpectedAnswer(url: url, status: 200, message: "not a tag list")
        }
        return found.tags ?? []
    }

    /// The bytes `repository:tag` takes in the registry: its image manifest's config and layers
    /// as stored (compressed); nil for a manifest list (several platforms), whose sizes are one
    /// hop further.
    public func storedBytes(of repository: String, tag: String) throws(RegistryError) -> Int64? {
        let url = baseURL + "/v2/\(repository)/manifests/\(tag)"
        let accept = HTTPHeader(
            "Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
        let response = try get(url, scope: "repository:\(repository):pull", headers: [accept])
        guard response.status == 200 else {
            if response.status == 404 { throw .tagMissing(image: "\(registry)/\(repository)", tag: tag, available: []) }
            throw .unexpectedAnswer(
                url: url, status: response.status, message: String(decoding: response.body.prefix(300), as: UTF8.self))
        }
        struct Blob: Decodable { var size: Int64 }
        struct Manifest: Decodable {
            var config: Blob?
            var layers: [Blob]?
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(response.body)) else {
            throw .unexpectedAnswer(url: url, status: 200, message: "not an image manifest")
        }
        guard let layers = manifest.layers else { return nil }
        return layers.reduce(manifest.config?.size ?? 0) { $0 + $1.size }
    }

    /// Each reference's tag is in the registry; the first one that is not throws `tagMissing`.
    public func requireTags(_ references: [ImageReference]) throws(RegistryError) {
        var known: [String: [String]] = [:]
        for reference in references {
            guard let tag = reference.tag else { continue }
            let tags: [String]
            if let cached = known[reference.repository] {
                tags = cached
            } else {
                tags = try self.tags(of: reference.repository)
                known[reference.repository] = tags
            }
            guard tags.contains(tag) else {
                throw .tagMissing(
                    image: "\(reference.registry)/\(reference.repository)", tag: tag,
                    available: Array(tags.sorted().suffix(5)))
            }
        }
    }

    private func get(_ url: String, scope: String, headers: [HTTPHeader] = []) throws(RegistryError) -> HTTPResponse {
        client.authentication = token.map { .bearer($0) } ?? .basic(user: user, password: password)
        var response = try send(url, headers: headers)
        guard response.status == 401 else { return response }
        let challenge = response.headers.first { $0.name.lowercased() == "www-authenticate" }?.value ?? ""
        if challenge.lowercased().hasPrefix("bearer") {
            token = try fetchToken(challenge, scope: scope)
            client.authentication = .bearer(token ?? "")
            response = try send(url, headers: headers)
        }
        guard response.status != 401, response.status != 403 else {
            throw .credentialsRefused(registry: registry, user: user, status: response.status)
        }
        return response
    }

    /// A token from the realm of a `Bearer realm="…",service="…",scope="…"` challenge.
    private func fetchToken(_ challenge: String, scope: String) throws(RegistryError) -> String {
        var fields: [String: String] = [:]
        let pattern = /([a-zA-Z]+)="([^"]*)"/
        for match in challenge.matches(of: pattern) { fields[String(match.1).lowercased()] = String(match.2) }
        guard let realm = fields["realm"], var components = URLComponents(string: realm) else {
            throw .unexpectedAnswer(url: registry, status: 401, message: "a Bearer challenge without a realm")
        }
        var items = components.queryItems ?? []
        if let service = fields["service"] { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: fields["scope"] ?? scope))
        components.queryItems = items
        let url = components.string ?? realm
        client.authentication = .basic(user: user, password: password)
        let response = try send(url)
        guard response.status == 200 else {
            if response.status == 401 || response.status == 403 {
                throw .credentialsRefused(registry: registry, user: user, status: response.status)
            }
            throw .unexpectedAnswer(
                url: url, status: response.status, message: String(decoding: response.body.prefix(300), as: UTF8.self))
        }
        struct Token: Decodable {
            var token: String?
            var accessToken: String?
            enum CodingKeys: String, CodingKey { case token, accessToken = "access_token" }
        }
        guard let answer = try? JSONDecoder().decode(Token.self, from: Data(response.body)),
            let token = answer.token ?? answer.accessToken, !token.isEmpty
        else { throw .unexpectedAnswer(url: url, status: 200, message: "no token in the answer") }
        return token
    }

    private func send(_ url: String, headers: [HTTPHeader] = []) throws(RegistryError) -> HTTPResponse {
        do {
            return try client.send(HTTPRequest(.get, url, headers: headers, deadline: .seconds(30)))
        } catch {
            throw .unreachable(registry: registry, message: error.description)
        }
    }
}
