import CCurl

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The state of one request while libcurl runs it: where the body goes, the headers seen
/// so far, progress, and the first failure a callback ran into.
final class Transfer {
    enum Sink {
        case memory(limit: Int)
        /// A 2xx body goes to the file; any other answer's body is kept in memory, capped.
        case file(fd: Int32, path: String, errorBodyLimit: Int)
    }

    let url: String
    let sink: Sink
    let direction: TransferDirection
    let reporter: (any TransferProgressReporter)?
    let handle: UnsafeMutableRawPointer

    var headers: [HTTPHeader] = []
    var body: [UInt8] = []
    var bytesWritten: Int64 = 0
    /// The response code when the first body byte arrived, i.e. of the final response.
    var bodyStatus: Int?
    var failure: HTTPError?

    private let meter: ProgressMeter?

    init(
        url: String, sink: Sink, direction: TransferDirection, reporter: (any TransferProgressReporter)?,
        handle: UnsafeMutableRawPointer
    ) {
        self.url = url
        self.sink = sink
        self.direction = direction
        self.reporter = reporter
        self.handle = handle
        self.meter = reporter.map { ProgressMeter(direction: direction, reporter: $0) }
    }

    /// Forgets a failed attempt so the next one starts clean (an empty file, no headers).
    func prepareAttempt() throws(HTTPError) {
        headers = []
        body = []
        bytesWritten = 0
        bodyStatus = nil
        failure = nil
        meter?.restart()
        if case .file(let fd, let path, _) = sink {
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                throw .file(path: path, message: errnoMessage())
            }
        }
    }

    var isSavingToFile: Bool {
        guard case .file = sink, let bodyStatus else { return false }
        return (200..<300).contains(bodyStatus)
    }

    /// Bytes of body received in this attempt, wherever they went.
    var receivedBytes: Int64 { isSavingToFile ? bytesWritten : Int64(body.count) }

    func receive(_ buffer: UnsafeRawBufferPointer) -> Int {
        if bodyStatus == nil {
            var code = 0
            _ = cw_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            bodyStatus = code
        }
        switch sink {
        case .memory(let limit):
            guard body.count + buffer.count <= limit else {
                failure = .responseTooLarge(url: url, limit: limit)
                return 0
            }
            body.append(contentsOf: buffer)
        case .file(let fd, let path, let errorBodyLimit):
            guard isSavingToFile else {
                // Keep the start of an error page for the operator; drop the rest quietly.
                let room = max(0, errorBodyLimit - body.count)
                body.append(contentsOf: buffer.prefix(room))
                return buffer.count
            }
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .file(path: path, message: errnoMessage())
                    return 0
                }
                offset += n
            }
            let handedOver = bytesWritten / writebackWindow * writebackWindow
            bytesWritten += Int64(buffer.count)
            if bytesWritten - handedOver >= writebackWindow {
                startWriteback(fd: fd, from: handedOver, to: bytesWritten / writebackWindow * writebackWindow)
            }
        }
        return buffer.count
    }

    /// Hands the disk the windows of the file that just filled, without waiting for them. The
    /// download ends with an fsync, which would otherwise find the whole file dirty in memory and
    /// write all of it then (0.5-0.7 s for 1 GiB here, after the last byte arrived); written a
    /// window at a time while the rest still comes in, the fsync finds little left to do. The
    /// pages stay cached for whoever reads the download next (a verify). Nothing to do on tmpfs,
    /// where the kernel returns at once.
    private func startWriteback(fd: Int32, from start: Int64, to end: Int64) {
        guard let syncFileRange else { return }
        _ = syncFileRange(fd, off_t(start), off_t(end - start), syncFileRangeWrite)
    }

    func receiveHeader(_ buffer: UnsafeRawBufferPointer) {
        var line = String(decoding: buffer, as: UTF8.self)
        while line.last == "\n" || line.last == "\r" || line.last == "\r\n" { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, say): the headers before it were not the answer's.
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append(HTTPHeader(name, String(value)))
        }
    }

    func tick(downloadTotal: Int64, downloaded: Int64, uploadTotal: Int64, uploaded: Int64) {
        guard let meter else { return }
        if direction == .download, case .file = sink, !isSavingToFile { return }
        if direction == .download {
            meter.update(bytes: downloaded, total: downloadTotal > 0 ? downloadTotal : nil)
        } else {
            meter.update(bytes: uploaded, total: uploadTotal > 0 ? uploadTotal : nil)
        }
    }

    /// The last report: the whole transfer's average rate.
    func finish() {
        meter?.finish(bytes: direction == .download ? receivedBytes : nil)
    }
}

// libcurl calls these with the Transfer passed as its user pointer.

let receiveBody: curl_write_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    return transfer.receive(UnsafeRawBufferPointer(start: buffer, count: size * count))
}

let receiveHeader: curl_write_callback = { buffer, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    transfer.receiveHeader(UnsafeRawBufferPointer(start: buffer, count: size * count))
    return size * count
}

let reportProgress: curl_xferinfo_callback = { context, downloadTotal, downloaded, uploadTotal, uploaded in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    transfer.tick(
        downloadTotal: Int64(downloadTotal), downloaded: Int64(downloaded), uploadTotal: Int64(uploadTotal),
        uploaded: Int64(uploaded))
    return 0
}

/// Bytes of a download written before they are handed to the disk (see `startWriteback`).
let writebackWindow: Int64 = 8 << 20

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing the range, waits for nothing and
/// drops nothing from the page cache. A GNU extension that Swift's Glibc module does not import,
/// hence looked up by name; nil where the C library has none (not Linux), and then the fsync
/// at the end does all the writing, as before.
private let syncFileRange: (@convention(c) (Int32, off_t, off_t, UInt32) -> Int32)? = {
    #if canImport(Glibc)
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, off_t, off_t, UInt32) -> Int32).self)
    #else
        return nil
    #endif
}()
private let syncFileRangeWrite: UInt32 = 2  // SYNC_FILE_RANGE_WRITE in <fcntl.h>

func errnoMessage(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
