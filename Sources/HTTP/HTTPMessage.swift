/// An HTTP method; only the idempotent ones are retried unless a request says otherwise.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public static let patch = HTTPMethod(rawValue: "PATCH")

    /// RFC 9110's idempotent methods: sending one twice does no more harm than once.
    public var isIdempotent: Bool { ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(rawValue) }
    public var description: String { rawValue }
}

/// One header line of a request or response.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What a request sends after its headers.
public enum HTTPBody: Sendable {
    case none
    case bytes([UInt8])
    /// A `multipart/form-data` body with one file part, streamed from disk while it is sent.
    case multipartFile(field: String, path: String, fileName: String, contentType: String)
    /// A file sent as the whole body, streamed (an image archive to the Docker Engine).
    case file(path: String, contentType: String)

    /// A UTF-8 text body, e.g. JSON.
    public static func text(_ text: String) -> HTTPBody { .bytes(Array(text.utf8)) }
}

/// A request: method, URL, extra headers and body. Credentials are not part of it;
/// they belong to the client (`HTTPClient.authentication`).
public struct HTTPRequest: Sendable, CustomStringConvertible {
    public var method: HTTPMethod
    public var url: String
    public var headers: [HTTPHeader]
    public var body: HTTPBody
    /// Whether a failed attempt may be sent again; defaults to the method's idempotency.
    public var isRetryable: Bool
    /// The longest one attempt may take from connecting to the answer's last byte; none when nil
    /// (a transfer of any size then runs as long as it moves, under the low-speed limit).
    public var deadline: Duration?

    public init(
        _ method: HTTPMethod = .get, _ url: String, headers: [HTTPHeader] = [], body: HTTPBody = .none,
        retryable: Bool? = nil, deadline: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.isRetryable = retryable ?? method.isIdempotent
        self.deadline = deadline
    }

    public var description: String { "\(method) \(redactedURL(url))" }
}

/// A complete answer whose body was kept in memory.
public struct HTTPResponse: Sendable {
    public var url: String
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(url: String, status: Int, headers: [HTTPHeader], body: [UInt8]) {
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The last value of a header, compared without regard to case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.last { $0.name.lowercased() == wanted }?.value
    }

    /// The body as text, with invalid UTF-8 replaced; for showing a server's message.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A body saved to disk by `HTTPClient.download`.
public struct DownloadedFile: Sendable {
    public var path: String
    public var bytes: Int64
    public var status: Int
    public var headers: [HTTPHeader]

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.last { $0.name.lowercased() == wanted }?.value
    }
}

/// How a download ended when the transfer itself worked: the file is in place, or the
/// server answered something other than 2xx and its (capped) answer is kept instead.
public enum DownloadResult: Sendable {
    case saved(DownloadedFile)
    case rejected(HTTPResponse)
}

/// Credentials for every request of a client. Never printed: the description names only the kind.
public enum Authentication: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    case none
    case basic(user: String, password: String)
    case bearer(String)

    public var description: String {
        switch self {
        case .none: "no authentication"
        case .basic(let user, _): "basic authentication as \(user)"
        case .bearer: "bearer token"
        }
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["kind": description]) }
}

/// A URL with any `user:password@` removed, for messages.
func redactedURL(_ url: String) -> String {
    let characters = Array(url)
    guard let colon = characters.firstIndex(of: ":"), characters.count > colon + 2,
        characters[colon + 1] == "/", characters[colon + 2] == "/"
    else { return url }
    let authorityStart = colon + 3
    var authorityEnd = authorityStart
    while authorityEnd < characters.count, !"/?#".contains(characters[authorityEnd]) { authorityEnd += 1 }
    guard let at = characters[authorityStart..<authorityEnd].lastIndex(of: "@") else { return url }
    return String(characters[..<authorityStart]) + String(characters[(at + 1)...])
}
