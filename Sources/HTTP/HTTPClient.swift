import CCurl
import SafeFiles
import Vocabulary

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bytes libcurl reads from an upload's file and hands to send(2) at a time.
let uploadBufferSize = 256 << 10

/// An HTTP(S) client owning one libcurl easy handle, reused between requests so the
/// connection is kept alive. One request at a time; not for sharing between threads.
public final class HTTPClient {
    public let options: TransportOptions
    /// Sent with every request; set a bearer token here after logging in.
    public var authentication: Authentication

    /// The easy handle, or why there is none: libcurl is opened here, on first use (CCurl's
    /// loader), and a host without it learns so from the first request, not from a crash.
    private let easy: Result<UnsafeMutableRawPointer, HTTPError>
    private let errorBuffer: UnsafeMutablePointer<CChar>

    public init(options: TransportOptions = TransportOptions(), authentication: Authentication = .none) {
        if let reason = CurlLibrary.unavailable {
            easy = .failure(.libraryUnavailable(reason: reason))
        } else if let handle = curl_easy_init() {
            easy = .success(handle)
        } else {
            easy = .failure(.libraryUnavailable(reason: "curl_easy_init could not allocate a handle (out of memory)"))
        }
        self.options = options
        self.authentication = authentication
        self.errorBuffer = .allocate(capacity: Int(cw_error_size()))
        errorBuffer.initialize(repeating: 0, count: Int(cw_error_size()))
    }

    deinit {
        if case .success(let handle) = easy { curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }

    /// Sends a request and returns the answer, whatever its status; only a failed transfer throws.
    /// The body is kept in memory up to `options.maximumResponseBytes`.
    public func send(
        _ request: HTTPRequest, progress: (any TransferProgressReporter)? = nil
    ) throws(HTTPError) -> HTTPResponse {
        let direction: TransferDirection =
            switch request.body {
            case .multipartFile, .file: .upload
            case .none, .bytes: .download
            }
        let transfer = try perform(
            request, sink: .memory(limit: options.maximumResponseBytes), direction: direction, progress: progress)
        return HTTPResponse(
            url: redactedURL(request.url), status: transfer.bodyStatus ?? responseCode(), headers: transfer.headers,
            body: transfer.body)
    }

    /// Sends a request whose body is a streamed multipart file, reporting upload progress.
    public func upload(
        _ request: HTTPRequest, progress: (any TransferProgressReporter)? = nil
    ) throws(HTTPError) -> HTTPResponse {
        try send(request, progress: progress)
    }

    /// Streams a 2xx body to `path`: written to `path.part` (mode 0600), fsynced, and renamed
    /// into place only when complete. On any failure no file is left at either name. A non-2xx
    /// answer is returned as `.rejected` with the start of its body.
    public func download(
        _ request: HTTPRequest, to path: String, replacing: Bool = false,
        progress: (any TransferProgressReporter)? = nil
    ) throws(HTTPError) -> DownloadResult {
        let file: PendingFile
        do {
            file = try OutputFile.create(path, mode: 0o600, replacing: replacing, temporarySuffix: ".part")
        } catch {
            throw .file(path: error.path, message: error.reason)
        }
        let fd = file.descriptor
        let partPath = file.temporaryPath
        defer { file.discard() }

        let transfer = try perform(
            request, sink: .file(fd: fd, path: partPath, errorBodyLimit: options.maximumErrorBodyBytes),
            direction: .download, progress: progress)
        let status = transfer.bodyStatus ?? responseCode()
        guard (200..<300).contains(status) else {
            return .rejected(
                HTTPResponse(
                    url: redactedURL(request.url), status: status, headers: transfer.headers, body: transfer.body))
        }
        var expected: curl_off_t = -1
        _ = cw_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected)
        if expected >= 0, Int64(expected) != transfer.bytesWritten {
            throw .partialTransfer(
                url: redactedURL(request.url), received: transfer.bytesWritten, expected: Int64(expected))
        }
        do {
            try file.commit()
        } catch {
            throw .file(path: error.path, message: error.reason)
        }
        return .saved(
            DownloadedFile(path: path, bytes: transfer.bytesWritten, status: status, headers: transfer.headers))
    }

    /// Only reached after `perform` found a handle: every request starts there.
    private var handle: UnsafeMutableRawPointer {
        switch easy {
        case .success(let handle): handle
        case .failure: preconditionFailure("libcurl was used without an easy handle")
        }
    }

    // MARK: - Running a request

    private func perform(
        _ request: HTTPRequest, sink: Transfer.Sink, direction: TransferDirection,
        progress: (any TransferProgressReporter)?
    ) throws(HTTPError) -> Transfer {
        if case .failure(let error) = easy { throw error }
        try checkFiles(of: request)
        let transfer = Transfer(
            url: redactedURL(request.url), sink: sink, direction: direction, reporter: progress, handle: handle)
        defer { transfer.finish() }
        var attempt = 1
        while true {
            try transfer.prepareAttempt()
            let mayRetry = request.isRetryable && attempt < options.retry.attempts
            let started = ContinuousClock.now
            do throws(HTTPError) {
                do throws(HTTPError) {
                    try performOnce(request, transfer)
                } catch {
                    logCall(request, outcome: "failed: \(error.description)", since: started)
                    throw error
                }
                let status = transfer.bodyStatus ?? responseCode()
                logCall(request, outcome: String(status), since: started)
                guard mayRetry, [502, 503, 504].contains(status) else { return transfer }
                let delay = options.retry.delay(after: attempt)
                pause(retryAfter(transfer.headers).map { min($0, options.retry.backoffMax) } ?? delay)
            } catch {
                guard mayRetry, error.isConnectionFailure else { throw error }
                pause(options.retry.delay(after: attempt))
            }
            attempt += 1
        }
    }

    /// One attempt, for `--verbose`: method, URL without credentials (the path alone on the
    /// Docker socket), the status or failure and the time taken; never a header or a body.
    private func logCall(_ request: HTTPRequest, outcome: @autoclosure () -> String, since started: ContinuousClock.Instant) {
        guard CallLog.isEnabled else { return }
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let url = redactedURL(request.url)
        let (label, target): (String, String) =
            options.unixSocketPath != nil
            ? ("docker", url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" }.description) : ("http", url)
        CallLog.record("\(label): \(request.method) \(target.isEmpty ? url : target) -> \(outcome()) in \(milliseconds) ms")
    }

    private func performOnce(_ request: HTTPRequest, _ transfer: Transfer) throws(HTTPError) {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        var headerList: UnsafeMutablePointer<curl_slist>?
        var mime: OpaquePointer?
        var bodyFile: UnsafeMutablePointer<FILE>?
        defer {
            if let bodyFile { fclose(bodyFile) }
            if mime != nil {
                _ = cw_setopt_mime(handle, nil)
                curl_mime_free(mime)
            }
            curl_slist_free_all(headerList)
        }
        try configureTransport()
        try set(CURLOPT_TIMEOUT_MS, request.deadline.map { max(1, Int($0.milliseconds)) } ?? 0)
        try set(CURLOPT_URL, request.url)
        try configureAuthentication()

        var headers = request.headers
        switch request.body {
        case .none:
            if request.method == .get {
                try set(CURLOPT_HTTPGET, 1)
            } else if request.method == .head {
                try set(CURLOPT_NOBODY, 1)
            } else if request.method == .post {
                try setBody([], headers: &headers)
            } else {
                try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
        case .bytes(let bytes):
            try setBody(bytes, headers: &headers)
            if request.method != .post { try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
        case .multipartFile(let field, let path, let fileName, let contentType):
            mime = curl_mime_init(handle)
            let part = curl_mime_addpart(mime)
            // curl_mime_filedata streams the file while sending; it is never read into memory.
            try check(curl_mime_name(part, field))
            try check(curl_mime_filedata(part, path))
            try check(curl_mime_filename(part, fileName))
            try check(curl_mime_type(part, contentType))
            try check(cw_setopt_mime(handle, mime))
            if request.method != .post { try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
        case .file(let path, let contentType):
            // Without a read callback libcurl freads the FILE* given as READDATA.
            guard let file = fopen(path, "rb") else { throw .file(path: path, message: errnoMessage()) }
            bodyFile = file
            var info = stat()
            guard fstat(fileno(file), &info) == 0 else { throw .file(path: path, message: errnoMessage()) }
            try set(CURLOPT_UPLOAD, 1)
            try check(cw_setopt_pointer(handle, CURLOPT_READDATA, UnsafeMutableRawPointer(file)))
            try check(cw_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(info.st_size)))
            try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            headers.append(HTTPHeader("Content-Type", contentType))
            headers.append(HTTPHeader("Expect", ""))
        }
        for header in headers {
            // "Name:" with nothing after it tells libcurl to drop a header it would add itself.
            let line = header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)"
            headerList = curl_slist_append(headerList, line)
        }
        if headerList != nil { try check(cw_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)) }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try check(cw_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, receiveBody))
        try check(cw_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(cw_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, receiveHeader))
        try check(cw_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        if transfer.reporter != nil {
            try set(CURLOPT_NOPROGRESS, 0)
            try check(cw_setopt_xferinfo_callback(handle, reportProgress))
            try check(cw_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        }

        let code = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        guard code == CURLE_OK else { throw error(for: code, request, transfer) }
    }

    private func configureTransport() throws(HTTPError) {
        try check(cw_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_USERAGENT, options.userAgent)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout.milliseconds))
        try set(CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit)
        try set(CURLOPT_LOW_SPEED_TIME, max(1, Int(options.lowSpeedTime.components.seconds)))
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        // A larger receive buffer means fewer write(2) calls on multi-GiB downloads.
        // libcurl 7.88 refuses a new size (CURLE_BAD_FUNCTION_ARGUMENT) while the handle still holds
        // the buffer of an attempt that failed early, as a host that does not resolve leaves it; that
        // buffer is already this size, so a retry goes on without it.
        let sized = cw_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 << 10)
        if sized != CURLE_BAD_FUNCTION_ARGUMENT { try check(sized) }
        // Uploads are sent from a 256 KiB buffer instead of libcurl's (and the curl CLI's) 64 KiB:
        // a 1 GiB upload takes 4,096 sends instead of 16,384, for less CPU on the core it shares
        // with the server. A 1 MiB buffer cost as little CPU but, on an idle machine, left the
        // server waiting between the large sends: 0.90x curl's pace at 1 GiB and 0.86x at 4 GiB,
        // where 256 KiB kept 0.99x and 0.98x (BENCHMARKS.md, Transfers, branch xfer).
        // libcurl allocates it only for a request with a body to send.
        try set(CURLOPT_UPLOAD_BUFFERSIZE, uploadBufferSize)
        if let path = options.caCertificatePath { try set(CURLOPT_CAINFO, path) }
        if options.insecure {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let path = options.unixSocketPath {
            try set(CURLOPT_UNIX_SOCKET_PATH, path)
            // A local socket is never reached through a proxy from the environment.
            try set(CURLOPT_NOPROXY, "*")
        }
    }

    private func configureAuthentication() throws(HTTPError) {
        switch authentication {
        case .none:
            break
        case .basic(let user, let password):
            try set(CURLOPT_HTTPAUTH, cw_auth_basic())
            try set(CURLOPT_USERNAME, user)
            try set(CURLOPT_PASSWORD, password)
        case .bearer(let token):
            try set(CURLOPT_HTTPAUTH, cw_auth_bearer())
            try set(CURLOPT_XOAUTH2_BEARER, token)
        }
    }

    private func setBody(_ bytes: [UInt8], headers: inout [HTTPHeader]) throws(HTTPError) {
        try check(cw_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)))
        // COPYPOSTFIELDS copies, so the array need not outlive this call.
        let code = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map {
                cw_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0))
            }
                ?? cw_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
        }
        try check(code)
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            // libcurl would claim a form; an unnamed body is just bytes.
            headers.append(HTTPHeader("Content-Type", bytes.isEmpty ? "" : "application/octet-stream"))
        }
    }

    /// Files the request needs are checked first, so a missing one is named as such,
    /// not reported as a TLS or read error in the middle of a transfer.
    private func checkFiles(of request: HTTPRequest) throws(HTTPError) {
        if let path = options.caCertificatePath, access(path, R_OK) != 0 {
            throw .file(path: path, message: "cannot read the CA certificate file: \(errnoMessage())")
        }
        if case .multipartFile(_, let path, _, _) = request.body {
            try checkReadableFile(path)
        }
        if case .file(let path, _) = request.body {
            try checkReadableFile(path)
        }
    }

    private func checkReadableFile(_ path: String) throws(HTTPError) {
        var info = stat()
        guard stat(path, &info) == 0, access(path, R_OK) == 0 else {
            throw .file(path: path, message: errnoMessage())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .file(path: path, message: "not a regular file") }
    }

    // MARK: - libcurl results

    private func error(for code: CURLcode, _ request: HTTPRequest, _ transfer: Transfer) -> HTTPError {
        if let failure = transfer.failure { return failure }
        let url = redactedURL(request.url)
        let message = curlMessage(code)
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidURL(url, message: message)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .couldNotResolve(url: url, message: message)
        case CURLE_COULDNT_CONNECT:
            return .couldNotConnect(url: url, message: message)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED:
            return .tlsFailure(url: url, message: message)
        case CURLE_OPERATION_TIMEDOUT:
            var connectTime: curl_off_t = 0
            _ = cw_getinfo_off(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
            var total: curl_off_t = 0
            _ = cw_getinfo_off(handle, CURLINFO_TOTAL_TIME_T, &total)
            if let deadline = request.deadline, Int64(total) / 1000 + 100 >= deadline.milliseconds {
                return .deadlineExceeded(url: url, limit: deadline)
            }
            if connectTime == 0 {
                return .timedOut(url: url, what: "connecting (limit \(options.connectTimeout.milliseconds) ms)")
            }
            return .timedOut(
                url: url,
                what: "waiting for data (below \(options.lowSpeedLimit) bytes/s for "
                    + "\(options.lowSpeedTime.components.seconds) s)")
        case CURLE_PARTIAL_FILE:
            var expected: curl_off_t = -1
            _ = cw_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected)
            return .partialTransfer(
                url: url, received: transfer.receivedBytes, expected: expected >= 0 ? Int64(expected) : nil)
        case CURLE_READ_ERROR:
            if case .multipartFile(_, let path, _, _) = request.body {
                return .file(path: path, message: "could not be read while uploading: \(message)")
            }
            if case .file(let path, _) = request.body {
                return .file(path: path, message: "could not be read while uploading: \(message)")
            }
            return .transferFailed(url: url, curlCode: Int(code.rawValue), message: message)
        default:
            return .transferFailed(url: url, curlCode: Int(code.rawValue), message: message)
        }
    }

    private func curlMessage(_ code: CURLcode) -> String {
        var text = String(cString: errorBuffer)
        if text.isEmpty { text = String(cString: curl_easy_strerror(code)) }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private func responseCode() -> Int {
        var code = 0
        _ = cw_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPError) {
        try check(cw_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPError) {
        try check(cw_setopt_string(handle, option, value))
    }

    private func check(_ code: CURLcode) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw .transferFailed(
                url: "(setup)", curlCode: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }
}

/// Retry-After in seconds (the date form is rare on these APIs and is ignored).
private func retryAfter(_ headers: [HTTPHeader]) -> Duration? {
    guard let value = headers.last(where: { $0.name.lowercased() == "retry-after" })?.value,
        let seconds = Int(value.trimmingSpaces), seconds >= 0
    else { return nil }
    return .seconds(min(seconds, 60))
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
