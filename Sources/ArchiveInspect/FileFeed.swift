import Dispatch
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
import Vocabulary

/// Feeds an archive file to libarchive in large blocks. When verifying, each block read is
/// also handed to a second thread that hashes it, so `--verify` reads the file once and the
/// digest runs beside the decompression instead of before it.
final class FileFeed {
    /// Large blocks when every byte is read (fewer calls, the hasher keeps pace); smaller
    /// ones for a quick look, which usually needs only the archive's first entries.
    static func blockSize(hashing: Bool) -> Int { hashing ? 1 << 20 : 256 << 10 }

    let path: String
    private let fd: Int32
    private let slots: [UnsafeMutableRawBufferPointer]
    private let hashing: HashBehind?
    /// Bytes of the file handed to libarchive (or skipped) so far.
    private(set) var consumed: Int64 = 0
    /// The errno of a failed read, kept because libarchive only learns "-1".
    private(set) var readFailure: Int32?
    /// Set when the feed itself decompresses gzip (to check its CRC); libarchive then sees plain tar.
    let gzip: GzipDecoder?
    /// Told the bytes of the file read so far, when someone watches a long read.
    var meter: ProgressMeter?

    init(path: String, hashing: Bool) throws(ArchiveInspectError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveInspectError.opening(path, errno: errno) }
        // A block may be read over only when the hasher is done with it and libarchive has
        // moved on (it may keep a block until its next read call), so hashing behind needs several.
        let count = hashing ? 4 : 1
        let size = Self.blockSize(hashing: hashing)
        slots = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
        // Verification decompresses gzip here so that its CRC-32 is checked.
        var magic: [UInt8] = [0, 0]
        let isGzip = pread(fd, &magic, 2, 0) == 2 && magic == [0x1f, 0x8b]
        gzip = hashing && isGzip ? GzipDecoder() : nil
        self.hashing = hashing ? HashBehind(fd: fd, slots: slots) : nil
    }

    deinit {
        hashing?.stop()
        close(fd)
        for slot in slots { slot.deallocate() }
    }

    /// The next block for libarchive: decompressed when the feed checks gzip itself.
    /// Nil at the end, or on error (see `failure`).
    func nextBlock() -> UnsafeRawBufferPointer? {
        guard let gzip else { return nextRawBlock() }
        return gzip.next { nextRawBlock() }
    }

    /// Why the last `nextBlock` returned nil early, if it did.
    var failure: String? {
        if let readFailure { return "reading the file failed: " + String(cString: strerror(readFailure)) }
        return gzip?.failure
    }

    /// Bytes of the file consumed by decoding, when the feed decodes; else nil.
    var decodedOffset: Int64? { gzip?.consumed }

    /// Reads the rest of the gzip data so its last CRC is checked even when the tar
    /// archive ended before it; nil when all is well.
    func finishDecoding() -> String? {
        guard gzip != nil else { return nil }
        while nextBlock() != nil {}
        return failure
    }

    private func nextRawBlock() -> UnsafeRawBufferPointer? {
        let block: UnsafeRawBufferPointer
        if let hashing {
            switch hashing.next() {
            case .block(let next): block = next
            case .end: return nil
            case .failed(let code):
                readFailure = code
                return nil
            }
        } else {
            let slot = slots[0]
            var n: Int
            repeat { n = read(fd, slot.baseAddress, slot.count) } while n < 0 && errno == EINTR
            if n < 0 { readFailure = errno }
            guard n > 0 else { return nil }
            block = UnsafeRawBufferPointer(rebasing: slot[0..<n])
        }
        consumed += Int64(block.count)
        meter?.update(bytes: consumed)
        return block
    }

    /// Moves past `count` bytes without reading them; only when not hashing.
    func skip(_ count: Int64) -> Int64 {
        guard hashing == nil, count > 0 else { return 0 }
        guard lseek(fd, off_t(count), SEEK_CUR) >= 0 else { return 0 }
        consumed += count
        meter?.update(bytes: consumed)
        return count
    }

    var canSkip: Bool { hashing == nil }

    /// Reads what libarchive left after the end of the archive, then returns the file's SHA-256.
    func finishHashing() throws(ArchiveInspectError) -> String? {
        guard let hashing else { return nil }
        while nextRawBlock() != nil {}
        if let readFailure {
            throw ArchiveInspectError.unreadable(path, reason: String(cString: strerror(readFailure)))
        }
        return hashing.digest()
    }
}

/// Reads the file into a ring of blocks on the caller's thread and hashes each block on a
/// thread of its own while the caller decompresses it.
///
/// With igzip the decompressing thread has time to spare and SHA-256 has none (it alone
/// takes about bsdtar's whole time), so the `read` copy runs with the decompression and the
/// second thread only hashes.
///
/// Block k goes into slot k % count, and only after the hasher is done with block k - count
/// (`free` counts the slots the hasher has finished with). libarchive and the gzip decoder
/// keep a block at most until they ask for the next one, so block k - count is theirs no more.
private final class HashBehind: @unchecked Sendable {
    enum Next {
        case block(UnsafeRawBufferPointer)
        case end
        case failed(errno: Int32)
    }

    private let fd: Int32
    private let slots: [UnsafeMutableRawBufferPointer]
    // What read(2) returned for each slot (-errno on failure, `stopped` when the reader
    // stops early), written before `filled` is signalled and read after it is waited on.
    private let lengths: UnsafeMutablePointer<Int>
    private static let stopped = Int.min
    // All start at zero: libdispatch refuses to dispose of a semaphore whose count is
    // below the one it was created with. `free` is signalled once per slot to begin with.
    private let free = DispatchSemaphore(value: 0)
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var result: String?

    // The caller's side.
    private var nextIndex = 0
    private var ended = false
    private var finished = false

    init(fd: Int32, slots: [UnsafeMutableRawBufferPointer]) {
        self.fd = fd
        self.slots = slots
        lengths = .allocate(capacity: slots.count)
        lengths.initialize(repeating: 0, count: slots.count)
        for _ in slots { free.signal() }
        // A serial queue of its own: the thread blocks on `filled`, so it gets a thread to itself.
        DispatchQueue(label: "cwmigrate-sha256").async { [self] in run() }
    }

    deinit { lengths.deallocate() }

    /// Reads the next block of the file and hands it to the hasher.
    func next() -> Next {
        if ended { return .end }
        let index = nextIndex
        free.wait()
        let slot = slots[index]
        var n: Int
        repeat { n = read(fd, slot.baseAddress, slot.count) } while n < 0 && errno == EINTR
        let failure = errno
        lengths[index] = n < 0 ? -Int(failure) : n
        filled.signal()
        nextIndex = (index + 1) % slots.count
        guard n > 0 else {
            ended = true
            return n == 0 ? .end : .failed(errno: failure)
        }
        return .block(UnsafeRawBufferPointer(rebasing: slot[0..<n]))
    }

    /// The SHA-256 of the whole file, once `next` has returned the end.
    func digest() -> String {
        precondition(ended, "the digest is known only after the whole file was read")
        finish()
        return result ?? ""
    }

    /// Ends the hasher, wherever it is, and waits for it; safe to call more than once.
    func stop() {
        if !ended {
            // Like a block: the hasher meets it after the blocks before it, in order.
            free.wait()
            lengths[nextIndex] = Self.stopped
            filled.signal()
            ended = true
        }
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        done.wait()
    }

    private func run() {
        let hasher = SHA256Hasher()
        var index = 0
        while true {
            filled.wait()
            let n = lengths[index]
            guard n > 0 else {
                if n == 0 { result = hasher.finalize() }
                break
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: slots[index][0..<n]))
            free.signal()
            index = (index + 1) % slots.count
        }
        done.signal()
    }
}
