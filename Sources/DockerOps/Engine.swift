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

/// Where the Docker Engine is: a unix socket, from DOCKER_HOST or the default.
public struct DockerHost: Sendable, Equatable {
    public let socketPath: String

    public static let defaultSocket = "/var/run/docker.sock"

    public init(socketPath: String) { self.socketPath = socketPath }

    /// Reads DOCKER_HOST: `unix:///path` or unset (the default socket); any other scheme is refused.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(DockerOpsError) {
        guard let value = environment["DOCKER_HOST"], !value.isEmpty else {
            socketPath = Self.defaultSocket
            return
        }
        guard value.hasPrefix("unix://") else { throw .unsupportedHost(value) }
        let path = String(value.dropFirst("unix://".count))
        guard path.hasPrefix("/") else { throw .unsupportedHost(value) }
        socketPath = path
    }

    public var description: String { "unix://\(socketPath)" }
}

/// How long one Engine API call may take in all, from connecting to the answer's last byte,
/// by what the call does. A daemon that accepts and never answers ends a call with
/// `DockerOpsError.engineTimedOut` naming the call and the socket, never a hang.
public struct EngineDeadlines: Sendable, Equatable {
    /// Lists, inspections, creating, starting, killing and removing: answered in seconds.
    public var call: Duration
    /// `/system/df`, which walks every image layer and volume to size them.
    public var diskUsage: Duration
    /// Stopping a container: the daemon answers after the container's own stop timeout.
    public var stopMargin: Duration
    /// Moving a volume's files through a helper container (`/containers/…/archive`).
    public var volumeArchive: Duration
    /// Loading an image archive (`/images/load`): the daemon answers once every layer is unpacked.
    public var imageLoad: Duration

    public static let standard = EngineDeadlines(
        call: .seconds(30), diskUsage: .seconds(300), stopMargin: .seconds(30), volumeArchive: .seconds(4 * 3600),
        imageLoad: .seconds(3600))

    public init(
        call: Duration, diskUsage: Duration, stopMargin: Duration, volumeArchive: Duration, imageLoad: Duration
    ) {
        self.call = call
        self.diskUsage = diskUsage
        self.stopMargin = stopMargin
        self.volumeArchive = volumeArchive
        self.imageLoad = imageLoad
    }
}

/// The Docker Engine API over its socket, with the API version agreed with the daemon.
public final class Engine {
    /// The newest Engine API version DockerOps was written against.
    public static let newestSupportedAPI = "1.41"

    public let host: DockerHost
    /// The API version every call uses: the smaller of the daemon's and ours.
    public private(set) var apiVersion: String
    /// The daemon's own version, e.g. 20.10.24.
    public private(set) var engineVersion: String
    public let deadlines: EngineDeadlines
    private let client: HTTPClient

    /// Connects and negotiates the API version from `/version`.
    public init(host: DockerHost, deadlines: EngineDeadlines = .standard) throws(DockerOpsError) {
        self.host = host
        self.deadlines = deadlines
        client = Self.client(host)
        apiVersion = Self.newestSupportedAPI
        engineVersion = "unknown"
        if access(host.socketPath, F_OK) == 0, access(host.socketPath, R_OK | W_OK) != 0 {
            throw .permissionDenied(socket: host.socketPath)
        }
        let answer = try send(.get, "/version", versioned: false)
        let object = try? JSONValue(parsing: answer)
        guard let server = object?["ApiVersion"]?.string
        else { throw .unexpectedAnswer(call: "GET /version", message: "no ApiVersion") }
        engineVersion = object?["Version"]?.string ?? "unknown"
        apiVersion = Self.older(server, Self.newestSupportedAPI)
    }

    private init(host: DockerHost, deadlines: EngineDeadlines, apiVersion: String, engineVersion: String) {
        self.host = host
        self.deadlines = deadlines
        self.apiVersion = apiVersion
        self.engineVersion = engineVersion
        client = Self.client(host)
    }

    private static func client(_ host: DockerHost) -> HTTPClient {
        // Stopping a container answers only after its timeout: slow answers are normal here.
        HTTPClient(
            options: TransportOptions(
                unixSocketPath: host.socketPath, connectTimeout: .seconds(10), lowSpeedLimit: 0,
                lowSpeedTime: .seconds(3600), retry: .never, userAgent: "cwmigrate",
                maximumResponseBytes: 64 << 20))
    }

    /// Another connection to the same daemon with the API version already agreed, for a
    /// thread of its own: one Engine is one curl handle, which serves one thread at a time.
    func sibling() -> Engine {
        Engine(host: host, deadlines: deadlines, apiVersion: apiVersion, engineVersion: engineVersion)
    }

    /// The daemon's own ID (`/info` → `ID`): it names this Docker host across restarts.
    public func engineID() throws(DockerOpsError) -> String {
        let answer = try send(.get, "/info")
        guard let id = (try? JSONValue(parsing: answer))?["ID"]?.string, !id.isEmpty
        else { throw .unexpectedAnswer(call: "GET /info", message: "no ID") }
        return id
    }

    static func older(_ a: String, _ b: String) -> String {
        let parts = { (text: String) in text.split(separator: ".").map { Int($0) ?? 0 } }
        return parts(a).lexicographicallyPrecedes(parts(b)) ? a : b
    }

    /// A call's body on 2xx; an `engine` error with the daemon's message otherwise.
    @discardableResult
    func send(
        _ method: HTTPMethod, _ path: String, query: [String: String] = [:], json: JSONValue? = nil,
        headers extra: [HTTPHeader] = [], versioned: Bool = true, deadline: Duration? = nil
    ) throws(DockerOpsError) -> [UInt8] {
        let call = "\(method) \(path)"
        let deadline = deadline ?? deadlines.call
        let url = self.url(path, query: query, versioned: versioned)
        var body = HTTPBody.none
        var headers = extra
        if let json {
            body = .bytes(json.bytes)
            headers.append(HTTPHeader("Content-Type", "application/json"))
        }
        let response: HTTPResponse
        do {
            response = try client.send(
                HTTPRequest(method, url, headers: headers, body: body, retryable: false, deadline: deadline))
        } catch {
            throw failure(error, call: call)
        }
        guard response.isSuccess else {
            throw .engine(call: call, status: response.status, message: Self.message(response.body))
        }
        return response.body
    }

    /// Streams a file as the body (an image archive for /images/load).
    func upload(
        _ path: String, query: [String: String] = [:], file: String, contentType: String, deadline: Duration
    ) throws(DockerOpsError) -> [UInt8] {
        try send(file: file, .post, path, query: query, contentType: contentType, deadline: deadline)
    }

    /// Sends a file as the whole body, streamed.
    @discardableResult
    func send(
        file: String, _ method: HTTPMethod, _ path: String, query: [String: String] = [:],
        contentType: String = "application/x-tar", deadline: Duration
    ) throws(DockerOpsError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try client.send(
                HTTPRequest(
                    method, url(path, query: query, versioned: true), body: .file(path: file, contentType: contentType),
                    retryable: false, deadline: deadline))
        } catch {
            throw failure(error, call: "\(method) \(path)")
        }
        guard response.isSuccess else {
            throw .engine(call: "\(method) \(path)", status: response.status, message: Self.message(response.body))
        }
        return response.body
    }

    /// Streams a 2xx body to a file (a volume's tar from the archive endpoint).
    func download(_ path: String, query: [String: String] = [:], to file: String, deadline: Duration)
        throws(DockerOpsError)
    {
        try download(
            path, queryItems: query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) },
            to: file, deadline: deadline)
    }

    /// The same, with a query that may repeat a name (`/images/get?names=a&names=b`).
    func download(_ path: String, queryItems: [URLQueryItem], to file: String, deadline: Duration)
        throws(DockerOpsError)
    {
        let result: DownloadResult
        do {
            result = try client.download(
                HTTPRequest(.get, url(path, queryItems: queryItems, versioned: true), deadline: deadline), to: file)
        } catch {
            throw failure(error, call: "GET \(path)")
        }
        if case .rejected(let response) = result {
            throw .engine(call: "GET \(path)", status: response.status, message: Self.message(response.body))
        }
    }

    func decode<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod = .get, _ path: String, query: [String: String] = [:],
        deadline: Duration? = nil
    )
        throws(DockerOpsError) -> T
    {
        let body = try send(method, path, query: query, deadline: deadline)
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .unexpectedAnswer(call: "\(method) \(path)", message: "\(error)")
        }
    }

    private func url(_ path: String, query: [String: String], versioned: Bool) -> String {
        url(
            path, queryItems: query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) },
            versioned: versioned)
    }

    private func url(_ path: String, queryItems: [URLQueryItem], versioned: Bool) -> String {
        var components = URLComponents()
        components.scheme = "http"
        components.host = "localhost"
        components.path = (versioned ? "/v\(apiVersion)" : "") + path
        if !queryItems.isEmpty { components.queryItems = queryItems }
        // URLComponents leaves JSON's braces and quotes alone; libcurl wants them encoded.
        components.percentEncodedQuery = components.percentEncodedQuery?
            .replacing("{", with: "%7B").replacing("}", with: "%7D")
            .replacing("\"", with: "%22").replacing("[", with: "%5B")
            .replacing("]", with: "%5D").replacing(":", with: "%3A")
        return components.string ?? "http://localhost\(path)"
    }

    private func failure(_ error: HTTPError, call: String) -> DockerOpsError {
        if case .libraryUnavailable(let reason) = error { return .libraryUnavailable(reason: reason) }
        if case .deadlineExceeded(_, let limit) = error {
            return .engineTimedOut(call: call, socket: host.socketPath, seconds: Int(limit.components.seconds))
        }
        if case .couldNotConnect(_, let message) = error, message.lowercased().contains("permission denied") {
            return .permissionDenied(socket: host.socketPath)
        }
        return .unreachable(socket: host.socketPath, message: error.description)
    }

    /// The Engine's errors are `{"message": "…"}`.
    static func message(_ body: [UInt8]) -> String {
        if let message = (try? JSONValue(parsing: body))?["message"]?.string {
            return message
        }
        return String(decoding: body.prefix(500), as: UTF8.self).trimmingWhitespace
    }

    /// The `filters` query parameter: `{"label": ["k=v"]}`.
    static func filters(_ filters: [String: [String]]) -> String {
        JSONValue.object(filters.mapValues { .array($0.map(JSONValue.string)) }).text
    }
}
