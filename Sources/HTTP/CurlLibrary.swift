import CCurl

/// libcurl is opened on first use, not at start-up (CCurl's loader.c): a command that sends
/// no request does not load it, nor the TLS, HTTP/2, IDN, SSH, Kerberos and LDAP libraries it
/// brings. So a host without it fails at the first request, and this says why.
enum CurlLibrary {
    /// Why libcurl cannot be used, or nil when it is loaded and initialised.
    static var unavailable: String? { readiness }
}

/// Loading and curl_global_init, once per process: curl_global_init is not thread-safe, and a
/// global's lazy initialiser runs exactly once.
private let readiness: String? = {
    if let reason = cwm_curl_load() { return String(cString: reason) }
    let code = curl_global_init(cw_global_all())
    guard code == CURLE_OK else {
        return "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))"
    }
    return nil
}()
