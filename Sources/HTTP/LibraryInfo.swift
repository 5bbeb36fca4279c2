import CCurl

/// The libcurl this process runs with (the shared library loaded, not the headers built against).
public struct CurlLibraryInfo: Sendable, Equatable, Codable {
    public let version: String
    /// The TLS library libcurl uses, e.g. "OpenSSL/3.0.15"; nil when built without TLS.
    public let tls: String?
    public let zlib: String?
    public let protocols: [String]
    /// Why libcurl cannot be loaded on this host; nil (and absent from JSON) when it is.
    public let unavailable: String?

    public init(version: String, tls: String?, zlib: String?, protocols: [String], unavailable: String? = nil) {
        self.version = version
        self.tls = tls
        self.zlib = zlib
        self.protocols = protocols
        self.unavailable = unavailable
    }

    public static func current() -> CurlLibraryInfo {
        if let reason = CurlLibrary.unavailable {
            return CurlLibraryInfo(version: "not loaded", tls: nil, zlib: nil, protocols: [], unavailable: reason)
        }
        // CURLVERSION_NOW is a macro Swift does not import; it is always the member before _LAST.
        let now = CURLversion(rawValue: CURLVERSION_LAST.rawValue - 1)
        guard let info = curl_version_info(now)?.pointee else {
            return CurlLibraryInfo(version: "unknown", tls: nil, zlib: nil, protocols: [])
        }
        var protocols: [String] = []
        if var cursor = info.protocols {
            while let name = cursor.pointee {
                protocols.append(String(cString: name))
                cursor += 1
            }
        }
        return CurlLibraryInfo(
            version: info.version.map { String(cString: $0) } ?? "unknown",
            tls: info.ssl_version.map { String(cString: $0) },
            zlib: info.libz_version.map { String(cString: $0) },
            protocols: protocols)
    }
}
